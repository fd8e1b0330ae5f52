"""The versions benchmark itself (imported by bench/versions.py once Django is set up)."""

import json
import os
import random
import resource
import sys
import time
import traceback
from dataclasses import asdict
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

import labeling.selectors.export as export_module
import labeling.selectors.versions as version_reads
import labeling.services.bulk as bulk_writes
import labeling.services.versions as version_writes
from bench.common import FigureBench, machine_lines, run_measured, say
from bench.corpus import NEWSGROUPS, Text, real_texts
from bench.measure import (
    Profiler,
    peak_rss_bytes,
    reset_peak_rss,
    table_size,
)
from labeling.models import Category, Changeset, Content, Dataset, DatasetVersion, Example
from labeling.selectors.export import FORMATS, export_lines
from labeling.services.contents import content_build
from labeling.services.datasets import dataset_create
from labeling.services.taxonomy import category_create, taxonomy_create

LARGE_CATEGORIES = 20
SMALL_PER_LARGE = 10
BATCH = 5000
DATASET = "bench-versions"
USER = "bench"

# Targets from the issue, on a 2-core machine (seconds).
TARGETS = {"commit": 5.0, "dirty": 1.0, "rollback": 10.0, "diff": 15.0, "export": 15.0}

# Where the time goes: these functions are wrapped (inclusive wall time), every SQL execute is timed.
INSTRUMENTED = {
    "labeling.services.versions": (
        "_lock",
        "latest_version",
        "version_state",
        "working_state",
        "state_diff",
        "rollback_preview",
        "dataset_commit",
        "_write_entries",
        "_counts",
        "training_counts",
        "changeset_open",
        "_targets_to_reach",
        "_targets_from",
        "examples_apply",
    ),
    "labeling.services.bulk": (
        "examples_apply",
        "_plan",
        "history_insert_select",
        "bulk_create_with_history",
    ),
    "labeling.selectors.versions": (
        "latest_version",
        "version_state",
        "working_state",
        "state_diff",
        "states_diff",
        "diff_of_states",
        "training_counts",
        "_training_counts",
        "rollback_preview",
    ),
    "labeling.selectors": ("dataset_summary",),
    "labeling.selectors.export": ("version_state", "working_state"),
}

TABLES = (
    "labeling_versionentry",
    "labeling_example",
    "labeling_historicalexample",
    "labeling_content",
    "labeling_historicalcontent",
)


class Bench(FigureBench):
    targets = TARGETS

    def __init__(self, *, examples: int, relabel: int, repeat: int) -> None:
        self.n_examples, self.n_relabel, self.repeat = examples, relabel, repeat
        self.profiler = Profiler()
        self.figures: list[dict] = []
        self.breakdowns: dict[str, dict] = {}
        self.checks: list[dict] = []
        self.sizes: dict = {}
        self.step_peak_rss: dict[str, int] = {}
        self.process_peak_rss = 0
        self.can_reset_peak = True
        self.info: dict = {}
        self.exports: dict[str, dict] = {}

    # --- bookkeeping -----------------------------------------------------------------------------------

    def check(self, name: str, expected, actual) -> None:
        ok = expected == actual
        self.checks.append({"check": name, "expected": expected, "actual": actual, "ok": ok})
        if not ok:
            say(f"CHECK FAILED: {name}: expected {expected!r}, got {actual!r}")

    def timed(self, key: str, function, *, runs: int = 1):
        """Run `function` `runs` times; keep its last result and the breakdown of the median run."""
        seconds, spans, result = [], [], None
        self.process_peak_rss = max(self.process_peak_rss, peak_rss_bytes())
        self.can_reset_peak = self.can_reset_peak and reset_peak_rss()
        for _ in range(runs):
            with self.profiler.step() as span:
                result = function()
            seconds.append(span.seconds)
            spans.append(span)
        if self.can_reset_peak:
            self.step_peak_rss[key] = peak_rss_bytes()
        middle = sorted(range(runs), key=lambda index: seconds[index])[(runs - 1) // 2]
        self.breakdowns[key] = spans[middle].breakdown()
        return result, seconds

    # --- setup -----------------------------------------------------------------------------------------

    def setup(self) -> None:
        start = time.perf_counter()
        call_command("migrate", interactive=False, verbosity=0)
        self.figure("setup_migrate", "setup: migrate", [time.perf_counter() - start])
        if Dataset.objects.exists() or Content.objects.exists():
            sys.exit(
                "bench/versions.py: the database already holds data; it needs a fresh one "
                "(scripts/with-services.sh starts a private, empty PostgreSQL)."
            )
        self.user = get_user_model().objects.create_superuser(USER, f"{USER}@example.invalid", None)
        self._taxonomy()
        self._load_in_child()
        start = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")  # the state of a database that has been running a while
        self.figure("setup_vacuum", "setup: VACUUM ANALYZE", [time.perf_counter() - start])
        rows = Example.objects.filter(dataset=self.dataset).order_by("content_id")
        pairs = list(rows.values_list("content_id", "category_id"))
        self.content_ids = [content_id for content_id, _ in pairs]
        self.category_ids = [category_id for _, category_id in pairs]
        self.info["examples"] = len(pairs)
        self.info["categories_used"] = len(set(self.category_ids))
        self.check("examples loaded", self.n_examples, len(pairs))
        self.info["instrumented"] = {
            module: self.profiler.instrument(module, *names) for module, names in INSTRUMENTED.items()
        }
        self.profiler.instrument_commit()

    def _taxonomy(self) -> None:
        groups = list(NEWSGROUPS[:LARGE_CATEGORIES])
        groups += [f"large {index:02d}" for index in range(len(groups), LARGE_CATEGORIES)]
        taxonomy = taxonomy_create(name=DATASET, description="benchmark taxonomy: 20 large x 10 small")
        self.small: list[list[Category]] = []
        for group in groups:
            large = category_create(taxonomy=taxonomy, name=group, user=self.user)
            self.small.append(
                [
                    category_create(taxonomy=taxonomy, name=f"주제 {k + 1:02d}", parent=large, user=self.user)
                    for k in range(SMALL_PER_LARGE)
                ]
            )
        self.large_of_group = {group: index for index, group in enumerate(groups)}
        self.dataset = dataset_create(
            name=DATASET, taxonomy=taxonomy, min_examples_per_category=200, user=self.user
        )

    def _load_in_child(self) -> None:
        """Read the texts and load them in a forked child, so the measured process never holds the corpus."""
        connection.close()  # the child opens its own connection
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # child
            status = 1
            try:
                os.close(read_end)
                report = self._read_and_load()
                with os.fdopen(write_end, "w") as pipe:
                    json.dump(report, pipe)
                connection.close()
                status = 0
            except BaseException:
                traceback.print_exc()
            finally:
                os._exit(status)
        os.close(write_end)
        with os.fdopen(read_end) as pipe:
            text = pipe.read()
        _, status = os.waitpid(pid, 0)
        if os.waitstatus_to_exitcode(status) != 0 or not text:
            sys.exit("bench/versions.py: loading the dataset failed (see above).")
        report = json.loads(text)
        self.info.update(report["info"])
        self.figure("setup_read_texts", "setup: read the real texts (once, sequentially)", [report["read"]])
        self.figure(
            "setup_load",
            f"setup: load {self.n_examples:,} contents + examples with history",
            [report["load"]],
        )
        self.info["setup_peak_rss_bytes"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024

    def _read_and_load(self) -> dict:
        start = time.perf_counter()
        texts = real_texts()
        random.Random(0).shuffle(texts)  # any prefix mixes both corpora and all groups
        read = time.perf_counter() - start
        info = {
            "real_texts": len(texts),
            "real_texts_by_source": {
                source: sum(text.source == source for text in texts)
                for source in sorted({t.source for t in texts})
            },
        }
        start = time.perf_counter()
        self._load(texts)
        return {"read": read, "load": time.perf_counter() - start, "info": info}

    def _category(self, index: int, position: int, text: Text) -> Category:
        """Newsgroup posts go under their group; petitions spread over all; small categories round-robin."""
        large = self.large_of_group.get(text.group, position % LARGE_CATEGORIES)
        return self.small[large][index % SMALL_PER_LARGE]

    def _load(self, texts: list[Text]) -> None:
        """100k distinct contents: the real texts cycled, each later cycle with a suffix (new text hash)."""
        now = timezone.now()
        for start in range(0, self.n_examples, BATCH):
            stop = min(self.n_examples, start + BATCH)
            contents, categories = [], []
            for index in range(start, stop):
                cycle, position = divmod(index, len(texts))
                text = texts[position]
                suffix = f"\n\n[bench copy {cycle}]" if cycle else ""
                contents.append(
                    content_build(
                        external_id=f"{text.key}#{cycle}",
                        title=text.title or text.body[:80],
                        body=text.body + suffix,
                        source=text.source,
                    )
                )
                categories.append(self._category(index, position, text))
            with transaction.atomic():
                bulk_create_with_history(
                    contents, Content, batch_size=BATCH, default_user=self.user, default_change_reason="bench"
                )
                examples = [
                    Example(
                        dataset=self.dataset,
                        content_id=content.pk,
                        category=category,
                        labeled_by=self.user,
                        labeled_at=now,
                    )
                    for content, category in zip(contents, categories, strict=True)
                ]
                bulk_create_with_history(
                    examples, Example, batch_size=BATCH, default_user=self.user, default_change_reason="bench"
                )
            if stop % 20_000 == 0 or stop == self.n_examples:
                say(f"  loaded {stop:,} examples")

    # --- the measured steps ----------------------------------------------------------------------------

    def run(self) -> None:
        sizes = self.sizes
        sizes["after_load"] = {table: table_size(table) for table in TABLES}
        entries_before = sizes["after_load"]["labeling_versionentry"]["total"]

        v1, runs = self.timed(
            "commit_v1",
            lambda: version_writes.dataset_commit(dataset=self.dataset, user=self.user, message="bench v1"),
        )
        self.figure("commit_v1", f"commit v1 (full snapshot, {self.n_examples:,} entries)", runs, "commit")
        self.check("v1 entries written", self.n_examples, v1.entries_written)
        sizes["after_v1"] = {"labeling_versionentry": table_size("labeling_versionentry")}

        dirty, runs = self.timed(
            "dirty_clean", lambda: version_reads.dataset_dirty(self.dataset), runs=self.repeat
        )
        self.figure("dirty_clean", f"dirty-check, no changes (median of {self.repeat})", runs, "dirty")
        self.check("dirty-check without changes", 0, dirty.changes)

        targets = self._relabel_targets()
        changeset, runs = self.timed("relabel", lambda: self._relabel(targets))
        self.figure("relabel", f"relabel {self.n_relabel:,} examples (changeset_open + examples_apply)", runs)
        self.check("examples relabelled", self.n_relabel, changeset.relabelled)
        sizes["after_relabel"] = {"labeling_historicalexample": table_size("labeling_historicalexample")}

        dirty, runs = self.timed(
            "dirty_changed", lambda: version_reads.dataset_dirty(self.dataset), runs=self.repeat
        )
        self.figure(
            "dirty_changed",
            f"dirty-check, {self.n_relabel:,} changes (median of {self.repeat})",
            runs,
            "dirty",
        )
        self.check("dirty-check with the relabel", self.n_relabel, dirty.changes)

        v2, runs = self.timed(
            "commit_v2",
            lambda: version_writes.dataset_commit(dataset=self.dataset, user=self.user, message="bench v2"),
        )
        self.figure("commit_v2", f"commit v2 ({self.n_relabel:,} deltas)", runs, "commit")
        self.check("v2 entries written", self.n_relabel, v2.entries_written)
        sizes["after_v2"] = {"labeling_versionentry": table_size("labeling_versionentry")}

        diff, runs = self.timed("diff", lambda: version_reads.version_diff(v1, v2), runs=self.repeat)
        self.figure("diff", f"diff v1 -> v2 (median of {self.repeat})", runs, "diff")
        self.check("diff v1 -> v2 changes", self.n_relabel, len(diff))

        for fmt in FORMATS:
            (size, chunks), runs = self.timed(f"export_{fmt}", lambda fmt=fmt: self._export(fmt, v2))
            self.exports[fmt] = {"bytes": size, "chunks": chunks}
            self.figure(
                f"export_{fmt}", f"export v2 as {fmt} ({size / 1e6:.0f} MB)", runs, "export", bytes=size
            )
            if fmt != "csv":  # one chunk per example (csv chunks are 64 KiB buffers)
                self.check(f"{fmt} export rows", self.n_examples, chunks)

        # Diagnostic: reading the rows an export writes, without writing them (what formatting costs).
        # A private function of the exporter: skipped when it is gone.
        read_rows = getattr(export_module, "_rows", None)
        if read_rows is not None:
            rows, runs = self.timed("export_rows_only", lambda: sum(1 for _ in read_rows(self.dataset, v2)))
            self.figure("export_rows_only", "diagnostic: export v2 rows read, not formatted", runs)
            self.check("rows an export reads", self.n_examples, rows)

        versions_before = DatasetVersion.objects.filter(dataset=self.dataset).count()
        rollback, runs = self.timed(
            "rollback",
            lambda: version_writes.version_rollback(
                dataset=self.dataset, user=self.user, reason="bench", to_version=v1
            ),
        )
        self.figure(
            "rollback",
            f"rollback to v1 ({self.n_relabel:,} examples, incl. automatic version)",
            runs,
            "rollback",
        )
        self.check("examples rolled back", self.n_relabel, rollback.relabelled)
        self.info["rollback_automatic_version_written"] = (
            DatasetVersion.objects.filter(dataset=self.dataset).count() > versions_before
        )
        state, goal = version_reads.working_state(self.dataset), version_reads.version_state(v1)
        self.check("working state equals v1 after the rollback", True, state == goal)

        # The working state (v1) now differs from the latest version (v2): rolling back to v2 first has the
        # automatic version write those changes as v3, then moves the examples back.
        rollback, runs = self.timed(
            "rollback_uncommitted",
            lambda: version_writes.version_rollback(
                dataset=self.dataset, user=self.user, reason="bench: undo the rollback", to_version=v2
            ),
        )
        self.figure(
            "rollback_uncommitted",
            f"rollback to v2 over {self.n_relabel:,} uncommitted changes (automatic version v3 first)",
            runs,
            "rollback",
        )
        self.check("examples rolled back (to v2)", self.n_relabel, rollback.relabelled)
        automatic = version_reads.latest_version(self.dataset)
        self.check("automatic version written before it", 3, automatic.number)
        self.check("automatic version entries", self.n_relabel, automatic.entries_written)
        state, goal = version_reads.working_state(self.dataset), version_reads.version_state(v2)
        self.check("working state equals v2 after the second rollback", True, state == goal)

        self._sizes(entries_before)

    def _relabel_targets(self) -> dict[int, tuple[int, str]]:
        """A fixed-seed random sample (about 150 per small category) moves to the next small category of
        the same large one: every category loses some examples and gains some, none is emptied."""
        sibling = {}
        for smalls in self.small:
            for k, category in enumerate(smalls):
                sibling[category.pk] = smalls[(k + 1) % len(smalls)].pk
        chosen = random.Random(1).sample(range(self.n_examples), self.n_relabel)
        return {
            self.content_ids[index]: (sibling[self.category_ids[index]], Example.Status.ACTIVE)
            for index in sorted(chosen)
        }

    def _relabel(self, targets) -> Changeset:
        with transaction.atomic():
            changeset = version_writes.changeset_open(
                dataset=self.dataset,
                kind=Changeset.Kind.RELABEL,
                user=self.user,
                reason=f"bench: move {len(targets):,} examples to a sibling category",
            )
            counts = bulk_writes.examples_apply(
                dataset=self.dataset,
                targets=targets,
                changeset=changeset,
                user=self.user,
                reason=changeset.reason,
            )
            for name, value in asdict(counts).items():
                setattr(changeset, name, value)
            changeset.save()
        return changeset

    def _export(self, fmt: str, version: DatasetVersion) -> tuple[int, int]:
        size = chunks = 0
        with open(os.devnull, "wb") as sink:
            for chunk in export_lines(dataset=self.dataset, fmt=fmt, version=version):
                data = chunk.encode("utf-8")
                sink.write(data)
                size += len(data)
                chunks += 1
        return size, chunks

    def _sizes(self, entries_before: int) -> None:
        sizes = self.sizes
        sizes["final"] = {table: table_size(table) for table in TABLES}
        versions = DatasetVersion.objects.filter(dataset=self.dataset).count()
        v1_total = sizes["after_v1"]["labeling_versionentry"]["total"]
        v2_total = sizes["after_v2"]["labeling_versionentry"]["total"]
        entries = sizes["final"]["labeling_versionentry"]
        history = sizes["final"]["labeling_historicalexample"]
        sizes["summary"] = {
            "versions": versions,
            "versionentry_total_bytes": entries["total"],
            "versionentry_bytes_per_version": entries["total"] // max(versions, 1),
            "v1_bytes_added": v1_total - entries_before,
            "v1_bytes_per_entry": round((v1_total - entries_before) / self.n_examples, 1),
            "v2_bytes_added": v2_total - v1_total,
            "v2_bytes_per_entry": round((v2_total - v1_total) / self.n_relabel, 1),
            "historicalexample_total_bytes": history["total"],
            "historicalexample_rows": history["rows"],
            "historicalexample_bytes_per_row": round(history["total"] / max(history["rows"], 1), 1),
            "historicalexample_bytes_added_by_relabel": sizes["after_relabel"]["labeling_historicalexample"][
                "total"
            ]
            - sizes["after_load"]["labeling_historicalexample"]["total"],
        }

    # --- results -------------------------------------------------------------------------------------

    def results(self, machine: dict, code: dict) -> dict:
        return {
            "benchmark": "versions",
            "machine": machine,
            "code": code,
            "parameters": {
                "examples": self.n_examples,
                "relabelled": self.n_relabel,
                "large_categories": LARGE_CATEGORIES,
                "small_categories": LARGE_CATEGORIES * SMALL_PER_LARGE,
                "repeat_cheap_reads": self.repeat,
                "load_batch": BATCH,
            },
            "info": self.info,
            "targets_seconds": TARGETS,
            "figures": self.figures,
            "failed_targets": [row["key"] for row in self.figures if row["verdict"] == "FAIL"],
            "exports": self.exports,
            "sizes": self.sizes,
            "peak_rss_bytes": max(self.process_peak_rss, peak_rss_bytes()),
            "peak_rss_note": "getrusage ru_maxrss of the Python process over the whole run, setup included; "
            "figures[].peak_rss_bytes is the peak while that step ran (high-water mark reset before it)",
            "checks": self.checks,
            "breakdowns": self.breakdowns,
        }


def _mb(size: int) -> str:
    return f"{size / 2**20:,.1f} MiB"


def _breakdown_lines(key: str, breakdown: dict, top: int = 8) -> list[str]:
    lines = [
        f"**{key}**: {breakdown['seconds']:.2f} s, of which waiting on PostgreSQL (execute and COMMIT) "
        f"{breakdown['database_seconds']:.2f} s, Python and the rest "
        f"{breakdown['seconds'] - breakdown['database_seconds']:.2f} s",
        "",
        "| where | calls | seconds |",
        "|---|---:|---:|",
    ]
    for name, entry in list(breakdown["functions"].items())[:top]:
        lines.append(f"| `{name}()` | {entry['calls']} | {entry['seconds']:.2f} |")
    for name, entry in list(breakdown["sql"].items())[:top]:
        if entry["seconds"] >= 0.01:
            lines.append(f"| SQL `{name}` | {entry['statements']} | {entry['seconds']:.2f} |")
    return [*lines, ""]


def _md_figures(results: dict) -> list[str]:
    params = results["parameters"]
    lines = [
        "# Benchmark: dataset versions",
        "",
        f"{params['examples']:,} examples over {params['small_categories']} small categories "
        f"({params['large_categories']} large x {params['small_categories'] // params['large_categories']}), "
        f"real text (20 Newsgroups train+test and Korean petitions, cycled with a suffix); "
        f"{params['relabelled']:,} examples relabelled between v1 and v2. Produced by `make bench` "
        "(`bench/versions.py`); see `bench/README.md`. Times are wall-clock seconds in one process; "
        f"cheap reads are the median of {params['repeat_cheap_reads']} runs.",
        "",
    ]
    if results.get("error"):
        lines += ["**The run stopped on an error; the figures below are those measured before it:**", ""]
        lines += ["```", results["error"].rstrip(), "```", ""]
    lines += ["| figure | value | target | verdict | peak RSS during the step |", "|---|---:|---:|---|---:|"]
    for row in results["figures"]:
        target = f"< {row['target_seconds']:g} s" if row["target_seconds"] is not None else "—"
        verdict = "**FAIL**" if row["verdict"] == "FAIL" else row["verdict"]
        rss = _mb(row["peak_rss_bytes"]) if row.get("peak_rss_bytes") else "—"
        lines.append(f"| {row['label']} | {row['seconds']:.2f} s | {target} | {verdict} | {rss} |")
    lines.append(
        f"| peak RSS of the benchmark process (getrusage, whole run) | {_mb(results['peak_rss_bytes'])} "
        "| — | info | |"
    )
    if results["info"].get("setup_peak_rss_bytes"):
        lines.append(
            f"| peak RSS of the forked process that loads the data (setup) | "
            f"{_mb(results['info']['setup_peak_rss_bytes'])} | — | info | |"
        )
    failed = results["failed_targets"]
    return [*lines, "", f"Targets missed: {', '.join(failed) if failed else 'none'}.", ""]


def _md_sizes(results: dict) -> list[str]:
    summary, params = results["sizes"].get("summary"), results["parameters"]
    if not summary:
        return []
    lines = [
        "## Database size",
        "",
        "| figure | value |",
        "|---|---:|",
        f"| labeling_versionentry, total with indexes | {_mb(summary['versionentry_total_bytes'])} |",
        f"| versions | {summary['versions']} |",
        f"| versionentry bytes per version (total / versions) | "
        f"{_mb(summary['versionentry_bytes_per_version'])} |",
        f"| bytes added by v1 (full, {params['examples']:,} entries) | {_mb(summary['v1_bytes_added'])} "
        f"({summary['v1_bytes_per_entry']:.0f} B/entry) |",
        f"| bytes added by v2 (delta, {params['relabelled']:,} entries) | {_mb(summary['v2_bytes_added'])} "
        f"({summary['v2_bytes_per_entry']:.0f} B/entry) |",
        f"| labeling_historicalexample, total with indexes | {_mb(summary['historicalexample_total_bytes'])} "
        f"({summary['historicalexample_rows']:,} rows, "
        f"{summary['historicalexample_bytes_per_row']:.0f} B/row) |",
        f"| historicalexample bytes added by the relabel | "
        f"{_mb(summary['historicalexample_bytes_added_by_relabel'])} |",
        "",
        "| table (end of run) | rows | heap | indexes | TOAST etc. | total |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for table, size in results["sizes"]["final"].items():
        lines.append(
            f"| {table} | {size['rows']:,} | {_mb(size['heap'])} | {_mb(size['indexes'])} | "
            f"{_mb(size['toast_and_other'])} | {_mb(size['total'])} |"
        )
    for table in ("labeling_versionentry", "labeling_historicalexample"):
        indexes = results["sizes"]["final"][table].get("index_sizes", {})
        if indexes:
            listed = ", ".join(f"{name} {_mb(size)}" for name, size in indexes.items())
            lines += ["", f"Indexes of {table}: {listed}."]
    return [*lines, ""]


BREAKDOWNS_SHOWN = (
    "commit_v1",
    "dirty_clean",
    "dirty_changed",
    "relabel",
    "commit_v2",
    "diff",
    "export_rows_only",
    "export_fasttext",
    "rollback",
    "rollback_uncommitted",
)


def _md_breakdowns(results: dict) -> list[str]:
    lines = [
        "## Where the time went",
        "",
        "Inclusive wall time of the labeling functions called (they nest: `dataset_commit` contains its "
        "`working_state`), and of SQL `execute()` calls by statement and table, plus COMMIT (where "
        "PostgreSQL runs Django's deferred foreign-key checks). Rows read through a server-side cursor "
        "(`QuerySet.iterator()`) are fetched outside `execute()` and count as Python.",
        "",
    ]
    for key in BREAKDOWNS_SHOWN:
        if key in results["breakdowns"]:
            lines += _breakdown_lines(key, results["breakdowns"][key])
    return lines


def _md_checks(results: dict) -> list[str]:
    lines = ["## Checks", "", "| check | expected | actual | ok |", "|---|---:|---:|---|"]
    lines += [
        f"| {c['check']} | {c['expected']} | {c['actual']} | {'yes' if c['ok'] else '**NO**'} |"
        for c in results["checks"]
    ]
    return [*lines, ""]


def _md_machine(results: dict) -> list[str]:
    return machine_lines(results["machine"], results["code"])


def markdown(results: dict) -> str:
    sections = (_md_figures, _md_sizes, _md_breakdowns, _md_checks, _md_machine)
    return "\n".join(line for section in sections for line in section(results))


def run(*, examples: int, relabel: int, repeat: int, results_dir: Path, strict: bool) -> int:
    return run_measured(
        Bench(examples=examples, relabel=relabel, repeat=repeat),
        name="versions",
        results_dir=results_dir,
        markdown=markdown,
        strict=strict,
    )
