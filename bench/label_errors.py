"""Benchmark of finding label errors: our ranking (training/verification.py) against cleanlab.

Flips 5 % of the labels of the 20 Newsgroups train split (11,314 posts) at random, computes 5-fold
out-of-fold probabilities with the project's default algorithm, then measures how well each method finds
the flipped posts: precision and recall of the top k of a ranking (k = the number flipped) and of a
method's set of issues. Compares `label_quality` and `confident_issues` with cleanlab's
`find_label_issues` on the same probabilities. Repeats with 3 seeds (flips and folds).
Writes bench/results/label_errors.md (for people) and bench/results/label_errors.json (for tools).

With `--imdb` (PostgreSQL: scripts/with-services.sh), also real, crowd-checked errors: the 25,000 IMDB test
reviews of ../shared/datasets/imdb-label-errors/ through the importer and a pipeline run with 5-fold
out-of-fold predictions, against TF-IDF 1-2 grams + logistic regression (bench/label_errors_imdb.py); written
to bench/results/label_errors_imdb.md and .json. `--skip-flips` runs only that part.

Run from the project root:  make bench
                       or:  .venv/bin/python bench/label_errors.py [--quick] [--seeds N]
      with IMDB:  scripts/with-services.sh .venv/bin/python bench/label_errors.py --imdb [--skip-flips]

The flips part needs no database. cleanlab is not a dependency of bunryu: the comparison imports it from
var/bench-cleanlab (`make bench` installs it there) and is reported as skipped when it is not there.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402  (root importable first)
    RESULTS,
    checks_lines,
    machine_lines,
    run_measured,
)
from bench.label_errors_run import CLEANLAB_DIR, run  # noqa: E402

SCRIPT = "bench/label_errors.py"


class ImdbBench:
    """The IMDB part in the house shape of the other benchmarks (run_measured)."""

    def __init__(self, *, algorithm: str, params: dict) -> None:
        self.algorithm, self.params, self.figures = algorithm, params, {}

    def setup(self) -> None:
        pass

    def run(self) -> None:
        from bench.label_errors_imdb import run_imdb

        self.figures = run_imdb(script=SCRIPT, params=self.params, algorithm=self.algorithm)

    def results(self, machine: dict, code: dict) -> dict:
        from bench.label_errors_imdb import TARGET, TARGET_PUBLISHED

        targets = [
            ("imdb_recall_vs_reference", TARGET, self.figures.get("passed")),
            ("imdb_recall_vs_published_reference", TARGET_PUBLISHED, self.figures.get("passed_published")),
        ]
        return {
            "benchmark": "label_errors_imdb",
            "machine": machine,
            "code": code,
            "figures": self.figures,
            "verdicts": [
                {"key": key, "label": label, "verdict": "pass" if passed else "FAIL"}
                for key, label, passed in targets
            ],
            "failed_targets": [key for key, _, passed in targets if not passed],
            "checks": self.figures.get("checks", []),
        }

    @staticmethod
    def markdown(results: dict) -> str:
        from bench.label_errors_imdb import markdown_lines

        lines = ["# Label errors: IMDB crowd-checked errors through the pipeline", ""]
        lines += markdown_lines(results["figures"])
        if results.get("error"):
            lines += ["**The run stopped on an error:**", "", "```", results["error"].rstrip(), "```", ""]
        return "\n".join(
            [*lines, *checks_lines(results["checks"]), *machine_lines(results["machine"], results["code"])]
        )


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
    parser.add_argument("--imdb", action="store_true", help="also the IMDB crowd-checked errors (PostgreSQL)")
    parser.add_argument("--skip-flips", action="store_true", help="skip the 20 Newsgroups flips part")
    parser.add_argument(
        "--imdb-param",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="the algorithm's parameter (IMDB run)",
    )
    parser.add_argument("--imdb-algorithm", default="tfidf-svm", help="the IMDB run's algorithm (tfidf-svm)")
    args = parser.parse_args(argv)
    if args.skip_flips and not args.imdb:
        parser.error("--skip-flips leaves nothing to run without --imdb")
    if args.seeds < 1:
        parser.error("need --seeds >= 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    status = 0
    if not args.skip_flips:
        status = run(
            quick=args.quick,
            seeds=1 if args.quick else args.seeds,
            cleanlab_dir=args.cleanlab,
            results_dir=args.results,
        )
    if args.imdb:
        status = max(status, imdb(args))
    return status


def imdb(args: argparse.Namespace) -> int:
    from bench.common import setup_django
    from training.algorithms import parse_assignments

    setup_django(SCRIPT)
    bench = ImdbBench(algorithm=args.imdb_algorithm, params=parse_assignments(args.imdb_param))
    return run_measured(
        bench, name="label_errors_imdb", results_dir=args.results, markdown=bench.markdown, strict=False
    )


if __name__ == "__main__":
    sys.exit(main())
