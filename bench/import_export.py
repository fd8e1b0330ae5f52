"""Benchmark of importing and exporting the 20 Newsgroups training split (11,314 labelled posts).

Builds the official train split as one CSV file in memory (external_id, title, body, category), then on
PostgreSQL measures: the import preview, the import into an empty dataset (contents, examples, history
rows, a changeset and an automatic version), a second import of the same file (nothing changes), and the
export of the working state as CSV, JSONL and fastText, directly and through the HTTP view.
Writes bench/results/import_export.md (for people) and bench/results/import_export.json (for tools).

Run from the project root:  make bench
                       or:  scripts/with-services.sh .venv/bin/python bench/import_export.py [--repeat N]

It needs DATABASE_URL to name a fresh PostgreSQL database (scripts/with-services.sh starts a private
one); the database is created when missing, then migrated, then filled.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import RESULTS, setup_django  # noqa: E402  (the project root must be importable first)

SCRIPT = "bench/import_export.py"


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="runs of each figure, the median counts (3); each import run uses a new empty dataset",
    )
    parser.add_argument("--results", type=Path, default=RESULTS, help="output folder")
    parser.add_argument("--strict", action="store_true", help="exit 2 when a target is missed")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("need --repeat >= 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    setup_django(SCRIPT)
    from bench.import_export_run import run  # needs the apps loaded

    return run(repeat=args.repeat, results_dir=args.results, strict=args.strict)


if __name__ == "__main__":
    sys.exit(main())
