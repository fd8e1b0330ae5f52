"""Benchmark of how fast commands start: `manage.py help` and a small `export_examples` on the embedded
default (SQLite), beside `python -c pass` and `python -c "import django"` in the same run.

Makes a temporary BUNRYU_VAR_DIR, migrates it and creates a dataset of 20 examples, then runs each command
`--runs` times (after one warm-up run), the commands taking turns, and reports the median wall time and the
median CPU time (user + system, which a busy machine inflates less). With `--peer DIR` (another checkout,
e.g. `git archive <commit> | tar -x -C DIR`, sharing this .venv) the same commands run there too, in turn
with these. Target: `manage.py help` and the small export in <= 0.5 s. `python -X importtime manage.py help`
shows what a start-up imports. Writes bench/results/startup.md and .json.

Run from the project root:  .venv/bin/python bench/startup.py [--runs N] [--peer DIR]
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import RESULTS, ROOT, say, write_results  # noqa: E402

TARGET_SECONDS = 0.5
SMALL_DATASET = """
from django.utils import timezone
from labeling.models import Category, Content, Dataset, Example, Taxonomy, text_hash
taxonomy = Taxonomy.objects.create(name="small")
large = Category.objects.create(taxonomy=taxonomy, level=1, name="news")
small = Category.objects.create(taxonomy=taxonomy, level=2, name="sport", parent=large)
dataset = Dataset.objects.create(name="small", taxonomy=taxonomy)
for number in range(20):
    title, body = f"title {number}", "body"
    content = Content.objects.create(
        external_id=f"c{number}", title=title, body=body, text_hash=text_hash(title, body),
        modified_at=timezone.now(),
    )
    Example.objects.create(dataset=dataset, content=content, category=small)
"""


def _arguments(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=15, help="runs per command (15)")
    parser.add_argument("--peer", type=Path, help="another checkout to measure beside this one")
    parser.add_argument("--results", type=Path, default=RESULTS, help="output folder")
    return parser.parse_args(argv)


def _timed(command: list[str], cwd: Path, env: dict) -> tuple[float, float]:
    """Wall and CPU seconds of one run (the command must succeed)."""
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(command)} failed in {cwd}: {process.stderr.read().decode()[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime


def _prepared(root: Path, var_dir: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL")}
    env |= {"BUNRYU_VAR_DIR": str(var_dir), "DJANGO_SETTINGS_MODULE": "admin_site.settings"}
    python = str(ROOT / ".venv" / "bin" / "python")
    for command in (["migrate", "--noinput", "-v0"], ["shell", "-c", SMALL_DATASET]):
        done = subprocess.run(
            [python, "manage.py", *command], cwd=root, env=env, capture_output=True, text=True
        )
        if done.returncode:
            raise RuntimeError(f"{command[2]} failed in {root}:\n{done.stderr[-3000:]}")
    return env


def main(argv=None) -> int:
    args = _arguments(argv)
    from bench.measure import code_version, host_facts

    python = str(ROOT / ".venv" / "bin" / "python")
    commands = {
        "python -c pass": [python, "-c", "pass"],
        "python -c 'import django'": [python, "-c", "import django"],
        "manage.py help": [python, "manage.py", "help"],
        "manage.py export_examples (20 examples)": [
            python,
            "manage.py",
            "export_examples",
            "--dataset",
            "small",
        ],
    }
    trees = {"now": ROOT} | ({"peer": args.peer.resolve()} if args.peer else {})
    measured = {tree: {name: [] for name in commands} for tree in trees}
    with tempfile.TemporaryDirectory(prefix="bunryu-startup-") as folder:
        envs = {tree: _prepared(root, Path(folder) / tree) for tree, root in trees.items()}
        say(f"measuring {len(commands)} commands x {len(trees)} trees x {args.runs} runs")
        for run in range(args.runs + 1):
            for name, command in commands.items():
                for tree, root in trees.items():
                    timing = _timed(command, root, envs[tree])
                    if run:  # the first round warms the caches (bytecode, page cache)
                        measured[tree][name].append(timing)
    rows = {
        tree: {
            name: {
                "wall_seconds": round(statistics.median(wall for wall, _ in runs), 3),
                "cpu_seconds": round(statistics.median(cpu for _, cpu in runs), 3),
                "wall_runs": [round(wall, 3) for wall, _ in runs],
            }
            for name, runs in by_command.items()
        }
        for tree, by_command in measured.items()
    }
    judged = [name for name in commands if name.startswith("manage.py")]
    verdicts = {
        name: "pass" if rows["now"][name]["wall_seconds"] <= TARGET_SECONDS else "FAIL" for name in judged
    }
    code = code_version(ROOT)
    results = {
        "machine": host_facts(),
        "commit": code["commit"],
        "code": code,
        "peer": str(args.peer) if args.peer else None,
        "command": f".venv/bin/python bench/startup.py --runs {args.runs}"
        + (" --peer DIR" if args.peer else ""),
        "runs": args.runs,
        "target_seconds": TARGET_SECONDS,
        "trees": rows,
        "verdicts": verdicts,
        "failed_targets": [
            f"{name} <= {TARGET_SECONDS} s" for name, verdict in verdicts.items() if verdict != "pass"
        ],
    }
    write_results(args.results, "startup", results, _markdown(results))
    return 0


def _markdown(results: dict) -> str:
    machine = results["machine"]
    lines = [
        "# How fast commands start",
        "",
        f"Measured {machine['date']} on commit {results['commit']} ({machine['cpu_model']}, "
        f"{machine['cpu_cores']} cores, load average {machine['load_average']} at the end); "
        f"`{results['command']}`. Embedded default (SQLite). Median of {results['runs']} runs, the commands "
        "(and trees) taking turns. Wall = what the user waits; CPU = user + system time of the process."
        + (f" **peer** = {results['peer']}." if results["peer"] else ""),
        "",
        "| tree | command | wall | CPU | verdict (wall <= 0.5 s) |",
        "|---|---|---:|---:|---|",
    ]
    for tree, by_command in results["trees"].items():
        for name, row in by_command.items():
            verdict = results["verdicts"].get(name, "baseline") if tree == "now" else "reference"
            lines.append(
                f"| {tree} | `{name}` | {row['wall_seconds']:.3f} s | {row['cpu_seconds']:.3f} s "
                f"| {verdict} |"
            )
    if results["failed_targets"]:
        lines += ["", f"Targets missed: {', '.join(results['failed_targets'])}."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
