"""Benchmark of the labeling queue under many annotators: N people labelling at once through HTTP.

Fills PostgreSQL with a content pool (the demo's 20 Newsgroups posts, cycled) and a taxonomy of 20 small
categories, serves the site as `make run` does (granian, 2 workers x 4 threads; or `--server gunicorn`), and
for N = 1, 10 and 50 annotators (each on a dataset of its own over the same pool) lets every annotator log in
through the login form and then, for `--seconds`, do what the queue page does: GET the queue, POST the label
the page offers (content, version, a category), read the next page. Then the checks, from the client's log and
the database: items shown to two annotators, labels overwritten by another annotator, 5xx answers, examples =
acknowledged saves, history rows naming the annotator; and saves per second.
Writes bench/results/queue_load.md (for people) and bench/results/queue_load.json (for tools).

Run from the project root:  make bench
                       or:  scripts/with-services.sh .venv/bin/python bench/queue_load.py [--seconds 10]

It needs DATABASE_URL to name a fresh PostgreSQL database (scripts/with-services.sh starts a private one).
"""

import argparse
import itertools
import os
import random
import re
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    RESULTS,
    Checks,
    report_end,
    run_measured,
    say,
    served_with,
    setup_django,
)

SCRIPT = "bench/queue_load.py"
ANNOTATORS = (1, 10, 50)
CONTENTS = 12_000
PASSWORD = "queue-load-benchmark"
TARGET_SPEEDUP = 1.5  # saves/s at N = 10 against N = 1
FIELD = re.compile(r'name="(csrfmiddlewaretoken|content|version)" value="([^"]*)"')
ERROR = re.compile(r'<p class="message error">([^<]*)</p>')


class Annotator(threading.Thread):
    """One person in a browser: log in, then label what the queue shows until the time is up."""

    def __init__(self, name: str, base: str, queue_path: str, categories: list[int], start, stop_at):
        super().__init__(name=name, daemon=True)
        self.base, self.queue_path, self.categories = base, queue_path, categories
        self.start_event, self.stop_at = start, stop_at
        self.shown: list[int] = []  # content ids, in the order the queue showed them
        self.saved: list[int] = []  # content ids whose save was acknowledged (no error on the next page)
        self.refused: list[str] = []
        self.statuses: dict[int, int] = defaultdict(int)
        self.error: str | None = None
        self.random = random.Random(name)
        self.ready = threading.Event()  # logged in (or failed to)

    def _request(self, method: str, path: str, **kwargs):
        response = self.session.request(
            method, self.base + path, allow_redirects=False, timeout=120, **kwargs
        )
        self.statuses[response.status_code] += 1
        return response

    def login(self) -> None:
        import requests

        self.session = requests.Session()
        page = self._request("GET", "/login/")
        token = FIELD.search(page.text).group(2)
        form = {"username": self.name, "password": PASSWORD, "csrfmiddlewaretoken": token}
        answer = self._request("POST", "/login/", data=form, headers={"Referer": self.base + "/login/"})
        if answer.status_code != 302:
            raise RuntimeError(f"{self.name} could not log in ({answer.status_code})")

    def run(self) -> None:
        try:
            try:
                self.login()
            finally:
                self.ready.set()
            self.start_event.wait()
            page = self._request("GET", self.queue_path)
            while time.monotonic() < self.stop_at() and page.status_code == 200:
                fields = dict(FIELD.findall(page.text))
                if "content" not in fields:
                    break  # the queue is empty
                content = int(fields["content"])
                self.shown.append(content)
                form = {**fields, "action": "save", "category": self.random.choice(self.categories)}
                posted = self._request("POST", self.queue_path, data=form, headers={"Referer": self.base})
                page = self._request("GET", self.queue_path)
                refused = ERROR.findall(page.text)
                if posted.status_code == 302 and not refused:
                    self.saved.append(content)
                self.refused += refused
        except Exception as error:  # reported in the results; the checks then fail
            self.error = f"{type(error).__name__}: {error}"


class QueueLoad:
    def __init__(
        self, *, seconds: float, annotators: tuple[int, ...], server: str, workers: int, threads: int
    ):
        self.seconds, self.annotators, self.workers, self.threads = seconds, annotators, workers, threads
        self.server_kind = server
        self.check = Checks()
        self.scenarios: list[dict] = []
        self.info: dict = {}

    def setup(self) -> None:
        from bench.common import migrate_fresh

        migrate_fresh(SCRIPT)
        self._collect_static()
        self._fill()

    @staticmethod
    def _collect_static() -> None:
        """The pages name their static files by content hash (as `make run` serves them): collect them first,
        leaving out what no page loads (as scripts/run.sh does)."""
        from django.core.management import call_command

        ignore = ["datasets", "templates", "widgetbundle.js", "redoc"]
        call_command("collectstatic", interactive=False, verbosity=0, ignore_patterns=ignore)

    def _fill(self) -> None:
        from django.contrib.auth import get_user_model
        from django.contrib.auth.models import Group
        from django.utils import timezone

        from core import roles
        from core.inserts import insert_with_history
        from labeling.models import Category, Content, Taxonomy, text_hash
        from labeling.services.demo import demo_rows

        posts = list(itertools.islice(demo_rows("newsgroups.jsonl.gz"), 2000))
        now = timezone.now()
        rows = [
            {
                "external_id": f"post-{n}",
                "title": post["title"],
                "body": post["body"],
                "source": "newsgroups",
                "text_hash": text_hash(post["title"], post["body"]),
                "modified_at": now,
            }
            for n, post in zip(range(CONTENTS), itertools.cycle(posts), strict=False)
        ]
        insert_with_history(Content, rows, user=None, reason="queue load benchmark")
        self.taxonomy = Taxonomy.objects.create(name="queue load")
        for large_number in range(4):
            large = Category.objects.create(taxonomy=self.taxonomy, level=1, name=f"large {large_number}")
            for small_number in range(5):
                Category.objects.create(
                    taxonomy=self.taxonomy, level=2, parent=large, name=f"small {large_number}.{small_number}"
                )
        group = Group.objects.get_or_create(name=roles.ANNOTATOR)[0]
        users = get_user_model()
        for number in range(max(self.annotators)):
            user = users.objects.create_user(f"annotator-{number}", password=PASSWORD)
            user.groups.add(group)
        say(f"{CONTENTS:,} contents, 20 small categories, {max(self.annotators)} annotators")

    def run(self) -> None:
        from bench.api_run import Server

        server = Server(kind=self.server_kind, workers=self.workers, threads=self.threads)
        server.start()
        self.info["server_command"] = server.described()
        self.server = server
        try:
            for count in self.annotators:
                self.scenarios.append(self._scenario(f"http://127.0.0.1:{server.port}", count))
        finally:
            server.stop()

    def _scenario(self, base: str, count: int) -> dict:
        from django.urls import reverse

        from labeling.models import Category
        from labeling.services.datasets import dataset_create

        dataset = dataset_create(name=f"queue load {count}", taxonomy=self.taxonomy, user=None)
        path = reverse("labeling:queue", args=[dataset.id])
        small = list(Category.objects.filter(taxonomy=self.taxonomy, level=2).values_list("id", flat=True))
        start, deadline = threading.Event(), [float("inf")]
        people = [
            Annotator(f"annotator-{n}", base, path, small, start, lambda: deadline[0]) for n in range(count)
        ]
        for person in people:
            person.start()
        for person in people:
            person.ready.wait(300)
        cpu_before, load_before = self.server.cpu_seconds(), os.getloadavg()[0]
        began = time.monotonic()
        deadline[0] = began + self.seconds
        start.set()
        for person in people:
            person.join()
        elapsed = time.monotonic() - began
        row = self._outcome(dataset, count, people, elapsed)
        # The machine is shared: its load says how much of the cores the figure got.
        row["load_average_1min"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
        row["server_cpu_ms_per_save"] = round(
            1000 * (self.server.cpu_seconds() - cpu_before) / max(row["saves"], 1), 1
        )
        return row

    def _outcome(self, dataset, count: int, people: list[Annotator], elapsed: float) -> dict:
        from labeling.models import Example

        shown_by = defaultdict(set)
        for person in people:
            for content in person.shown:
                shown_by[content].add(person.name)
        statuses = defaultdict(int)
        for person in people:
            for code, n in person.statuses.items():
                statuses[code] += n
        saves = sum(len(person.saved) for person in people)
        history = Example.history.filter(dataset_id=dataset.id)
        writers = history.values("id").distinct().count()
        by_one = sum(1 for ids in _writers_per_example(history).values() if len(ids) == 1)
        row = {
            "annotators": count,
            "seconds": round(elapsed, 2),
            "saves": saves,
            "saves_per_second": round(saves / elapsed, 2),
            "shown": sum(len(person.shown) for person in people),
            "shown_to_two": sum(1 for names in shown_by.values() if len(names) > 1),
            "overwritten_by_another": writers - by_one,
            "server_errors": sum(n for code, n in statuses.items() if code >= 500),
            "statuses": {str(code): n for code, n in sorted(statuses.items())},
            "examples": Example.objects.filter(dataset=dataset).count(),
            "history_rows": history.count(),
            "history_rows_naming_the_annotator": sum(
                1
                for user_id, labeled_by in history.values_list("history_user_id", "labeled_by_id")
                if user_id is not None and user_id == labeled_by
            ),
            "refused": sum(len(person.refused) for person in people),
            "refusals": sorted({message for person in people for message in person.refused})[:5],
            "client_errors": [person.error for person in people if person.error],
        }
        n = f"N = {count}"
        self.check(f"{n}: items shown to two annotators", 0, row["shown_to_two"])
        self.check(f"{n}: labels overwritten by another annotator", 0, row["overwritten_by_another"])
        self.check(f"{n}: 5xx answers", 0, row["server_errors"])
        self.check(f"{n}: examples = acknowledged saves", row["saves"], row["examples"])
        self.check(
            f"{n}: history rows naming the annotator",
            row["history_rows"],
            row["history_rows_naming_the_annotator"],
        )
        self.check(f"{n}: annotators that ran to the end", [], row["client_errors"])
        say(
            f"{n}: {saves} saves in {elapsed:.1f} s = {row['saves_per_second']}/s; shown to two "
            f"{row['shown_to_two']}, overwritten {row['overwritten_by_another']}, "
            f"5xx {row['server_errors']}, refused {row['refused']} {row['refusals'][:2]}, "
            f"answers {row['statuses']}"
        )
        return row

    def _verdicts(self) -> list[dict]:
        found = {row["annotators"]: row for row in self.scenarios}
        if 1 not in found or 10 not in found or not found[1]["saves_per_second"]:
            return []
        value = round(found[10]["saves_per_second"] / found[1]["saves_per_second"], 2)
        return [
            {
                "key": "speedup_10",
                "label": "saves/s at N = 10 against N = 1",
                "value": value,
                "target": TARGET_SPEEDUP,
                "higher_is_better": True,
                "verdict": "pass" if value >= TARGET_SPEEDUP else "FAIL",
            }
        ]

    def results(self, machine: dict, code: dict) -> dict:
        verdicts = self._verdicts()
        return {
            "benchmark": "queue_load",
            "machine": machine,
            "code": code,
            "parameters": {
                "seconds_per_scenario": self.seconds,
                "annotators": list(self.annotators),
                "contents": CONTENTS,
                "server": self.server_kind,
                "server_workers": self.workers,
                "server_threads": self.threads,
            },
            "info": self.info,
            "verdicts": verdicts,
            "failed_targets": [row["key"] for row in verdicts if row["verdict"] == "FAIL"],
            "scenarios": self.scenarios,
            "checks": self.check.rows,
        }


def _writers_per_example(history) -> dict[int, set[int]]:
    writers = defaultdict(set)
    for example_id, user_id in history.values_list("id", "history_user_id"):
        writers[example_id].add(user_id)
    return writers


def _server_cpu(row: dict):
    return row.get("server_cpu_ms_per_save", row.get("gunicorn_cpu_ms_per_save", ""))  # older results


def markdown(results: dict) -> str:
    p = results["parameters"]
    server, workers, threads = served_with(p)
    lines = [
        "# Labeling queue under many annotators",
        "",
        f"N annotators label at once through HTTP for {p['seconds_per_scenario']:g} s each: log in through "
        "the login form, GET the queue, POST the label the page offers (content, version, a random small "
        f"category), read the next page. {server} {workers} workers x {threads} threads"
        f"{' (gthread)' if server == 'gunicorn' else ''} on loopback, "
        f"PostgreSQL, a pool of {p['contents']:,} contents; one dataset per N. "
        "The load generator (one thread per annotator, `requests` sessions) shares the machine's cores with "
        "the server and PostgreSQL, and the machine with whatever else runs: its load average is shown per "
        "row (2 cores: a load of 2 is a busy machine), and the CPU the server spent per save, which depends "
        "less on it.",
        "",
        "| annotators | saves | saves/s | pages shown | shown to two | overwritten by another | 5xx | "
        "examples | history rows naming the annotator | refused saves | server CPU ms per save | "
        "machine load (1 min, before / after) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in results["scenarios"]:
        lines.append(
            f"| {row['annotators']} | {row['saves']:,} | {row['saves_per_second']} | {row['shown']:,} | "
            f"{row['shown_to_two']} | {row['overwritten_by_another']} | {row['server_errors']} | "
            f"{row['examples']:,} | {row['history_rows_naming_the_annotator']:,} of "
            f"{row['history_rows']:,} | {row['refused']} | {_server_cpu(row)} | "
            f"{' / '.join(map(str, row.get('load_average_1min', [])))} |"
        )
    lines += ["", "## Verdicts", "", "| figure | value | target | verdict |", "|---|---:|---:|---|"]
    lines += [
        f"| {v['label']} | {v['value']}x | >= {v['target']}x | {v['verdict']} |" for v in results["verdicts"]
    ]
    lines.append("")
    return report_end(lines, results)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="seconds of labelling per N (60)")
    parser.add_argument("--annotators", default=",".join(map(str, ANNOTATORS)), help="the Ns (1,10,50)")
    parser.add_argument(
        "--server", choices=("granian", "gunicorn"), default="granian", help="the web server (granian)"
    )
    parser.add_argument("--workers", type=int, default=2, help="server worker processes (2)")
    parser.add_argument("--threads", type=int, default=4, help="threads per server worker (4)")
    parser.add_argument("--results", type=Path, default=RESULTS, help="output folder")
    parser.add_argument("--strict", action="store_true", help="exit 2 when a target is missed")
    args = parser.parse_args(argv)
    counts = tuple(int(n) for n in args.annotators.split(",") if n.strip())
    if args.seconds <= 0 or not counts or min(counts) < 1:
        parser.error("need --seconds > 0 and at least one N >= 1")
    setup_django(SCRIPT)
    bench = QueueLoad(
        seconds=args.seconds,
        annotators=counts,
        server=args.server,
        workers=args.workers,
        threads=args.threads,
    )
    return run_measured(
        bench, name="queue_load", results_dir=args.results, markdown=markdown, strict=args.strict
    )


if __name__ == "__main__":
    sys.exit(main())
