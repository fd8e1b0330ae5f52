"""Benchmark of dataset versions on 100,000 examples of real text.

Measures, on one dataset of 200 small categories: the full first commit, a set-based relabel of 30,000
examples, the dirty-check, the delta commit, the diff of two versions, the exports of a version and the
rollback of the 30,000 examples; plus the bytes each version costs in PostgreSQL and the peak memory.
Writes bench/results/versions.md (for people) and bench/results/versions.json (for tools).

Run from the project root:  make bench
                       or:  scripts/with-services.sh .venv/bin/python bench/versions.py [--examples N]

It needs DATABASE_URL to name a fresh PostgreSQL database (scripts/with-services.sh starts a private
one); the database is created when missing, then migrated, then filled.
"""

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=100_000, help="examples in the dataset (100,000)")
    parser.add_argument("--relabel", type=int, default=30_000, help="examples relabelled for v2 (30,000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each cheap read; the median counts")
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results", help="output folder")
    parser.add_argument("--strict", action="store_true", help="exit 2 when a target is missed")
    args = parser.parse_args(argv)
    if args.examples < 200 or not 0 < args.relabel <= args.examples or args.repeat < 1:
        parser.error("need --examples >= 200 (one per category), 0 < --relabel <= --examples, --repeat >= 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    sys.path.insert(0, str(ROOT))
    from bench.common import setup_django  # refuses SQLite, creates the database, sets Django up

    setup_django("bench/versions.py")
    from bench.versions_run import run  # needs the apps loaded

    return run(
        examples=args.examples,
        relabel=args.relabel,
        repeat=args.repeat,
        results_dir=args.results,
        strict=args.strict,
    )


if __name__ == "__main__":
    sys.exit(main())
