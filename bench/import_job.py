"""Benchmark of a 100,000-row CSV import run as jobs: the preview job, then the apply job.

Moved out of the test suite (tests/labeling/test_import_flow.py keeps a 5,000-row import through the real
worker). Runs the job handlers in this process exactly as the worker's `core.tasks.job_run_task` does
(`core.jobs.job_run`), on the demo's Korean petition texts cycled to the wanted size; the 5,000-row file is
measured in the same run as the baseline, so the figures show whether the time grows with the rows alone.
Writes bench/results/import_job.md (for people) and bench/results/import_job.json (for tools).

Run from the project root:  make bench
                       or:  scripts/with-services.sh .venv/bin/python bench/import_job.py [--rows N]
"""

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = "bench/import_job.py"
BASELINE_ROWS = 5_000
TARGETS = {"preview": 30.0, "apply": 60.0}  # seconds for the big file, on this 2-core machine


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="rows of the big file (100,000)")
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results", help="output folder")
    parser.add_argument("--strict", action="store_true", help="exit 2 when a target is missed")
    args = parser.parse_args(argv)
    if args.rows < BASELINE_ROWS:
        parser.error(f"need --rows >= {BASELINE_ROWS}")
    return args


class ImportJobBench:
    def __init__(self, rows: int) -> None:
        from bench.common import Checks

        self.rows, self.figures, self.check = rows, [], Checks()

    def setup(self) -> None:
        from bench.common import migrate_fresh

        migrate_fresh(SCRIPT)

    def run(self) -> None:
        for rows in sorted({BASELINE_ROWS, self.rows}):
            self._one(rows)

    def _one(self, rows: int) -> None:
        from bench.common import say
        from core.jobs import job_enqueue, job_run
        from labeling.models import Example, ExampleImport
        from tests.factories import user_with_role
        from tests.labeling.test_import_flow import demo_petitions_csv, petitions_dataset

        manager = user_with_role("category manager", username=f"manager-{rows}")
        dataset = petitions_dataset(name=f"petitions-{rows}")
        data = demo_petitions_csv(rows, prefix=f"r{rows}-")
        upload = ExampleImport.objects.create(
            dataset=dataset, file_name="big.csv", data=data, uploaded_by=manager
        )
        for kind in ("import_preview", "import_apply"):
            job = job_enqueue(kind=kind, dataset=dataset, params={"import": upload.id}, user=manager)
            start = time.perf_counter()
            job_run(job.id)
            seconds = time.perf_counter() - start
            job.refresh_from_db()
            self.check(f"{kind} of {rows:,} rows succeeded", "succeeded", job.status)
            target = TARGETS[kind.split("_")[1]] if rows == self.rows else None
            verdict = "info" if target is None else ("pass" if seconds < target else "FAIL")
            self.figures.append(
                {
                    "key": f"{kind}_{rows}",
                    "label": f"{kind.replace('_', ' ')} job, {rows:,} rows",
                    "rows": rows,
                    "seconds": round(seconds, 2),
                    "rows_per_second": round(rows / seconds),
                    "target_seconds": target,
                    "verdict": verdict,
                }
            )
            say(f"{kind} {rows:,} rows: {seconds:.2f} s [{verdict}]")
        upload.refresh_from_db()
        self.check(f"preview of {rows:,}: new rows", rows, upload.preview["new"])
        self.check(f"examples after {rows:,}", rows, Example.objects.filter(dataset=dataset).count())
        changeset = upload.changeset_id
        self.check(f"history rows of {rows:,}", rows, Example.history.filter(changeset_id=changeset).count())

    def results(self, machine: dict, code: dict) -> dict:
        return {
            "benchmark": "import_job",
            "machine": machine,
            "code": code,
            "parameters": {"rows": self.rows, "baseline_rows": BASELINE_ROWS},
            "targets_seconds": TARGETS,
            "figures": self.figures,
            "verdicts": {row["key"]: row["verdict"] for row in self.figures},
            "failed_targets": [row["key"] for row in self.figures if row["verdict"] == "FAIL"],
            "checks": self.check.rows,
        }


def markdown(results: dict) -> str:
    from bench.common import report_end

    lines = [
        "# Import jobs: a 100,000-row CSV file",
        "",
        f"Produced by `{SCRIPT}` (`make bench`). The preview and apply job handlers run in the benchmark's "
        "process as the worker runs them (`core.jobs.job_run`), on PostgreSQL; Korean petition texts of the "
        f"demo, cycled. The {BASELINE_ROWS:,}-row file is the baseline measured in the same run.",
        "",
        "| job | rows | seconds | rows/s | target | verdict |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for row in results["figures"]:
        target = f"< {row['target_seconds']:.0f} s" if row["target_seconds"] else "—"
        lines.append(
            f"| {row['label']} | {row['rows']:,} | {row['seconds']:.2f} | {row['rows_per_second']:,} | "
            f"{target} | {row['verdict']} |"
        )
    lines.append("")
    return report_end(lines, results)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    sys.path.insert(0, str(ROOT))
    from bench.common import run_measured, setup_django

    setup_django(SCRIPT)
    bench = ImportJobBench(args.rows)
    return run_measured(
        bench, name="import_job", results_dir=args.results, markdown=markdown, strict=args.strict
    )


if __name__ == "__main__":
    sys.exit(main())
