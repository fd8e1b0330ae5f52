"""Benchmark of the DB -> search engine indexing pipeline, against a naive peer, on a real OpenSearch node.

Measures, on generated contents (a fifth of them labelled in a 200-category dataset):
- full rebuild (docs/s) against a bare `helpers.bulk` of the same documents from memory into the same node;
- realtime lag p50/p99 (change committed -> document readable by GET) at 100 / 500 / 1,000 changes/s;
- latency a write costs: no indexing, ours (the outbox trigger), the peer (a post_save signal indexing inside
  the request with refresh, as django-elasticsearch-dsl does by default);
- a 30 s node outage under write load: documents lost or stale afterwards, ours and the peer's.
Writes bench/results/indexing.md and .json.

Run from the project root:  scripts/with-services.sh .venv/bin/python bench/indexing.py [--contents N] ...
It starts its own search node (scripts/search-node.sh) so it can stop it for the outage.
"""

import argparse
import json
import logging
import os
import queue
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORDS = [
    "저출산",
    "고령화",
    "대책",
    "청년",
    "일자리",
    "창출",
    "부동산",
    "정책",
    "교통",
    "안전",
    "보건",
    "복지",
    "교육",
    "개혁",
    "환경",
    "미세먼지",
    "국민연금",
    "건강보험",
    "어린이집",
    "보육",
    "반려동물",
    "인권",
    "행정",
    "외교",
    "통일",
    "경제",
    "민생",
    "문화",
    "예술",
    "체육",
    "space",
    "shuttle",
    "launch",
    "orbit",
    "hockey",
    "playoff",
    "graphics",
    "driver",
    "encryption",
    "key",
    "medicine",
    "doctor",
    "election",
    "government",
    "religion",
    "atheism",
    "motorcycle",
    "engine",
    "window",
    "server",
    "disk",
    "sale",
]


def _arguments(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contents", type=int, default=1_000_000, help="contents generated (1,000,000)")
    parser.add_argument("--rates", default="100,500,1000", help="realtime change rates per second")
    parser.add_argument("--seconds", type=float, default=120, help="seconds of load per rate (120)")
    parser.add_argument("--outage", type=float, default=30, help="seconds the node is down (30)")
    parser.add_argument("--writes", type=int, default=300, help="writes per write-latency variant (300)")
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--strict", action="store_true", help="exit 2 when a target is missed")
    parser.add_argument("--drain", help=argparse.SUPPRESS)  # internal: the drainer process
    parser.add_argument("--write", help=argparse.SUPPRESS)  # internal: the writer process
    return parser.parse_args(argv)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Node:
    """A search node of the benchmark's own (it stops it for the outage)."""

    def __init__(self):
        self.port = _free_port()
        self.home = Path(tempfile.mkdtemp(prefix="bunryu-bench-node-"))
        self.url = f"opensearch://127.0.0.1:{self.port}"
        self.process = None

    def start(self) -> float:
        from indexing.engine import EngineError, engine_from_url

        started = time.perf_counter()
        log = (self.home.parent / f"{self.home.name}.log").open("a")
        self.process = subprocess.Popen(
            [ROOT / "scripts/search-node.sh", str(self.port), str(self.home)],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        probe = engine_from_url(self.url, timeout=2)
        while True:
            try:
                probe.health()
                return time.perf_counter() - started
            except EngineError:
                if self.process.poll() is not None:
                    raise RuntimeError("the search node exited") from None
                time.sleep(0.1)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=60)


def _say(message):
    from bench.common import say

    say(message)


def _generate(contents: int) -> dict:
    """Contents by COPY, a fifth of them examples of one dataset with 20 x 10 categories."""
    from django.db import connection
    from django.utils import timezone

    from labeling.models import Category, Content, Dataset, Taxonomy

    rng = random.Random(18)
    taxonomy = Taxonomy.objects.create(name="bench-indexing")
    smalls = []
    for large_number in range(20):
        large = Category.objects.create(taxonomy=taxonomy, level=1, name=f"대분류 {large_number}")
        smalls += [
            Category.objects.create(
                taxonomy=taxonomy, level=2, parent=large, name=f"소분류 {large_number}-{n}"
            )
            for n in range(10)
        ]
    dataset = Dataset.objects.create(name="bench-indexing", taxonomy=taxonomy)
    now = timezone.now()
    started = time.perf_counter()
    with connection.cursor() as cursor:
        columns = "external_id, title, body, source, text_hash, created_at, modified_at"
        with cursor.cursor.copy(f"COPY labeling_content ({columns}) FROM STDIN") as copy:
            for n in range(contents):
                title = " ".join(rng.choices(WORDS, k=6))
                body = " ".join(rng.choices(WORDS, k=40))
                moment = now - timezone.timedelta(seconds=rng.randrange(365 * 86400))
                copy.write_row((f"bench-{n}", title, body, "bench", f"{n:040x}"[-40:], moment, moment))
        first = Content.objects.order_by("id").values_list("id", flat=True).first()
        columns = "dataset_id, content_id, category_id, status, note, version, created_at, updated_at"
        with cursor.cursor.copy(f"COPY labeling_example ({columns}) FROM STDIN") as copy:
            for n in range(0, contents, 5):
                copy.write_row((dataset.id, first + n, rng.choice(smalls).id, "active", "", 1, now, now))
    _say(f"generated {contents:,} contents in {time.perf_counter() - started:.0f} s")
    return {"dataset": dataset.id, "first_id": first, "categories": [c.id for c in smalls]}


def _bare_bulk(engine, contents: int, *, body: dict | None = None) -> dict:
    """The same documents built in memory first (untimed), then helpers.bulk into a fresh index (with our
    index's analysis, or `body`)."""
    from opensearchpy import helpers

    from indexing.documents import CONTENTS
    from labeling.models import Content

    ids = list(Content.objects.order_by("-id").values_list("id", flat=True))
    docs = []
    for start in range(0, len(ids), 5000):
        docs += [(pk, doc) for pk, (_, doc) in CONTENTS.build(ids[start : start + 5000]).items()]
    engine.index_delete("bench-bare")
    engine.index_create("bench-bare", body or _contents_body())  # the same analysis as ours (nori included)
    started = time.perf_counter()
    ok, errors = helpers.bulk(
        engine.client,
        ({"_index": "bench-bare", "_id": pk, "_source": doc} for pk, doc in docs),
        chunk_size=500,
        raise_on_error=False,
    )
    seconds = time.perf_counter() - started
    engine.refresh("bench-bare")
    count = engine.count("bench-bare")
    engine.index_delete("bench-bare")
    del docs
    return {"documents": count, "seconds": round(seconds, 2), "docs_per_second": round(count / seconds, 1)}


def _drainer(seconds: float, log: Path) -> subprocess.Popen:
    """One drainer process (as a worker runs it); returns once it is set up and draining."""
    ready = log.with_suffix(".ready")
    ready.unlink(missing_ok=True)
    command = [sys.executable, str(Path(__file__)), "--drain", f"{seconds},{ready}"]
    process = subprocess.Popen(
        command, cwd=ROOT, env=os.environ, stdout=log.open("a"), stderr=subprocess.STDOUT
    )
    while not ready.exists():
        if process.poll() is not None:
            raise RuntimeError(f"the drainer exited: {log.read_text()[-2000:]}")
        time.sleep(0.05)
    return process


def _write_loop(
    rate: float, seconds: float, probe_every: int, peer_index: str, part: int, parts: int
) -> None:
    """The writer process: changes at a steady rate, each its own committed UPDATE (a title edit) on its own
    connection; prints a probe line (id, title, commit time) every `probe_every` changes, then a summary.
    With `peer_index`, also indexes each change the peer's way (build + index in the request)."""
    import psycopg
    from django.db import connection

    from indexing.documents import CONTENTS
    from indexing.services import engine_get
    from labeling.models import Content

    # each writer process its own share of the ids: the changes of one document come in order
    ids = [pk for pk in Content.objects.values_list("id", flat=True) if pk % parts == part]
    engine = engine_get() if peer_index else None
    done, failures, touched = 0, 0, set()
    rng = random.Random(f"{rate}-{part}")
    with psycopg.connect(**connection.get_connection_params(), autocommit=True) as db:
        print("ready", flush=True)
        started = time.perf_counter()
        while (now := time.perf_counter()) - started < seconds:
            due = started + done / rate
            if due > now:
                time.sleep(due - now)
            pk = rng.choice(ids)
            title = f"change {rate:g}-{part}-{done}"
            db.execute(
                "UPDATE labeling_content SET title = %s, modified_at = now() WHERE id = %s", (title, pk)
            )
            committed = time.time()
            touched.add(pk)
            if engine:
                try:  # the peer: the document built and indexed inside the request
                    _, doc = CONTENTS.build([pk])[pk]
                    engine.client.index(index=peer_index, id=pk, body=doc)
                except Exception:  # noqa: BLE001 - the peer's request fails during the outage
                    failures += 1
            if done % probe_every == 0:
                print(f"probe {pk} {committed} {title}", flush=True)
            done += 1
        elapsed = time.perf_counter() - started
    summary = {"done": done, "elapsed": elapsed, "peer_failures": failures, "touched": sorted(touched)}
    print("summary " + json.dumps(summary), flush=True)


class Writer(threading.Thread):
    """Runs the writer process and collects its probes and summary."""

    def __init__(self, rate, seconds, *, probe_every: int, peer_index="", probes=None, part=0, parts=1):
        super().__init__(daemon=True)
        arguments = f"{rate},{seconds},{probe_every},{peer_index},{part},{parts}"
        self.command = [sys.executable, str(Path(__file__)), "--write", arguments]
        self.probes: queue.Queue = probes or queue.Queue()
        self.ready = threading.Event()
        self.summary: dict = {}

    def run(self):
        process = subprocess.Popen(self.command, cwd=ROOT, env=os.environ, stdout=subprocess.PIPE, text=True)
        for line in process.stdout:
            kind, _, rest = line.rstrip("\n").partition(" ")
            if kind == "ready":
                self.ready.set()
            elif kind == "probe":
                pk, committed, title = rest.split(" ", 2)
                self.probes.put((int(pk), title, float(committed)))
            elif kind == "summary":
                self.summary = json.loads(rest)
        process.wait()
        self.ready.set()

    @property
    def done(self) -> int:
        return self.summary.get("done", 0)


WRITER_RATE = 350  # changes/s one writer process sustains here; faster rates are split between several


def _change_number(title: str) -> int:
    """'change 500-1-4711' -> 4711 (-1 for a title no writer wrote)."""
    tail = title.rsplit("-", 1)[-1]
    return int(tail) if title.startswith("change ") and tail.isdigit() else -1


def _probe_lags(engine, alias: str, writers: list, probes: queue.Queue, timeout: float = 120) -> list[float]:
    """Poll GET (realtime, no refresh needed) for the probed changes; the lag is commit -> readable."""
    pending: dict[int, tuple[str, float]] = {}
    lags = []
    deadline = None
    while True:
        while not probes.empty():
            pk, title, committed = probes.get()
            pending[pk] = (title, committed)  # a newer change of the same id replaces the older probe
        if pending:
            found = engine.get_many(alias, list(pending))
            now = time.time()
            for pk, doc in found.items():
                title, committed = pending[pk]
                if _change_number(doc.get("title", "")) >= _change_number(
                    title
                ):  # this change or a later one
                    lags.append(now - committed)
                    del pending[pk]
        if not any(writer.is_alive() for writer in writers) and probes.empty():
            deadline = deadline or time.perf_counter() + timeout
            if not pending or time.perf_counter() > deadline:
                return lags
        time.sleep(0.05)


def _realtime(engine, alias, rate, seconds, log) -> dict:
    from bench.common import percentile

    drainer = _drainer(seconds + 60, log)
    parts = max(1, -(-int(rate) // WRITER_RATE))
    probes: queue.Queue = queue.Queue()
    every = max(1, int(rate // 50))
    writers = [
        Writer(rate / parts, seconds, probe_every=max(1, every // parts), probes=probes, part=n, parts=parts)
        for n in range(parts)
    ]
    for writer in writers:
        writer.start()
    lags = _probe_lags(engine, alias, writers, probes)
    for writer in writers:
        writer.join()
    drainer.terminate()
    drainer.wait(timeout=30)
    done = sum(writer.done for writer in writers)
    elapsed = max(writer.summary["elapsed"] for writer in writers)
    row = {
        "rate_target": rate,
        "writer_processes": parts,
        "rate_achieved": round(done / elapsed, 1),
        "changes": done,
        "probes": len(lags),
        "lag_p50_s": round(percentile(lags, 0.5), 3) if lags else None,
        "lag_p99_s": round(percentile(lags, 0.99), 3) if lags else None,
        "lag_max_s": round(max(lags), 3) if lags else None,
    }
    _say(f"realtime {rate}/s: {row}")
    return row


def _write_latency(engine, peer_index: str, writes: int) -> dict:
    """A request's write (Content.save()) with no indexing, with our trigger, with the peer's signal."""
    from django.db import transaction
    from django.db.models.signals import post_save

    from bench.common import percentile
    from indexing.documents import CONTENTS
    from indexing.models import IndexState
    from labeling.models import Content

    contents = list(Content.objects.order_by("?")[:writes])

    def timed() -> list[float]:
        runs = []
        for n, content in enumerate(contents):
            content.title = f"latency {n} {time.time()}"
            started = time.perf_counter()
            with transaction.atomic():
                content.save(update_fields=["title"])
            runs.append((time.perf_counter() - started) * 1000)
        return runs

    def peer_signal(sender, instance, **kwargs):
        _, doc = CONTENTS.build([instance.pk])[instance.pk]
        engine.client.index(index=peer_index, id=instance.pk, body=doc, refresh=True)

    IndexState.objects.filter(name="contents").update(name="contents-paused")  # triggers idle
    plain = timed()
    post_save.connect(peer_signal, sender=Content)
    peer = timed()
    post_save.disconnect(peer_signal, sender=Content)
    IndexState.objects.filter(name="contents-paused").update(name="contents")
    ours = timed()
    row = {}
    for name, runs in (("no_indexing", plain), ("ours", ours), ("peer", peer)):
        row[name] = {"p50_ms": round(percentile(runs, 0.5), 2), "p99_ms": round(percentile(runs, 0.99), 2)}
    row["added_p50_ms"] = {
        "ours": round(row["ours"]["p50_ms"] - row["no_indexing"]["p50_ms"], 2),
        "peer": round(row["peer"]["p50_ms"] - row["no_indexing"]["p50_ms"], 2),
    }
    _say(f"write latency: {row}")
    return row


def _outage(node, engine, alias, peer_index, outage, log) -> dict:
    from indexing import services
    from indexing.documents import CONTENTS
    from indexing.models import IndexEvent

    before, after = 15.0, 15.0
    drainer = _drainer(before + outage + after + 120, log)
    writer = Writer(100, before + outage + after, probe_every=10**9, peer_index=peer_index)
    writer.start()
    writer.ready.wait()
    time.sleep(before)
    node.stop()
    _say(f"node stopped for {outage:g} s under write load")
    time.sleep(outage)
    restart = node.start()
    _say(f"node back after {restart:.1f} s")
    writer.join()
    load_ended = time.perf_counter()
    while IndexEvent.objects.exists() and time.perf_counter() < load_ended + 120:
        time.sleep(0.2)
    catch_up = time.perf_counter() - load_ended
    drainer.terminate()
    drainer.wait(timeout=30)
    touched = writer.summary["touched"]
    ours = services.index_compare(ids=touched)
    engine.refresh(peer_index)
    expected = CONTENTS.build(touched)
    found = engine.get_many(peer_index, touched)
    peer_off = sum(
        1
        for pk in touched
        if pk not in found or {k: v for k, v in found[pk].items() if k != "_version"} != expected[pk][1]
    )
    row = {
        "outage_seconds": outage,
        "changes": writer.done,
        "documents_touched": len(touched),
        "ours_lost_or_stale": len(ours["missing"]) + len(ours["stale"]) + len(ours["extra"]),
        "ours_catch_up_seconds_after_load": round(catch_up, 1),
        "peer_lost_or_stale": peer_off,
        "peer_failed_requests": writer.summary["peer_failures"],
    }
    _say(f"outage: {row}")
    return row


def run(args) -> int:
    from django.conf import settings
    from django.core.management import call_command

    from bench.common import machine_lines, migrate_fresh, write_results
    from bench.measure import code_version, machine_facts
    from indexing import services

    migrate_fresh("bench/indexing.py")
    node = Node()
    node_start = node.start()
    _say(f"search node on {node.url} (started in {node_start:.1f} s)")
    settings.SEARCH_URL = os.environ["SEARCH_URL"] = node.url
    os.environ["SEARCH_INDEX_PREFIX"] = settings.SEARCH_INDEX_PREFIX
    log = Path(tempfile.mkdtemp(prefix="bunryu-bench-drain-")) / "drainer.log"
    results = {
        "benchmark": "indexing",
        "code": code_version(ROOT),
        "parameters": vars(args) | {"results": None},
        "load_average_at_start": os.getloadavg(),
    }
    error = None
    try:
        results["machine"] = machine_facts()
        _generate(args.contents)
        engine = services.engine_get()
        results["bare_bulk"] = _bare_bulk(engine, args.contents)
        _say(f"bare helpers.bulk: {results['bare_bulk']}")
        results["bare_bulk_bigrams_only"] = _bare_bulk(
            engine, args.contents, body=_contents_body(korean=False)
        )
        _say(f"bare helpers.bulk without the nori subfields: {results['bare_bulk_bigrams_only']}")
        started = time.perf_counter()
        rebuilt = services.index_rebuild()
        seconds = time.perf_counter() - started
        results["rebuild"] = {
            "documents": rebuilt["documents"],
            "seconds": round(seconds, 2),
            "docs_per_second": round(rebuilt["documents"] / seconds, 1),
        }
        _say(f"our rebuild: {results['rebuild']}")
        call_command("search_index", "verify")  # every document equals the database's
        alias = services.search_alias("contents")
        results["realtime"] = [
            _realtime(engine, alias, float(rate), args.seconds, log) for rate in args.rates.split(",")
        ]
        peer_index = "bench-peer"
        engine.index_create(peer_index, _contents_body())
        results["write_latency"] = _write_latency(engine, peer_index, args.writes)
        results["outage"] = _outage(node, engine, alias, peer_index, args.outage, log)
    except Exception:  # keep what was measured
        import traceback

        error = traceback.format_exc()
        _say(error)
    finally:
        node.stop()
    results["load_average_at_end"] = os.getloadavg()
    results["error"] = error
    results["verdicts"] = _verdicts(results)
    results["failed_targets"] = [v["key"] for v in results["verdicts"] if v["verdict"] == "FAIL"]
    write_results(args.results, "indexing", results, _markdown(results, machine_lines))
    if error:
        return 1
    return 2 if args.strict and results["failed_targets"] else 0


def _contents_body(*, korean: bool = True) -> dict:
    """Our index's settings and mappings (nori subfields when the node has them), or bigrams only."""
    from indexing.documents import CONTENTS
    from indexing.services.engine import index_body

    return index_body("contents") if korean else CONTENTS.body(korean=False)


def _verdicts(results: dict) -> list[dict]:
    rows = []
    if "rebuild" in results and "bare_bulk" in results:
        ratio = results["rebuild"]["docs_per_second"] / results["bare_bulk"]["docs_per_second"]
        rows.append(
            _verdict("rebuild_vs_bare_bulk", "rebuild docs/s / bare helpers.bulk docs/s", ratio, 0.7, True)
        )
    for row in results.get("realtime", []):
        if row["rate_target"] == 500 and row["lag_p99_s"] is not None:
            rows.append(
                _verdict(
                    "lag_p99_at_500", "realtime lag p99 (s) at 500 changes/s", row["lag_p99_s"], 2.0, False
                )
            )
    if "outage" in results:
        value = results["outage"]["ours_lost_or_stale"]
        rows.append(
            _verdict(
                "outage_lost", "documents lost or stale after a 30 s outage", value, 0, False, equal_ok=True
            )
        )
    return rows


def _verdict(key, label, value, target, higher, equal_ok=False) -> dict:
    meets = value >= target if higher else (value <= target if equal_ok else value <= target)
    return {
        "key": key,
        "label": label,
        "value": round(value, 3),
        "target": target,
        "higher_is_better": higher,
        "verdict": "pass" if meets else "FAIL",
    }


def _markdown(results: dict, machine_lines) -> str:
    p = results["parameters"]
    lines = [
        "# Benchmark: DB -> search engine indexing",
        "",
        f"{p['contents']:,} generated contents (Korean and English words; a fifth labelled in a dataset of "
        "200 "
        "categories) in PostgreSQL, one OpenSearch 2.19.6 node (scripts/search-node.sh, 512 MB heap) on the "
        "same 2-core machine as PostgreSQL, the writers, the drainer and the probes. Produced by "
        "`scripts/with-services.sh .venv/bin/python bench/indexing.py` (see docs/indexing.md). Load average "
        f"of the machine at the start / end: {results['load_average_at_start'][0]:.1f} / "
        f"{results['load_average_at_end'][0]:.1f}.",
        "",
    ]
    if results.get("error"):
        lines += [
            "**The run stopped on an error; the figures below are those measured before it:**",
            "",
            "```",
            results["error"].rstrip(),
            "```",
            "",
        ]
    lines += ["## Targets", "", "| figure | value | target | verdict |", "|---|---:|---:|---|"]
    for v in results["verdicts"]:
        sign = ">=" if v["higher_is_better"] else "<="
        lines.append(f"| {v['label']} | {v['value']:,} | {sign} {v['target']} | {v['verdict']} |")
    lines += ["", f"Targets missed: {', '.join(results['failed_targets']) or 'none'}.", ""]
    if "rebuild" in results:
        b, r = results["bare_bulk"], results["rebuild"]
        lines += [
            "## Full rebuild",
            "",
            "| way | documents | seconds | docs/s |",
            "|---|---:|---:|---:|",
            "| bare `helpers.bulk` from memory (documents built beforehand, untimed) "
            f"| {b['documents']:,} | {b['seconds']} | {b['docs_per_second']:,} |",
            "| ours: `search_index rebuild` (reads the database, newest first, 2,000-id chunks, checkpoints, "
            f"swap) | {r['documents']:,} | {r['seconds']} | {r['docs_per_second']:,} |",
        ]
        if "bare_bulk_bigrams_only" in results:
            g = results["bare_bulk_bigrams_only"]
            lines.append(
                "| bare `helpers.bulk`, bigrams only (no nori `.ko` subfields: what Korean morphology costs) "
                f"| {g['documents']:,} | {g['seconds']} | {g['docs_per_second']:,} |"
            )
        lines.append("")
    if results.get("realtime"):
        lines += [
            "## Realtime lag",
            "",
            "Change committed -> the document readable through GET (realtime, before a "
            "refresh; searches see it after the next refresh, <= 1 s later). Every change is its own "
            "committed "
            "UPDATE; one drainer process.",
            "",
            "| target changes/s | achieved | changes | probes | p50 (s) | p99 (s) | max (s) |",
            "|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in results["realtime"]:
            lines.append(
                f"| {r['rate_target']:g} | {r['rate_achieved']} | {r['changes']:,} | {r['probes']:,} "
                f"| {r['lag_p50_s']} | {r['lag_p99_s']} | {r['lag_max_s']} |"
            )
        lines.append("")
    if "write_latency" in results:
        w = results["write_latency"]
        lines += [
            "## Latency a write costs (Content.save() in a transaction)",
            "",
            "| variant | p50 (ms) | p99 (ms) |",
            "|---|---:|---:|",
        ]
        for name, label in (
            ("no_indexing", "no indexing"),
            ("ours", "ours: outbox trigger"),
            ("peer", "peer: post_save signal, index + refresh in the request"),
        ):
            lines.append(f"| {label} | {w[name]['p50_ms']} | {w[name]['p99_ms']} |")
        lines += [
            "",
            f"Added at p50: ours {w['added_p50_ms']['ours']} ms, peer {w['added_p50_ms']['peer']} ms.",
            "",
        ]
    if "outage" in results:
        o = results["outage"]
        lines += [
            "## Node outage under write load",
            "",
            f"100 changes/s for {15 + o['outage_seconds'] + 15:g} s; the node stopped for "
            f"{o['outage_seconds']:g} s in the middle, "
            f"then started again. {o['changes']:,} changes to {o['documents_touched']:,} documents.",
            "",
            "| | documents lost or stale afterwards | failed requests |",
            "|---|---:|---:|",
            f"| ours (outbox + drainer; caught up {o['ours_catch_up_seconds_after_load']} s after the load "
            f"ended) | {o['ours_lost_or_stale']} | 0 |",
            f"| peer (signal; errors swallowed) | {o['peer_lost_or_stale']} | {o['peer_failed_requests']} |",
            "",
        ]
    lines += machine_lines(results.get("machine") or {}, results["code"])
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    args = _arguments(argv)
    sys.path.insert(0, str(ROOT))
    from bench.common import setup_django

    setup_django("bench/indexing.py")
    logging.getLogger("opensearch").setLevel(logging.CRITICAL)  # the outage's refused connections
    logging.getLogger("indexing").setLevel(logging.ERROR)  # the drainer's retries during the outage
    if args.drain:
        from indexing import services

        seconds, ready = args.drain.split(",", 1)
        Path(ready).touch()
        services.outbox_drain(seconds=float(seconds))
        return 0
    if args.write:
        rate, seconds, probe_every, peer_index, part, parts = args.write.split(",")
        _write_loop(float(rate), float(seconds), int(probe_every), peer_index, int(part), int(parts))
        return 0
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
