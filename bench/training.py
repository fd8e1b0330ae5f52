"""Benchmark of the training algorithms and of the training pipeline's overhead.

On 20 Newsgroups (official train/test split) and the Korean petitions (seeded stratified 80/20 split)
measures accuracy, macro-F1, train seconds, model size and one-text prediction latency of each algorithm
with a few settings; then loads the 20 Newsgroups train split into PostgreSQL and times a pipeline run
(`run_start` + `run_execute`, no k-fold) against the library called directly on the same rows.
Writes bench/results/training.md (for people) and bench/results/training.json (for tools).

Run from the project root:  make bench
                       or:  scripts/with-services.sh .venv/bin/python bench/training.py [--quick]

It needs DATABASE_URL to name a fresh PostgreSQL database (scripts/with-services.sh starts a private
one); the database is created when missing, then migrated, then filled.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import RESULTS, setup_django  # noqa: E402  (the project root must be importable first)

SCRIPT = "bench/training.py"


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: 600 posts per split, 10 fastText epochs, 10 s parameter search (not comparable)",
    )
    parser.add_argument(
        "--autotune-seconds", type=int, default=120, help="fastText parameter search budget per dataset (120)"
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=("pipeline", "20newsgroups", "korean-petitions"),
        help="run only this part (repeatable; default: all)",
    )
    parser.add_argument(
        "--setting", action="append", help="run only the settings whose label contains this (repeatable)"
    )
    parser.add_argument("--name", default="training", help="results file name (training)")
    parser.add_argument("--results", type=Path, default=RESULTS, help="output folder")
    parser.add_argument("--strict", action="store_true", help="exit 2 when a target is missed")
    args = parser.parse_args(argv)
    if args.autotune_seconds < 1:
        parser.error("need --autotune-seconds >= 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    setup_django(SCRIPT)
    from bench.training_run import run  # needs the apps loaded

    return run(
        quick=args.quick,
        autotune_seconds=10 if args.quick else args.autotune_seconds,
        only=args.only or ["pipeline", "20newsgroups", "korean-petitions"],
        settings=args.setting or [],
        name=args.name,
        results_dir=args.results,
        strict=args.strict,
    )


if __name__ == "__main__":
    sys.exit(main())
