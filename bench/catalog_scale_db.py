"""Scale rows of bench/catalog.py measured as an operator runs them: the real build on PostgreSQL.

Per size, in a child process with its own fresh database: synthetic offers (bench/catalog_scale.py) are
loaded through COPY with their history rows (`core.inserts.insert_with_history`, as the offer import writes
them); then a full run goes through a real Celery worker with `--concurrency=2` (prefork: two processes), one
task per category, writing catalogs, memberships, edges and history rows; then 10,000 new offers (a new shop's
listing of products already in the catalog) are loaded and an incremental run attaches them, same worker.

Peak memory is the peak of the summed RSS of the worker's processes (main + pool children), sampled every
0.2 s from /proc, with the largest single process beside it. CPU seconds are those of the worker's processes
(user + system, threads included) and of PostgreSQL's server processes, read from /proc before and after.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import threading
import time
import uuid
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd

from bench.catalog_scale import NOISE, _rewrite, synthetic_offers
from bench.common import ROOT, say
from bench.measure import CLOCK_TICKS, proc_stat

INCREMENTAL = 10_000
INCREMENTAL_SHARE = 600  # seconds before the deadline at which the full run is cancelled
WORKERS = 2
PAGE = os.sysconf("SC_PAGE_SIZE")


def _tree(pid: int) -> list[int]:
    """The process and its descendants (from /proc/<pid>/task/*/children)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            try:
                todo += [int(child) for child in task.read_text().split()]
            except OSError:
                continue
    return found


def _stat(pid: int) -> tuple[float, int, float]:
    """(user + system CPU seconds, RSS bytes, CPU seconds of reaped children) of one process."""
    fields = proc_stat(pid)
    if fields is None:
        return 0.0, 0, 0.0
    cpu = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    reaped = (int(fields[13]) + int(fields[14])) / CLOCK_TICKS
    return cpu, int(fields[21]) * PAGE, reaped


def tree_cpu(pid: int) -> float:
    """CPU seconds of a process tree, the children it already reaped included."""
    total = 0.0
    for index, member in enumerate(_tree(pid)):
        cpu, _, reaped = _stat(member)
        total += cpu + (reaped if index == 0 else 0.0)
    return total


class MemorySampler:
    """Peak of the summed RSS of a process tree, and of its largest process, sampled in a thread."""

    def __init__(self, pid: int, every: float = 0.2) -> None:
        self.pid, self.every = pid, every
        self.peak_sum = self.peak_one = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            sizes = [_stat(member)[1] for member in _tree(self.pid)]
            self.peak_sum = max(self.peak_sum, sum(sizes))
            self.peak_one = max(self.peak_one, max(sizes, default=0))
            self._stop.wait(self.every)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


def _postmaster_pid() -> int | None:
    data = os.environ.get("SERVICES_PG_DATA")
    try:
        return int(Path(data, "postmaster.pid").read_text().split()[0]) if data else None
    except (OSError, ValueError, IndexError):
        return None


def _load(offers: pd.DataFrame, categories: dict, shops: dict, user, reason: str) -> float:
    from catalog.models import Offer
    from core.inserts import insert_with_history

    started = time.perf_counter()
    for start in range(0, len(offers), 100_000):
        chunk = offers.iloc[start : start + 100_000]
        rows = [
            {"shop_id": shops[shop], "external_id": str(offer_id), "title": title,
             "price": Decimal(f"{price:.2f}"), "brand": "", "category_id": categories[category],
             "attributes": {}, "image_url": "", "image_vector": None}
            for offer_id, shop, title, price, category in chunk[
                ["offer_id", "shop", "title", "price", "category"]
            ].itertuples(index=False)
        ]  # fmt: skip
        insert_with_history(Offer, rows, user=user, reason=reason)
    return time.perf_counter() - started


def new_shop_offers(offers: pd.DataFrame, count: int, *, seed: int = 1) -> pd.DataFrame:
    """`count` new offers: products already on sale, each listed once more by a shop that lacked it."""
    rng = random.Random(seed)
    first = offers.drop_duplicates("gold").set_index("gold")
    shops_of = offers.groupby("gold")["shop"].agg(set)
    products = rng.sample(sorted(shops_of.index), count)
    rows = []
    for position, product in enumerate(products):
        shop = rng.choice([f"shop{s}" for s in range(60) if f"shop{s}" not in shops_of[product]])
        base = first.loc[product]
        words = [w for w in base["title"].split() if w not in NOISE]
        price = round(float(base["price"]) * rng.uniform(0.9, 1.1), 2)
        rows.append((len(offers) + position, shop, _rewrite(words, rng), price, base["category"], product))
    return pd.DataFrame(rows, columns=["offer_id", "shop", "title", "price", "category", "gold"])


def _setup(count: int):
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from catalog.models import Shop
    from core.inserts import insert_with_history
    from labeling.models import Category, Taxonomy

    call_command("migrate", interactive=False, verbosity=0)
    user = get_user_model().objects.create_user("scale-bench", password=uuid.uuid4().hex)
    taxonomy = Taxonomy.objects.create(name="scale bench")
    top = Category.objects.create(taxonomy=taxonomy, level=1, name="synthetic")
    offers = synthetic_offers(count)
    categories = {
        value: Category.objects.create(taxonomy=taxonomy, level=2, parent=top, name=f"c{value}").id
        for value in sorted(offers["category"].unique())
    }
    names = [{"name": f"shop{s}"} for s in range(60)]
    insert_with_history(Shop, names, user=user, reason="scale bench")
    shops = dict(Shop.objects.values_list("name", "id"))
    return user, offers, categories, shops


def _start_worker(folder: Path) -> tuple[subprocess.Popen, str]:
    """A real Celery worker, two prefork processes; one OpenMP thread each (two processes on two cores)."""
    from admin_site.celery import app

    name = f"scale-{uuid.uuid4().hex[:8]}@localhost"
    log = folder / "worker.log"
    command = [sys.executable, "-m", "celery", "-A", "admin_site", "worker", "--pool=prefork",
               f"--concurrency={WORKERS}", "--queues=celery", "--without-gossip", "--without-mingle",
               "-n", name, "-l", "INFO"]  # fmt: skip
    env = os.environ | {"OMP_NUM_THREADS": "1"}
    with log.open("w") as out:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    deadline = time.monotonic() + 120
    while not app.control.ping(destination=[name], timeout=1.0):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"Celery worker did not start:\n{log.read_text()[-4000:]}")
    return process, name


def stop_worker(worker: subprocess.Popen) -> None:
    """Stop the worker `_start_worker` started (its process group when it does not stop within a minute)."""
    worker.terminate()
    try:
        worker.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, 9)
        worker.wait()


def _run(mode: str, user, worker: subprocess.Popen, deadline: float | None = None) -> dict:
    """Enqueue a run (one task per category), wait for it; wall, CPU and memory of the worker's processes.

    Past `deadline` (a time.time()) the run is cancelled as an operator would: categories not started are
    skipped, those being built finish; the figures then cover the categories done."""
    from catalog.models import CatalogRun
    from catalog.services.runs import FINISHED, catalog_run_cancel, catalog_run_enqueue, run_totals

    postmaster = _postmaster_pid()
    cpu_before = tree_cpu(worker.pid)
    pg_before = tree_cpu(postmaster) if postmaster else None
    load_before = os.getloadavg()
    with MemorySampler(worker.pid) as memory:
        started = time.perf_counter()
        run = catalog_run_enqueue(user=user, mode=mode)
        while True:
            run.refresh_from_db()
            if run.status in FINISHED:
                break
            if deadline and time.time() > deadline and not run.cancel_requested:
                say(f"  deadline: cancelling run #{run.id} ({len(run.done_categories)} categories done)")
                catalog_run_cancel(run=run)
            if worker.poll() is not None:
                raise RuntimeError("the Celery worker died during the run")
            time.sleep(0.5)
        seconds = time.perf_counter() - started
    if run.status not in (CatalogRun.Status.SUCCEEDED, CatalogRun.Status.CANCELLED):
        raise RuntimeError(f"run #{run.id} ended {run.status}: {run.message}")
    per_category = list(run.figures.values())
    return {
        "finished": run.status == CatalogRun.Status.SUCCEEDED,
        "categories_done": len(per_category),
        "seconds": round(seconds, 1),
        "cpu_seconds": round(tree_cpu(worker.pid) - cpu_before, 1),
        "postgresql_cpu_seconds": round(tree_cpu(postmaster) - pg_before, 1) if postmaster else None,
        "peak_rss_bytes": memory.peak_sum,
        "peak_rss_one_process_bytes": memory.peak_one,
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "totals": run_totals(run),
        "category_seconds": {
            key: round(sum(f.get(key, 0.0) for f in per_category), 1)
            for key in ("seconds", "cpu_seconds", "grouping_seconds", "write_seconds")
        },
        "slowest_category_seconds": max((f.get("seconds", 0.0) for f in per_category), default=0.0),
    }


def _catalog_of(offers: pd.DataFrame, shops: dict) -> np.ndarray:
    """The catalog of each offer row (-1 for none), read back from the database."""
    from catalog.models import CatalogMembership

    by_key = {
        (shop, external): catalog
        for shop, external, catalog in CatalogMembership.objects.values_list(
            "offer__shop_id", "offer__external_id", "catalog_id"
        ).iterator(chunk_size=50_000)
    }
    keys = zip(offers["shop"].map(shops), offers["offer_id"].astype(str), strict=True)
    return np.asarray([by_key.get(key, -1) for key in keys], dtype=np.int64)


def _attach_precision(old: pd.DataFrame, new: pd.DataFrame, shops: dict) -> dict:
    """Share of the new offers attached, and of those, how many joined a catalog of their own product."""
    old_catalog, new_catalog = _catalog_of(old, shops), _catalog_of(new, shops)
    product_of = (
        pd.DataFrame({"catalog": old_catalog, "gold": old["gold"].to_numpy()})
        .query("catalog >= 0")
        .groupby("catalog")["gold"]
        .agg(lambda g: g.value_counts().index[0])
    )
    attached = new_catalog >= 0
    right = new["gold"].to_numpy()[attached] == product_of.reindex(new_catalog[attached]).to_numpy()
    return {
        "attached_share": round(float(attached.mean()), 4),
        "attached_to_own_product": round(float(right.mean()), 4) if attached.any() else None,
    }


def scale_db_one(count: int, deadline: float | None = None) -> dict:
    """One size on the database DATABASE_URL names (fresh): load, full run through the worker, 10,000 new
    offers, incremental run; figures."""
    from bench.catalog_data import score

    say(f"scale-db {count:,}: migrate and load")
    user, offers, categories, shops = _setup(count)
    load_seconds = _load(offers, categories, shops, user, "scale bench load")
    say(f"  loaded {len(offers):,} offers (+ history) in {load_seconds:.1f} s")
    folder = Path(os.environ.get("TMPDIR", "/tmp")) / f"catalog-scale-{count}-{uuid.uuid4().hex[:6]}"
    folder.mkdir(parents=True)
    worker, _ = _start_worker(folder)
    try:
        full = _run("full", user, worker, deadline - INCREMENTAL_SHARE if deadline else None)
        say(f"  full run: {full}")
        quality = {}
        if count <= 200_000:
            predicted = _catalog_of(offers, shops)
            alone = predicted < 0
            predicted[alone] = -1 - np.flatnonzero(alone)  # an offer in no catalog is its own group
            quality = score(predicted, offers["gold"].to_numpy())
        if deadline and time.time() > deadline - 120:
            incremental = {"skipped": "no time left before the deadline"}
            return _row(count, categories, load_seconds, full, quality, incremental)
        new = new_shop_offers(offers, INCREMENTAL)
        new_load = _load(new, categories, shops, user, "scale bench: new offers")
        incremental = _run("incremental", user, worker, deadline)
        incremental |= {"new_offers": len(new), "load_seconds": round(new_load, 1)}
        incremental |= _attach_precision(offers, new, shops)
        say(f"  incremental run: {incremental}")
    finally:
        stop_worker(worker)
    return _row(count, categories, load_seconds, full, quality, incremental)


def _row(count, categories, load_seconds, full, quality, incremental) -> dict:
    return {
        "offers": count,
        "categories": len(categories),
        "load_seconds": round(load_seconds, 1),
        "full": full,
        "quality": quality,
        "incremental": incremental,
        "worker": f"celery prefork --concurrency={WORKERS}, OMP_NUM_THREADS=1",
    }


def scale_db(
    counts: list[int],
    timeout: float,
    deadline: float | None = None,
    *,
    script: Path = ROOT / "bench" / "catalog.py",
    one: tuple[str, ...] = ("--scale-db-one",),
    out: str = "--scale-db-out",
) -> list[dict]:
    """Each size in a child process on its own database (created, then dropped): `script one COUNT out FILE`
    writes the size's row as JSON to FILE."""
    from bench.common import require_postgresql

    url = require_postgresql("bench/catalog.py")
    rows = []
    for count in counts:
        database = f"catalog_scale_{count}_{uuid.uuid4().hex[:6]}"
        env = os.environ | {"DATABASE_URL": url.rsplit("/", 1)[0] + "/" + database}
        result = Path(os.environ.get("TMPDIR", "/tmp")) / f"{database}.json"
        command = [sys.executable, str(script), *one, str(count)]
        if deadline:
            command += ["--scale-deadline", str(deadline)]
        say(f"scale-db: {count:,} offers in database {database}")
        try:
            done = subprocess.run([*command, out, str(result)], env=env, timeout=timeout, cwd=ROOT)
        except subprocess.TimeoutExpired:
            rows.append({"offers": count, "error": f"did not finish within {timeout:.0f} s"})
            continue
        finally:
            _drop(url, database)
        if done.returncode or not result.exists():
            rows.append({"offers": count, "error": f"exit status {done.returncode} (its output is above)"})
            continue
        rows.append(json.loads(result.read_text()))
        result.unlink()
    return rows


def _drop(url: str, database: str) -> None:
    import dj_database_url
    import psycopg
    from psycopg import sql

    db = dj_database_url.parse(url)
    params = {k: str(db[n]) for k, n in (("host", "HOST"), ("port", "PORT"), ("user", "USER")) if db.get(n)}
    with psycopg.connect(dbname=db["NAME"], autocommit=True, **params) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database)))
