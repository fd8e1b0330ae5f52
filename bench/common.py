"""Plumbing shared by bench/import_export.py and bench/pages.py: a fresh PostgreSQL database, Django set up,
figures with targets, result files with the machine facts.

Importable before Django is set up (nothing here touches models at import time).
"""

import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
POSTGRES_SCHEMES = ("postgres://", "postgresql://", "pgsql://", "postgis://")


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def require_postgresql(script: str) -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(POSTGRES_SCHEMES):
        shown = url.split("@")[-1] if url else "unset (SQLite default)"
        sys.exit(
            f"{script}: DATABASE_URL is {shown}; this benchmark measures PostgreSQL.\n"
            f"Run `make bench`, or: scripts/with-services.sh .venv/bin/python {script}"
        )
    return url


def ensure_database(url: str, script: str) -> None:
    """with-services.sh starts a bare cluster: create the database DATABASE_URL names when it is missing."""
    import dj_database_url
    import psycopg
    from psycopg import sql

    db = dj_database_url.parse(url)
    params = {
        key: str(db[name])
        for key, name in (("host", "HOST"), ("port", "PORT"), ("user", "USER"), ("password", "PASSWORD"))
        if db.get(name)
    }
    try:
        psycopg.connect(dbname=db["NAME"], **params).close()
        return
    except psycopg.OperationalError as error:
        if "does not exist" not in str(error):
            sys.exit(f"{script}: cannot connect to PostgreSQL: {error}")
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db["NAME"])))
    say(f"created database {db['NAME']}")


def setup_django(script: str) -> None:
    """Refuse anything but PostgreSQL, create the database when missing, then django.setup()."""
    url = require_postgresql(script)
    ensure_database(url, script)
    here = str(Path(__file__).resolve().parent)
    sys.path[:] = [str(ROOT), *(entry for entry in sys.path if entry != here)]
    os.environ["DJANGO_SETTINGS_MODULE"] = "admin_site.settings"
    import django

    django.setup()


def migrate_fresh(script: str) -> float:
    """Migrate; refuse a database that already holds datasets or contents. Returns the seconds taken."""
    from django.core.management import call_command

    from labeling.models import Content, Dataset

    start = time.perf_counter()
    call_command("migrate", interactive=False, verbosity=0)
    seconds = time.perf_counter() - start
    if Dataset.objects.exists() or Content.objects.exists():
        sys.exit(
            f"{script}: the database already holds data; it needs a fresh one "
            "(scripts/with-services.sh starts a private, empty PostgreSQL)."
        )
    return seconds


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile (p95 of 200 values is the 190th smallest)."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * fraction // 1))  # ceil(n * fraction), at least 1
    return ordered[int(rank) - 1]


def median(values: list[float]) -> float:
    return statistics.median(values)


def write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)


def write_results(results_dir: Path, name: str, results: dict, markdown: str) -> None:
    write_text(results_dir / f"{name}.json", json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    write_text(results_dir / f"{name}.md", markdown)
    say(f"results in {results_dir / (name + '.md')} and {name}.json")


def machine_lines(machine: dict, code: dict) -> list[str]:
    """The '## Machine' section of a report: where and on what code the figures were measured."""
    changed = (
        f" + uncommitted changes in {', '.join(code['uncommitted_files'])}"
        if code.get("uncommitted_files")
        else ""
    )
    lines = ["## Machine", "", "| fact | value |", "|---|---|"]
    if machine:
        settings = ", ".join(f"{name}={value}" for name, value in machine["postgresql_settings"].items())
        lines += [
            f"| date | {machine['date']} |",
            f"| CPU | {machine['cpu_model']} |",
            f"| cores | {machine['cpu_cores']} ({machine['cpu_cores_usable']} usable) |",
            f"| RAM | {machine['ram_bytes'] / 2**30:.1f} GiB |",
            f"| kernel | {machine['kernel']} |",
            f"| PostgreSQL | {machine['postgresql']} (same machine; {settings}) |",
            f"| Python / Django | {machine['python']} / {machine['django']} |",
        ]
    if code.get("changed_during_the_run"):
        changed += " (the working tree changed while the benchmark ran; the code was imported at its start)"
    return [
        *lines,
        f"| code measured | commit {code['commit']}{changed} |",
        "",
        "PostgreSQL runs as started by `scripts/with-services.sh` (fsync and synchronous_commit off), so "
        "writes here are faster than on a durable production server.",
        "",
    ]


def error_lines(error: str | None) -> list[str]:
    """The '## Error' section of a report whose code under test failed (nothing when it did not)."""
    return ["## Error", "", "```", error, "```", ""] if error else []


def served_with(parameters: dict) -> tuple[str, int, int]:
    """(server, workers, threads) of a results file's parameters; files written before the server was an
    option were served by gunicorn and named its counts so."""
    return (
        parameters.get("server", "gunicorn"),
        parameters.get("server_workers", parameters.get("gunicorn_workers")),
        parameters.get("server_threads", parameters.get("gunicorn_threads")),
    )


def report_end(lines: list[str], results: dict) -> str:
    """A report's text: its own lines, then the error (if any), the checks and the machine sections."""
    tail = checks_lines(results["checks"]) + machine_lines(results["machine"], results["code"])
    return "\n".join([*lines, *error_lines(results.get("error")), *tail])


def checks_lines(checks: list[dict]) -> list[str]:
    lines = ["## Checks", "", "| check | expected | actual | ok |", "|---|---:|---:|---|"]
    lines += [
        f"| {c['check']} | {c['expected']} | {c['actual']} | {'yes' if c['ok'] else '**NO**'} |"
        for c in checks
    ]
    return [*lines, ""]


class Checks:
    """Checks that a figure measures what it says; a failed one makes the run exit with status 1."""

    def __init__(self) -> None:
        self.rows: list[dict] = []

    def __call__(self, name: str, expected, actual) -> bool:
        ok = expected == actual
        self.rows.append({"check": name, "expected": expected, "actual": actual, "ok": ok})
        if not ok:
            say(f"CHECK FAILED: {name}: expected {expected!r}, got {actual!r}")
        return ok

    @property
    def all_ok(self) -> bool:
        return all(row["ok"] for row in self.rows)


class FigureBench:
    """Base of the benchmarks that report timed figures against targets (`targets`: name -> seconds)."""

    targets: dict[str, float] = {}
    figures: list[dict]
    step_peak_rss: dict[str, int]

    def figure(self, key: str, label: str, runs: list[float], target: str | None = None, **extra) -> dict:
        value = median(runs)
        limit = self.targets.get(target) if target else None
        verdict = "info" if limit is None else ("pass" if value < limit else "FAIL")
        row = {
            "key": key,
            "label": label,
            "seconds": round(value, 3),
            "runs": [round(run, 3) for run in runs],
            "target_seconds": limit,
            "verdict": verdict,
            "peak_rss_bytes": self.step_peak_rss.get(key),
            **extra,
        }
        self.figures.append(row)
        runs_text = f" (runs {', '.join(f'{run:.2f}' for run in runs)})" if len(runs) > 1 else ""
        say(f"{label}: {value:.2f} s{runs_text} [{verdict}]")
        return row


def run_measured(bench, *, name: str, results_dir: Path, markdown, strict: bool) -> int:
    """Set up and run a benchmark, keep what was measured even when the code under test fails, write
    bench/results/<name>.md and .json. Exit status: 1 failed run or check, 2 missed target (--strict)."""
    import traceback

    from django.db import connection

    from bench.measure import code_version, machine_facts

    machine, error = {}, None
    code = code_version(ROOT)  # what Python imports now is what gets measured
    try:
        bench.setup()
        machine = machine_facts()
        say(f"machine: {machine['cpu_model']}, {machine['cpu_cores']} cores, PG {machine['postgresql']}")
        bench.run()
    except Exception:  # the labeling code under measurement failed: keep what was measured before it
        error = traceback.format_exc()
        say(f"the benchmark stopped on an error:\n{error}")
    finally:
        if hasattr(bench, "profiler"):
            bench.profiler.restore()
    code_at_end = code_version(ROOT)
    if code_at_end != code:
        code["changed_during_the_run"] = code_at_end
    results = bench.results(machine, code)
    results["error"] = error
    write_results(results_dir, name, results, markdown(results))
    connection.close()
    if error or not all(check["ok"] for check in results["checks"]):
        say("the run failed or some checks failed: the figures may not measure what they say")
        return 1
    if results["failed_targets"]:
        say(f"targets missed: {', '.join(results['failed_targets'])}")
        return 2 if strict else 0
    return 0
