"""Benchmark of a full rebuild over catalogs already built, beside the first build of the same offers.

bench/catalog.py's scale part measures the first build of an empty catalog. An operator's nightly or manual
*full rebuild* runs over catalogs that exist: its groups are matched to them (catalog ids stay stable), the
kept catalogs are updated, memberships that moved are deleted and inserted, edges rewritten. Per size, in a
child process on its own fresh PostgreSQL database (bench/catalog_scale_db.py's set-up, unchanged):
synthetic offers loaded by COPY, then through a real Celery worker (prefork, two processes) the first full
build, then a second full build over its catalogs. Measured for both: wall, worker CPU, PostgreSQL CPU, the
categories' grouping and writing seconds; for the rebuild, how many catalogs kept their id and how many
offers are in the catalog (same id) they were in before.

Run from the project root:  SEARCH_NODE=off scripts/with-services.sh .venv/bin/python bench/catalog_rebuild.py
                            [--sizes 100000,200000]
"""

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = "bench/catalog_rebuild.py"


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="100000,200000", help="offer counts (100000,200000)")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds per size")
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results", help="output folder")
    parser.add_argument("--name", default="catalog_rebuild", help="results file name (catalog_rebuild)")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def _run_figures(mode: str, user, worker) -> dict:
    """bench/catalog_scale_db's run figures, plus the catalogs the run created and kept (its categories')."""
    from bench.catalog_scale_db import _run
    from catalog.models import CatalogRun

    figures = _run(mode, user, worker)
    per_category = list(CatalogRun.objects.latest("id").figures.values())
    for key in ("new_catalogs", "kept_catalogs"):
        figures[key] = sum(f.get(key, 0) for f in per_category)
    return figures


def rebuild_one(count: int) -> dict:
    """One size on the (fresh) database DATABASE_URL names: load, first build, rebuild; figures."""
    import os
    import uuid

    from bench.catalog_scale_db import _catalog_of, _load, _setup, _start_worker, stop_worker
    from bench.common import say
    from catalog.models import Catalog

    say(f"rebuild {count:,}: migrate and load")
    user, offers, categories, shops = _setup(count)
    _load(offers, categories, shops, user, "rebuild bench load")
    folder = Path(os.environ.get("TMPDIR", "/tmp")) / f"catalog-rebuild-{count}-{uuid.uuid4().hex[:6]}"
    folder.mkdir(parents=True)
    worker, _ = _start_worker(folder)
    try:
        first = _run_figures("full", user, worker)
        say(f"  first build: {first}")
        before, catalogs = _catalog_of(offers, shops), Catalog.objects.count()
        rebuild = _run_figures("full", user, worker)
        say(f"  rebuild: {rebuild}")
        after = _catalog_of(offers, shops)
    finally:
        stop_worker(worker)
    placed = before >= 0
    return {
        "offers": count,
        "categories": len(categories),
        "first": first,
        "rebuild": rebuild,
        "catalogs_after_first": catalogs,
        "catalogs_after_rebuild": Catalog.objects.count(),
        "offers_in_a_catalog_before": int(placed.sum()),
        "offers_in_the_same_catalog_after": int(((before == after) & placed).sum()),
    }


def _ratio(row: dict, key: str) -> float | None:
    first, again = row["first"].get(key), row["rebuild"].get(key)
    return round(again / first, 2) if first and again is not None else None


def _build_line(offers: int, name: str, f: dict) -> str:
    seconds = f["category_seconds"]
    load = f"{f['load_average_before'][0]} -> {f['load_average_after'][0]}"
    return (
        f"| {offers:,} | {name} | {f['seconds']} | {f['cpu_seconds']} | {f['postgresql_cpu_seconds']} | "
        f"{seconds['grouping_seconds']} | {seconds['write_seconds']} | {f['new_catalogs']:,} | "
        f"{f['kept_catalogs']:,} | {load} |"
    )


def _ratio_line(row: dict) -> str:
    writing = row["rebuild"]["category_seconds"]["write_seconds"]
    writing /= max(row["first"]["category_seconds"]["write_seconds"], 0.01)
    same, placed = row["offers_in_the_same_catalog_after"], row["offers_in_a_catalog_before"]
    return (
        f"| {row['offers']:,} | {_ratio(row, 'seconds')} | {_ratio(row, 'cpu_seconds')} | "
        f"{_ratio(row, 'postgresql_cpu_seconds')} | {writing:.2f} | {same:,} of {placed:,} "
        f"({same / max(placed, 1):.1%}) |"
    )


def markdown(results: dict) -> str:
    from bench.common import machine_lines

    lines = [
        "# Catalog: a full rebuild over built catalogs, beside the first build",
        "",
        f"Produced by `{SCRIPT}`. Per size a fresh PostgreSQL database, synthetic offers "
        "(bench/catalog_scale.py), a real Celery worker (prefork, 2 processes, OMP_NUM_THREADS=1): the first "
        "full build of the empty catalog, then a second full build over its catalogs. The machine is shared: "
        "the ratio rebuild / first build (same run, same offers) counts more than the seconds. Grouping and "
        "writing seconds are summed over the categories' tasks (two run at once), so they exceed the wall.",
        "",
        "| offers | build | wall s | worker CPU s | PostgreSQL CPU s | grouping s | writing s | new "
        "catalogs | kept catalogs | load avg before -> after |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    done = [row for row in results["rows"] if "error" not in row]
    for row in results["rows"]:
        if "error" in row:
            lines.append(f"| {row['offers']:,} | error: {row['error']} | | | | | | | | |")
        else:
            lines += [_build_line(row["offers"], name, row[name]) for name in ("first", "rebuild")]
    lines += [
        "",
        "| offers | rebuild / first: wall | worker CPU | PostgreSQL CPU | writing s | offers in the same "
        "catalog (id) after the rebuild |",
        "|---:|---:|---:|---:|---:|---:|",
        *(_ratio_line(row) for row in done),
        "",
        "No target: the issue sets none for a rebuild, so every verdict is `info`.",
        "",
    ]
    return "\n".join(lines + machine_lines(results["machine"], results["code"]))


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    sys.path.insert(0, str(ROOT))
    from bench.common import setup_django

    if args.one:
        setup_django(SCRIPT)
        args.out.write_text(json.dumps(rebuild_one(args.one)))
        return 0
    from bench.catalog_scale_db import scale_db
    from bench.common import write_results
    from bench.measure import code_version, host_facts

    code, machine = code_version(ROOT), host_facts()
    sizes = [int(size) for size in args.sizes.split(",")]
    rows = scale_db(sizes, args.timeout, script=ROOT / SCRIPT, one=("--one",), out="--out")
    results = {
        "benchmark": "catalog_rebuild",
        "machine": machine | {"postgresql_settings": {}, "postgresql": "as started by with-services.sh"},
        "code": code,
        "rows": rows,
        "verdicts": {f"rebuild_{row['offers']}": "info" for row in rows},
        "failed_targets": [],
    }
    write_results(args.results, args.name, results, markdown(results))
    return 1 if any("error" in row for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
