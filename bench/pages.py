"""Benchmark of the labeling queue and the search page at 500,000 contents and 100,000 examples.

Loads 500,000 contents of real text (100,000 of them labelled in one dataset of 200 small categories; the
dataset's pool is every content, so 400,000 are unlabelled), then measures the server time of the queue
page (unlabelled, review and category queues; every request claims an item) and of the search page
(no filter, a deep page, title text, body text, status, large category, labeller) with Django's test
Client, logged in as annotators: median and p95 of up to 200 requests each, against p95 < 200 ms. For a
page over the target, the plan of its slowest queries (EXPLAIN ANALYZE).
Writes bench/results/pages.md (for people) and bench/results/pages.json (for tools).

Run from the project root:  make bench
                       or:  scripts/with-services.sh .venv/bin/python bench/pages.py [--contents N]

It needs DATABASE_URL to name a fresh PostgreSQL database (scripts/with-services.sh starts a private
one); the database is created when missing, then migrated, then filled.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import RESULTS, setup_django  # noqa: E402  (the project root must be importable first)

SCRIPT = "bench/pages.py"


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contents", type=int, default=500_000, help="contents in the database (500,000)")
    parser.add_argument("--examples", type=int, default=100_000, help="examples in the dataset (100,000)")
    parser.add_argument("--review", type=int, default=5_000, help="examples marked needs_review (5,000)")
    parser.add_argument(
        "--requests", type=int, default=200, help="requests per page (200; fewer for slow ones)"
    )
    parser.add_argument("--results", type=Path, default=RESULTS, help="output folder")
    parser.add_argument("--strict", action="store_true", help="exit 2 when a target is missed")
    args = parser.parse_args(argv)
    if not 200 <= args.examples <= args.contents or not 0 < args.review <= args.examples:
        parser.error("need 200 <= --examples <= --contents and 0 < --review <= --examples")
    if args.requests < 5:
        parser.error("need --requests >= 5")
    return args


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    setup_django(SCRIPT)
    from bench.pages_run import run  # needs the apps loaded

    return run(
        contents=args.contents,
        examples=args.examples,
        review=args.review,
        requests=args.requests,
        results_dir=args.results,
        strict=args.strict,
    )


if __name__ == "__main__":
    sys.exit(main())
