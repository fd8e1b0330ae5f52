"""Benchmark of the memory an import job holds: peak RSS of the preview and apply jobs, by file size and
database (issue 16, item 10: under ~600 MB whatever the file's size).

The 20 Newsgroups train split (11,314 posts) cycled to the wanted rows (ids prefixed per cycle) is written
to a CSV file on disk once. For each database (PostgreSQL, the one DATABASE_URL names; SQLite, the embedded
default in a fresh var folder) and each size, a fresh process migrates, makes the 20-group taxonomy and a
dataset and stores the upload (ExampleImport), then the preview job and the apply job each run in a fresh
process of their own (`core.jobs.job_run`, as the worker runs them), which reports its peak RSS
(getrusage) and seconds. The small file is the baseline of the same run: bounded memory means the peak does
not grow with the rows. Writes bench/results/import_memory.md and .json.

Run from the project root:  make bench
                       or:  scripts/with-services.sh .venv/bin/python bench/import_memory.py [--rows 100000]
"""

import argparse
import csv
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = "bench/import_memory.py"
BASELINE_ROWS = 10_000
TARGET_MB = 600  # peak RSS of one job, whatever the file's size
ISSUE_BEFORE = {"rows": 100_000, "file_mb": 210, "peak_mb": 1770, "seconds": 44}  # SQLite, before the change


def _arguments(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000], help="big file rows (100,000)")
    parser.add_argument("--databases", nargs="+", default=["postgresql", "sqlite"])
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results", help="output folder")
    parser.add_argument("--strict", action="store_true", help="exit 2 when a target is missed")
    parser.add_argument(
        "--step", help=argparse.SUPPRESS
    )  # a child process: load, import_preview, import_apply
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


# --------------------------------------------------------------------------------------- the child steps


def _child(step: str, file: Path | None) -> dict:
    import resource

    sys.path.insert(0, str(ROOT))
    os.environ["DJANGO_SETTINGS_MODULE"] = "admin_site.settings"
    import django

    django.setup()
    from django.contrib.auth import get_user_model

    from labeling.models import Example, ExampleImport

    if step == "load":
        from django.core.management import call_command

        from bench.corpus import newsgroups_taxonomy
        from labeling.services.datasets import dataset_create

        call_command("migrate", interactive=False, verbosity=0)
        user = get_user_model().objects.create_superuser("bench", "bench@example.com", "x")
        dataset = dataset_create(name="news", taxonomy=newsgroups_taxonomy(user), user=user)
        upload = ExampleImport.objects.create(
            dataset=dataset, file_name=file.name, data=file.read_bytes(), uploaded_by=user
        )
        return {"import": upload.id, "dataset": dataset.id}
    from core.jobs import job_enqueue, job_run
    from core.models import Job

    upload = ExampleImport.objects.get()
    job = job_enqueue(
        kind=step, dataset=upload.dataset, params={"import": upload.id}, user=upload.uploaded_by
    )
    start = time.perf_counter()
    job_run(job.id)
    seconds = time.perf_counter() - start
    job = Job.objects.get(pk=job.id)
    upload.refresh_from_db(fields=["preview", "status", "changeset"])
    return {
        "status": job.status,
        "seconds": round(seconds, 2),
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "new": upload.preview.get("new"),
        "errors": upload.preview.get("errors"),
        "examples": Example.objects.filter(dataset=upload.dataset).count(),
    }


def _run_child(step: str, env: dict, file: Path) -> dict:
    done = subprocess.run(
        [sys.executable, __file__, "--step", step, "--file", str(file)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise RuntimeError(f"{step} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --------------------------------------------------------------------------------------------- the parent


def write_file(path: Path, rows: int) -> None:
    """The train split cycled to `rows` rows, UTF-8, written a cycle at a time."""
    from bench.import_export_run import read_train_split

    posts = read_train_split()
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["external_id", "title", "body", "category"])
        for i in range(rows):
            post = posts[i % len(posts)]
            writer.writerow([f"c{i // len(posts)}/{post.external_id}", post.title, post.body, post.group])


def _database_env(database: str, label: str, tmp: Path) -> dict:
    env = dict(os.environ)
    env["BUNRYU_VAR_DIR"] = str(tmp / f"var-{label}")
    if database == "sqlite":
        env.pop("DATABASE_URL", None)
        return env
    from bench.common import ensure_database

    base = os.environ["DATABASE_URL"].rsplit("/", 1)[0]
    env["DATABASE_URL"] = f"{base}/bench_import_memory_{label}"
    ensure_database(env["DATABASE_URL"], SCRIPT)
    return env


def run(args) -> dict:
    from bench.common import Checks, say
    from bench.measure import code_version, machine_facts

    check, figures, error = Checks(), [], None
    sizes = sorted({BASELINE_ROWS, *args.rows})
    with tempfile.TemporaryDirectory(prefix="import-memory-") as folder:
        tmp = Path(folder)
        try:
            for rows in sizes:
                file = tmp / f"news-{rows}.csv"
                write_file(file, rows)
                file_mb = file.stat().st_size / 1e6
                say(f"{rows:,} rows: {file_mb:.0f} MB")
                for database in args.databases:
                    env = _database_env(database, f"{database}_{rows}", tmp)
                    _run_child("load", env, file)
                    for step in ("import_preview", "import_apply"):
                        got = _run_child(step, env, file)
                        peak_mb = got["peak_rss_bytes"] / 1e6
                        big = rows != BASELINE_ROWS
                        verdict = ("pass" if peak_mb < TARGET_MB else "FAIL") if big else "info"
                        figures.append(
                            {
                                "key": f"{step}_{database}_{rows}",
                                "database": database,
                                "step": step,
                                "rows": rows,
                                "file_mb": round(file_mb, 1),
                                "seconds": got["seconds"],
                                "peak_rss_mb": round(peak_mb),
                                "target_mb": TARGET_MB if big else None,
                                "verdict": verdict,
                            }
                        )
                        seconds = got["seconds"]
                        say(f"{database} {step} {rows:,}: {seconds:.1f} s, peak {peak_mb:.0f} MB [{verdict}]")
                        check(f"{database} {step} {rows:,} succeeded", "succeeded", got["status"])
                        if step == "import_preview":
                            check(f"{database} preview {rows:,}: new rows", rows, got["new"])
                        else:
                            check(f"{database} examples after {rows:,}", rows, got["examples"])
                file.unlink()
        except Exception as exc:  # keep what was measured
            import traceback

            error = traceback.format_exc()
            say(f"stopped on an error: {exc}")
    return {
        "benchmark": "import_memory",
        "machine": machine_facts(),
        "code": code_version(ROOT),
        "parameters": {"rows": sizes, "databases": args.databases, "chunk_rows": _chunk_rows()},
        "reference_before": ISSUE_BEFORE,
        "figures": figures,
        "verdicts": {row["key"]: row["verdict"] for row in figures},
        "failed_targets": [row["key"] for row in figures if row["verdict"] == "FAIL"],
        "checks": check.rows,
        "error": error,
    }


def _chunk_rows() -> int:
    return int(os.environ.get("IMPORT_CHUNK_ROWS", 5000))


def markdown(results: dict) -> str:
    from bench.common import report_end

    before = results["reference_before"]
    lines = [
        "# Import jobs: peak memory by file size",
        "",
        f"Produced by `{SCRIPT}`. The 20 Newsgroups train split cycled to each size, stored as an upload; "
        "the preview job and the apply job each in a fresh process (`core.jobs.job_run`, as the worker runs "
        "them), peak RSS from getrusage. Rows are read, checked and written "
        f"{results['parameters']['chunk_rows']:,} at a time (IMPORT_CHUNK_ROWS), one transaction. "
        f"Target: under {TARGET_MB} MB whatever the size. "
        f"Before the change (issue 16): {before['rows']:,} rows ({before['file_mb']} MB) peaked at "
        f"{before['peak_mb']:,} MB on SQLite.",
        "",
        "| database | job | rows | file MB | seconds | peak RSS MB | target | verdict |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for row in results["figures"]:
        target = f"< {row['target_mb']}" if row["target_mb"] else "— (baseline)"
        lines.append(
            f"| {row['database']} | {row['step'].replace('_', ' ')} | {row['rows']:,} | "
            f"{row['file_mb']:.0f} | {row['seconds']:.1f} | {row['peak_rss_mb']:,} | {target} | "
            f"{row['verdict']} |"
        )
    lines.append("")
    return report_end(lines, results)


def main(argv=None) -> int:
    args = _arguments(argv)
    if args.step:
        print(json.dumps(_child(args.step, args.file)))
        return 0
    sys.path.insert(0, str(ROOT))
    from bench.common import setup_django, write_results

    setup_django(SCRIPT)  # the corpus reader imports the models; machine facts read PostgreSQL's settings
    results = run(args)
    write_results(args.results, "import_memory", results, markdown(results))
    if results["error"] or not all(c["ok"] for c in results["checks"]):
        return 1
    return 2 if args.strict and results["failed_targets"] else 0


if __name__ == "__main__":
    sys.exit(main())
