"""Benchmark of finding label errors: our ranking (training/verification.py) against cleanlab.

Flips 5 % of the labels of the 20 Newsgroups train split (11,314 posts) at random, computes 5-fold
out-of-fold probabilities with the project's default algorithm, then measures how well each method finds
the flipped posts: precision and recall of the top k of a ranking (k = the number flipped) and of a
method's set of issues. Compares `label_quality` and `confident_issues` with cleanlab's
`find_label_issues` on the same probabilities. Repeats with 3 seeds (flips and folds).
Writes bench/results/label_errors.md (for people) and bench/results/label_errors.json (for tools).

Run from the project root:  make bench
                       or:  .venv/bin/python bench/label_errors.py [--quick] [--seeds N]

No database. cleanlab is not a dependency of bunryu: the comparison imports it from var/bench-cleanlab
(`make bench` installs it there) and is reported as skipped when it is not there.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import RESULTS  # noqa: E402  (the project root must be importable first)
from bench.label_errors_run import CLEANLAB_DIR, run  # noqa: E402


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: 2,000 random posts, one seed (figures not comparable)",
    )
    parser.add_argument("--seeds", type=int, default=3, help="repetitions with seeds 0, 1, ... (3)")
    parser.add_argument(
        "--cleanlab", type=Path, default=CLEANLAB_DIR, help=f"folder holding cleanlab ({CLEANLAB_DIR})"
    )
    parser.add_argument("--results", type=Path, default=RESULTS, help="output folder")
    args = parser.parse_args(argv)
    if args.seeds < 1:
        parser.error("need --seeds >= 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    return run(
        quick=args.quick,
        seeds=1 if args.quick else args.seeds,
        cleanlab_dir=args.cleanlab,
        results_dir=args.results,
    )


if __name__ == "__main__":
    sys.exit(main())
