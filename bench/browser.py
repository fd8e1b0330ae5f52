"""Benchmark of the health and confusion pages in a real browser (headless Chromium), first and repeat visits.

Loads the demo datasets into a fresh PostgreSQL database, trains a champion for `newsgroups` in this process
(TF-IDF + LinearSVC, 3 folds), collects the static files as `make run` does, starts the web server as
`make run` does (scripts/serve.sh: granian, 2 workers x 4 threads) and drives /usr/bin/chromium through
Playwright: one logged-in browser visits each page once (first visit: empty HTTP cache), then again `--visits`
times (repeat visits), timing each visit from navigation start to the end of the load event (Plotly's figures
are drawn by then). Also counts what a repeat visit still fetched over the network. Target: a repeat visit
under 500 ms. Writes bench/results/<--name>.md and .json.

Run from the project root:  scripts/with-services.sh .venv/bin/python bench/browser.py [--visits N]
"""

import argparse
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import RESULTS, ROOT, median, say, setup_django, write_results  # noqa: E402

SCRIPT = "bench/browser.py"
TARGET_MS = 500
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Navigation timing of the page just loaded, and what its resources cost over the network (0 bytes: cache).
TIMING_JS = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const resources = performance.getEntriesByType('resource');
  return {
    load_ms: nav.loadEventEnd - nav.startTime,
    response_end_ms: nav.responseEnd - nav.startTime,
    resources: resources.length,
    fetched: resources.filter(r => r.transferSize > 0).length,
    fetched_bytes: resources.reduce((sum, r) => sum + r.transferSize, 0),
  };
}"""


def _arguments(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--visits", type=int, default=20, help="repeat visits per page (20)")
    parser.add_argument("--later", type=float, default=65, help="seconds before the later visit (65)")
    parser.add_argument("--name", default="browser", help="result file name (browser)")
    parser.add_argument("--results", type=Path, default=RESULTS, help="output folder")
    return parser.parse_args(argv)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _champion_dataset():
    """The demo's newsgroups dataset with a trained champion."""
    from django.core.management import call_command

    from labeling.models import Dataset
    from training.selectors import dataset_champion_run
    from training.services.champion import champion_promote
    from training.services.runs import run_execute, run_start

    call_command("migrate", interactive=False, verbosity=0)
    call_command("load_demo", verbosity=0)
    dataset = Dataset.objects.get(name="newsgroups")
    if dataset_champion_run(dataset) is None:
        say("training a champion for newsgroups")
        run = run_start(dataset=dataset, user=None, algorithm="tfidf-svm", folds=3, enqueue=False)
        run_execute(run.id)
        run.refresh_from_db()
        if dataset_champion_run(dataset) is None:
            champion_promote(run=run, user=None, reason="browser benchmark")
    return dataset


# As scripts/run.sh collects them: without what no page loads.
IGNORED_STATIC = ["-i", "datasets", "-i", "templates", "-i", "widgetbundle.js", "-i", "redoc"]
SITES = {"before": "bench.static_before_settings", "now": "admin_site.settings"}


def _start_site(env: dict, bind: str, log: Path) -> subprocess.Popen:
    """The web server as `make run` starts it (scripts/serve.sh: granian, 2 workers x 4 threads), after
    `collectstatic` as `make run` does."""
    python = sys.executable
    if env["DJANGO_SETTINGS_MODULE"] == "admin_site.settings":
        subprocess.run(
            [python, "manage.py", "collectstatic", "--noinput", "-v0", *IGNORED_STATIC],
            cwd=ROOT,
            env=env,
            check=True,
        )
    command = [str(ROOT / "scripts/serve.sh")]
    with log.open("w") as out:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env | {"BIND": bind}, stdout=out, stderr=subprocess.STDOUT
        )
    import urllib.request

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://{bind}/login/", timeout=10).close()
            return process
        except OSError:
            time.sleep(0.3)
    process.terminate()
    raise RuntimeError(f"the web server did not answer:\n{log.read_text()[-3000:]}")


def _visit(page, path: str) -> dict:
    page.goto(path, wait_until="load")
    return page.evaluate(TIMING_JS)


def _logged_in(browser, base: str, password: str):
    page = browser.new_context(base_url=base).new_page()
    page.goto("/login/")
    page.fill("input[name=username]", "bench")
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("load")
    return page


def _visits(bases: dict[str, str], pages: dict[str, str], password: str, repeats: int, later: float) -> dict:
    """Per site and page: a first visit, `repeats` visits right after (the sites taking turns), and one more
    `later` seconds on. One browser, one context (own HTTP cache) per site."""
    from playwright.sync_api import sync_playwright

    measured = {site: {} for site in bases}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        tabs = {site: _logged_in(browser, base, password) for site, base in bases.items()}
        for name, path in pages.items():
            firsts = {site: _visit(tab, path) for site, tab in tabs.items()}
            repeat = {site: [] for site in tabs}
            for _ in range(repeats):
                for site, tab in tabs.items():
                    repeat[site].append(_visit(tab, path))
            for site, visits in repeat.items():
                loads = [visit["load_ms"] for visit in visits]
                measured[site][name] = {
                    "first_visit_ms": round(firsts[site]["load_ms"], 1),
                    "first_visit_fetched_bytes": firsts[site]["fetched_bytes"],
                    "repeat_visit_ms": round(median(loads), 1),
                    "repeat_visit_runs_ms": [round(load, 1) for load in loads],
                    "repeat_visit_html_ms": round(median([visit["response_end_ms"] for visit in visits]), 1),
                    "repeat_visit_resources": visits[-1]["resources"],
                    "repeat_visit_fetched": visits[-1]["fetched"],
                    "repeat_visit_fetched_bytes": visits[-1]["fetched_bytes"],
                }
                first = firsts[site]["load_ms"]
                say(f"{site} {name}: first {first:.0f} ms, repeat median {median(loads):.0f} ms")
        say(f"waiting {later:.0f} s (past the 60 s cache lifetime static files had before)")
        time.sleep(later)
        for name, path in pages.items():
            for site, tab in tabs.items():
                visit = _visit(tab, path)
                measured[site][name] |= {
                    "later_visit_ms": round(visit["load_ms"], 1),
                    "later_visit_fetched": visit["fetched"],
                    "later_visit_fetched_bytes": visit["fetched_bytes"],
                }
                say(f"{site} {name}: {later:.0f} s later {visit['load_ms']:.0f} ms")
        browser.close()
    return measured


def _markdown(results: dict) -> str:
    lines = [
        "# Health and confusion pages in headless Chromium",
        "",
        f"Measured {results['date']} on commit {results['commit']} ({results['cpu']}, {results['cores']} "
        f"cores); `{results['command']}`. Two sites run side by side on the same database: **now** (hashed, "
        "gzip-compressed static files cached for a year) and **before** (the static serving of commit "
        "54e9e08: uncompressed, cached 60 s; `bench/static_before_settings.py`). Page load = navigation "
        "start to the end of the load event (Plotly drawn). Repeat visits: median of "
        f"{results['visits']} right after the first (the sites taking turns), and one visit "
        f"{results['later_seconds']:g} s later. Target (now): both repeat figures < {TARGET_MS} ms.",
        "",
        "| site | page | first visit (bytes) | repeat visit (median) | HTML received | resources | fetched "
        f"again | visit {results['later_seconds']:g} s later (fetched: bytes) | verdict |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for site, pages in results["sites"].items():
        for name, page in pages.items():
            verdict = results["verdicts"][name] if site == "now" else "reference"
            lines.append(
                f"| {site} | {name} | {page['first_visit_ms']:.0f} ms "
                f"({page['first_visit_fetched_bytes']:,}) | "
                f"{page['repeat_visit_ms']:.0f} ms | {page['repeat_visit_html_ms']:.0f} ms | "
                f"{page['repeat_visit_resources']} | {page['repeat_visit_fetched']} | "
                f"{page['later_visit_ms']:.0f} ms ({page['later_visit_fetched']}: "
                f"{page['later_visit_fetched_bytes']:,}) | {verdict} |"
            )
    if results["failed_targets"]:
        lines += ["", f"Targets missed: {', '.join(results['failed_targets'])}."]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    args = _arguments(argv)
    setup_django(SCRIPT)
    from django.contrib.auth import get_user_model
    from django.urls import reverse

    from bench.measure import code_version, machine_facts

    dataset = _champion_dataset()
    password = "bench-password-1234"
    user, _ = get_user_model().objects.get_or_create(username="bench")
    user.set_password(password)
    user.is_superuser = True  # an admin: sees every page
    user.save()

    pages = {
        "health": reverse("training:health", args=[dataset.id]),
        "confusion": reverse("training:confusion", args=[dataset.id]),
    }
    servers, bases = [], {}
    try:
        for site, settings_module in SITES.items():
            bind = f"127.0.0.1:{_free_port()}"
            env = os.environ | {"ALLOWED_HOSTS": "127.0.0.1", "DJANGO_SETTINGS_MODULE": settings_module}
            servers.append(_start_site(env, bind, Path(f"/tmp/bunryu-bench-browser-{site}.log")))
            bases[site] = f"http://{bind}"
        measured = _visits(bases, pages, password, args.visits, args.later)
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)
    machine, code = machine_facts(), code_version(ROOT)
    verdicts = {
        name: "pass" if max(page["repeat_visit_ms"], page["later_visit_ms"]) < TARGET_MS else "FAIL"
        for name, page in measured["now"].items()
    }
    results = {
        "date": machine["date"],
        "commit": code["commit"],
        "code": code,
        "machine": machine,
        "cpu": machine["cpu_model"],
        "cores": machine["cpu_cores"],
        "command": f"scripts/with-services.sh .venv/bin/python {SCRIPT} --visits {args.visits} "
        f"--later {args.later:g}",
        "later_seconds": args.later,
        "visits": args.visits,
        "target_ms": TARGET_MS,
        "sites": measured,
        "verdicts": verdicts,
        "failed_targets": [
            f"{name} repeat visit < {TARGET_MS} ms" for name, v in verdicts.items() if v != "pass"
        ],
    }
    write_results(args.results, args.name, results, _markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
