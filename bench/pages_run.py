"""The pages benchmark itself (imported by bench/pages.py once Django is set up)."""

import datetime
import random
import re
import time
from collections import Counter
from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.http import HttpRequest
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bench.common import (
    Checks,
    checks_lines,
    machine_lines,
    median,
    migrate_fresh,
    percentile,
    run_measured,
    say,
)
from bench.corpus import NEWSGROUPS, Text, real_texts
from bench.measure import table_size
from core import roles
from core.inserts import insert_with_history
from labeling.models import Category, Content, Dataset, Example
from labeling.services.contents import content_build
from labeling.services.datasets import dataset_create
from labeling.services.queue import dataset_pool
from labeling.services.taxonomy import category_create, taxonomy_create
from labeling.services.versions import examples_mark_for_review_bulk

SCRIPT = "bench/pages.py"
LARGE_CATEGORIES = 20
SMALL_PER_LARGE = 10
BATCH = 10_000
LABELLERS = 10  # annotators who labelled the examples (and who take the queues)
QUEUE_USERS = 5  # annotators the queue requests rotate over
LABELLED_DAYS = 180  # labelled_at spreads over this many days before the load
PASSWORD = "bench-password"
TARGET_P95_MS = 200.0
WARM_UP = 2  # untimed requests before each page's measured ones
BUDGET_SECONDS = 60.0  # a slow page gets fewer requests: about this much time, at least MIN_REQUESTS
MIN_REQUESTS = 20
BODY_SEARCH_REQUESTS = 20  # body search scans: 20 requests at most
EXPLAINED_PER_PAGE = 3  # the slowest SELECTs of a page over the target, run again under EXPLAIN ANALYZE
EXPLAIN_MIN_MS = 20.0  # ... when they took at least this long
TABLES = (
    "labeling_content",
    "labeling_historicalcontent",
    "labeling_example",
    "labeling_historicalexample",
    "labeling_versionentry",
)
_ITEM = re.compile(r'data-content="(\d+)"')
_RESULT_COUNT = re.compile(r'data-testid="result-count">([\d,]+\+?) examples')
_LEFT = re.compile(r"([\d,]+\+?) left in this queue")
_PAGE = re.compile(r"page (\d+) of (\d+)")


def pick_word(texts: list[Text]) -> tuple[str, int]:
    """A word of real titles (5+ ASCII letters) in about 1 % of them: a typical, not a rare, search."""
    counts: Counter[str] = Counter()
    for text in texts:
        counts.update({word.lower() for word in re.findall(r"[A-Za-z]{5,}", text.title)})
    target = len(texts) / 100
    word, titles = min(counts.items(), key=lambda item: (abs(item[1] - target), item[0]))
    return word, titles


class Bench:
    def __init__(self, *, contents: int, examples: int, review: int, requests: int) -> None:
        self.n_contents, self.n_examples, self.n_review, self.n_requests = (
            contents,
            examples,
            review,
            requests,
        )
        self.check = Checks()
        self.setup_figures: list[dict] = []
        self.pages: list[dict] = []
        self.info: dict = {}
        self.sizes: dict = {}

    def setup_figure(self, key: str, label: str, seconds: float) -> None:
        self.setup_figures.append({"key": key, "label": label, "seconds": round(seconds, 3)})
        say(f"{label}: {seconds:.2f} s")

    # --- setup -----------------------------------------------------------------------------------------

    def setup(self) -> None:
        self.setup_figure("migrate", "setup: migrate", migrate_fresh(SCRIPT))
        # MD5: PBKDF2 costs ~0.3 s a login by design. 'testserver' is the test Client's host name.
        self._settings = override_settings(
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
            ALLOWED_HOSTS=["testserver", "127.0.0.1", "localhost"],
        )
        self._settings.enable()
        users = get_user_model()
        self.admin = users.objects.create_superuser("bench", "bench@example.invalid", None)
        annotators = Group.objects.get_or_create(name=roles.ANNOTATOR)[0]
        self.labellers = []
        for number in range(1, LABELLERS + 1):
            user = users.objects.create_user(f"annotator{number:02d}", password=PASSWORD)
            user.groups.add(annotators)
            self.labellers.append(user)
        self._taxonomy()
        start = time.perf_counter()
        texts = real_texts()
        random.Random(0).shuffle(texts)  # any prefix mixes both corpora and all groups
        self.word, titles = pick_word(texts)
        self.info.update(
            real_texts=len(texts),
            search_word=self.word,
            search_word_in_real_titles=titles,
        )
        self.setup_figure(
            "read", "setup: read the real texts (once, sequentially)", time.perf_counter() - start
        )
        self._load(texts)
        del texts
        self._index_words()
        start = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")  # the state of a database that has been running a while
        self.setup_figure("vacuum", "setup: VACUUM ANALYZE", time.perf_counter() - start)
        self._setup_checks()

    def _index_words(self) -> None:
        """What the background job does after contents are written: index their bodies' words (when the
        code measured has that job)."""
        try:
            from labeling.services.words import content_words_index
        except ImportError:
            return
        start = time.perf_counter()
        indexed = content_words_index()
        self.info["words_indexed"] = indexed
        label = f"setup: index the words of {indexed:,} bodies (the background job)"
        self.setup_figure("words", label, time.perf_counter() - start)

    def _taxonomy(self) -> None:
        taxonomy = taxonomy_create(name="bench-pages", description="benchmark taxonomy: 20 large x 10 small")
        self.large: list[Category] = []
        self.small: list[list[Category]] = []
        for group in NEWSGROUPS[:LARGE_CATEGORIES]:
            large = category_create(taxonomy=taxonomy, name=group, user=self.admin)
            self.large.append(large)
            self.small.append(
                [
                    category_create(
                        taxonomy=taxonomy, name=f"주제 {k + 1:02d}", parent=large, user=self.admin
                    )
                    for k in range(SMALL_PER_LARGE)
                ]
            )
        self.large_of_group = {group: index for index, group in enumerate(NEWSGROUPS[:LARGE_CATEGORIES])}
        self.dataset = dataset_create(
            name="bench-pages", taxonomy=taxonomy, min_examples_per_category=200, user=self.admin
        )
        Dataset.objects.filter(pk=self.dataset.pk).update(content_sources=[])  # the pool: every content
        self.dataset.refresh_from_db()

    def _load(self, texts: list[Text]) -> None:
        """Contents through COPY (insert_with_history), the oldest `examples` of them labelled."""
        start = time.perf_counter()
        now = timezone.now()
        rng = random.Random(2)
        planned: dict[int, list[Example]] = {user.pk: [] for user in self.labellers}
        for first in range(0, self.n_contents, BATCH):
            contents = []
            for index in range(first, min(self.n_contents, first + BATCH)):
                cycle, position = divmod(index, len(texts))
                text = texts[position]
                suffix = f"\n\n[bench copy {cycle}]" if cycle else ""
                contents.append(
                    content_build(
                        external_id=f"{text.key}#{cycle}",
                        title=text.title or text.body[:80],
                        body=text.body + suffix,
                        source=text.source,
                        modified_at=now,
                    )
                )
            with transaction.atomic():
                insert_with_history(Content, contents, user=self.admin, reason="bench load")
            for index, content in enumerate(contents, start=first):
                if index >= self.n_examples:
                    break
                cycle, position = divmod(index, len(texts))
                labeller = self.labellers[rng.randrange(LABELLERS)]
                planned[labeller.pk].append(
                    Example(
                        dataset=self.dataset,
                        content_id=content.pk,
                        category=self._category(index, position, texts[position]),
                        labeled_by=labeller,
                        labeled_at=now - datetime.timedelta(seconds=rng.uniform(0, LABELLED_DAYS * 86400)),
                    )
                )
            if (first + BATCH) % 100_000 == 0:
                say(f"  loaded {first + BATCH:,} contents")
        self.setup_figure(
            "load_contents",
            f"setup: load {self.n_contents:,} contents with history (COPY)",
            time.perf_counter() - start,
        )
        start = time.perf_counter()
        by_pk = {user.pk: user for user in self.labellers}
        for labeller_id, examples in planned.items():  # each labeller's history rows name them
            for first in range(0, len(examples), BATCH):
                with transaction.atomic():
                    insert_with_history(
                        Example, examples[first : first + BATCH], user=by_pk[labeller_id], reason="labelled"
                    )
        with connection.cursor() as cursor:  # history dated when labelled, as if it had happened then
            cursor.execute(
                "UPDATE labeling_historicalexample h SET history_date = e.labeled_at "
                "FROM labeling_example e WHERE e.id = h.id"
            )
        self.setup_figure(
            "load_examples",
            f"setup: load {self.n_examples:,} examples with history (COPY), history dated as labelled",
            time.perf_counter() - start,
        )

    def _category(self, index: int, position: int, text: Text) -> Category:
        """Newsgroup posts go under their group; petitions spread over all; small categories round-robin."""
        large = self.large_of_group.get(text.group, position % LARGE_CATEGORIES)
        return self.small[large][index % SMALL_PER_LARGE]

    def _setup_checks(self) -> None:
        self.check("contents", self.n_contents, Content.objects.count())
        self.check(
            "examples in the dataset", self.n_examples, Example.objects.filter(dataset=self.dataset).count()
        )
        self.check("the dataset's content sources", [], self.dataset.content_sources)
        self.check("contents in the dataset's pool", self.n_contents, dataset_pool(self.dataset).count())
        self.sizes["after_load"] = {table: table_size(table) for table in TABLES}

    # --- measuring pages -------------------------------------------------------------------------------

    def login(self, user) -> Client:
        client = Client()
        self.check(
            f"{user.username} logs in",
            True,
            client.login(request=HttpRequest(), username=user.username, password=PASSWORD),
        )
        return client

    def measure(
        self, key: str, label: str, url: str, clients: list[Client], *, limit: int, after=None
    ) -> dict:
        """Time GET `url` (rotating over `clients`); `after(client, response)` runs untimed after each."""
        for index in range(WARM_UP):
            client = clients[index % len(clients)]
            start = time.perf_counter()
            response = client.get(url)
            warm = time.perf_counter() - start
            self.check(f"{key}: status", 200, response.status_code)
            if after:
                after(client, response)
        requests = limit if warm * limit <= BUDGET_SECONDS else max(MIN_REQUESTS, int(BUDGET_SECONDS / warm))
        requests = min(requests, limit)
        times, statuses = [], Counter()
        for index in range(requests):
            client = clients[index % len(clients)]
            start = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - start) * 1000)
            statuses[response.status_code] += 1
            if after:
                after(client, response)
        self.check(f"{key}: every response 200", {200: requests}, dict(statuses))
        captured = self._capture(clients[0], url, after)
        row = {
            "key": key,
            "label": label,
            "url": url,
            "requests": requests,
            "median_ms": round(median(times), 1),
            "p95_ms": round(percentile(times, 0.95), 1),
            "max_ms": round(max(times), 1),
            "target_p95_ms": TARGET_P95_MS,
            "times_ms": [round(t, 2) for t in times],
            **captured,
        }
        row["verdict"] = "pass" if row["p95_ms"] < TARGET_P95_MS else "FAIL"
        self.pages.append(row)
        say(
            f"{label}: median {row['median_ms']:.0f} ms, p95 {row['p95_ms']:.0f} ms "
            f"over {requests} requests, {row['queries']} queries [{row['verdict']}]"
        )
        return row

    def _capture(self, client: Client, url: str, after) -> dict:
        """One more request with every SQL statement recorded: how many, how long, which was slowest."""
        with CaptureQueriesContext(connection) as captured:
            start = time.perf_counter()
            response = client.get(url)
            seconds = time.perf_counter() - start
        html = response.content.decode("utf-8", "replace")
        # Read them now: the next request (the queue's save) clears Django's query log.
        queries = [{"ms": float(q["time"]) * 1000, "sql": q["sql"]} for q in captured.captured_queries]
        if after:
            after(client, response)
        slowest = sorted(queries, key=lambda q: -q["ms"])
        shown = _RESULT_COUNT.search(html) or _LEFT.search(html)
        page = _PAGE.search(html)
        return {
            "page_shown": f"{page.group(1)} of {page.group(2)}" if page else None,
            "queries": len(queries),
            "sql_ms": round(sum(q["ms"] for q in queries), 1),
            "captured_request_ms": round(seconds * 1000, 1),
            "count_shown": shown.group(1) if shown else None,  # "10,000+" when the page caps its count
            "slowest_queries": [{"ms": round(q["ms"], 1), "sql": q["sql"]} for q in slowest[:5]],
        }

    def explain(self, row: dict) -> None:
        """EXPLAIN (ANALYZE, BUFFERS) of the slowest SELECTs of a page over the target."""
        plans = []
        for query in row["slowest_queries"]:
            if len(plans) >= EXPLAINED_PER_PAGE or query["ms"] < EXPLAIN_MIN_MS:
                break
            if not query["sql"].lstrip().upper().startswith(("SELECT", "WITH")):
                continue
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
                plan = "\n".join(line for (line,) in cursor.fetchall())
            plans.append({"sql": query["sql"], "captured_ms": query["ms"], "plan": plan})
        row["explained"] = plans

    # --- the queue -------------------------------------------------------------------------------------

    def _saver(self, url: str, pick_category):
        """After each queue page: the annotator saves the item shown (POST, timed apart), which frees it."""

        def after(client: Client, response) -> None:
            found = _ITEM.search(response.content.decode("utf-8", "replace"))
            if not found:
                self.info.setdefault("queue_pages_without_item", 0)
                self.info["queue_pages_without_item"] += 1
                return
            content_id = int(found.group(1))
            example = Example.objects.filter(dataset=self.dataset, content_id=content_id).first()
            data = {
                "action": "save",
                "content": content_id,
                "category": pick_category(example).pk,
                "version": example.version if example else 0,
                "note": "",
            }
            start = time.perf_counter()
            saved = client.post(url, data)
            self.saves.append((time.perf_counter() - start) * 1000)
            self.save_statuses[saved.status_code] += 1

        return after

    def queue_pages(self) -> None:
        clients = [self.login(user) for user in self.labellers[:QUEUE_USERS]]
        base = f"/labeling/datasets/{self.dataset.id}/queue/"
        by_id = {c.pk: c for smalls in self.small for c in smalls}
        rotation = iter(range(10**9))

        def any_small(example):
            number = next(rotation)
            return self.small[number % LARGE_CATEGORIES][number % SMALL_PER_LARGE]

        def same_category(example):  # review: confirm the label, the example becomes active again
            return by_id[example.category_id]

        queue_category = self.small[0][0]

        def sibling(example):  # category queue: move it to the next small category of the same large one
            return self.small[0][1]

        plans = [
            ("queue_unlabelled", "queue: unlabelled (default)", base, any_small),
            (
                "queue_review",
                f"queue: needs review ({self.n_review:,} marked)",
                base + "?queue=review",
                same_category,
            ),
            (
                "queue_category",
                f"queue: one category ({queue_category.path})",
                f"{base}?queue=category&category={queue_category.id}",
                sibling,
            ),
        ]
        for key, label, url, pick in plans:
            self.saves, self.save_statuses = [], Counter()
            row = self.measure(key, label, url, clients, limit=self.n_requests, after=self._saver(url, pick))
            row["saves"] = {
                "requests": len(self.saves),
                "median_ms": round(median(self.saves), 1) if self.saves else None,
                "p95_ms": round(percentile(self.saves, 0.95), 1) if self.saves else None,
                "statuses": dict(self.save_statuses),
            }
            self.check(f"{key}: every save redirects", {302: len(self.saves)}, dict(self.save_statuses))
        self.info["queue_pages_without_item"] = self.info.get("queue_pages_without_item", 0)

    # --- search ----------------------------------------------------------------------------------------

    def search_pages(self) -> None:
        client = self.login(self.labellers[0])
        base = f"/labeling/datasets/{self.dataset.id}/examples/"
        large = self.large[0]
        labeller = self.labellers[1]
        word = self.word
        plans = [
            ("search_all", "search: no filter, page 1", base, self.n_requests),
            (
                "search_deep",
                "search: no filter, ?page=1000 (offset 49,950 when it exists)",
                base + "?page=1000",
                self.n_requests,
            ),
            ("search_title", f"search: q={word} (title or external id)", f"{base}?q={word}", self.n_requests),
            (
                "search_body",
                f"search: q={word}&in_body=1 (body too)",
                f"{base}?q={word}&in_body=1",
                min(self.n_requests, BODY_SEARCH_REQUESTS),
            ),
            ("search_status", "search: status=needs_review", base + "?status=needs_review", self.n_requests),
            (
                "search_category",
                f"search: category={large.name} (a large one)",
                f"{base}?category={large.id}",
                self.n_requests,
            ),
            (
                "search_labeller",
                f"search: labeller={labeller.username}",
                f"{base}?labeller={labeller.id}",
                self.n_requests,
            ),
        ]
        for key, label, url, limit in plans:
            self.measure(key, label, url, [client], limit=limit)

    # --- the run ---------------------------------------------------------------------------------------

    def run(self) -> None:
        chosen = random.Random(3).sample(
            sorted(Example.objects.filter(dataset=self.dataset).values_list("id", flat=True)), self.n_review
        )
        start = time.perf_counter()
        changeset = examples_mark_for_review_bulk(
            dataset=self.dataset, example_ids=chosen, user=self.admin, reason="bench: review a sample"
        )
        self.setup_figure(
            "mark_review",
            f"setup: examples_mark_for_review_bulk of {self.n_review:,} examples (automatic version first)",
            time.perf_counter() - start,
        )
        self.check("examples marked needs_review", self.n_review, changeset.status_changed)
        self.info["needs_review"] = Example.objects.filter(
            dataset=self.dataset, status=Example.Status.NEEDS_REVIEW
        ).count()
        # Search first: the queue's saves change examples (the review queue confirms some of the 5,000).
        self.search_pages()
        self.queue_pages()
        for row in self.pages:
            if row["verdict"] == "FAIL":
                self.explain(row)
        self.sizes["end"] = {table: table_size(table) for table in TABLES}

    # --- results -------------------------------------------------------------------------------------

    def results(self, machine: dict, code: dict) -> dict:
        return {
            "benchmark": "pages",
            "machine": machine,
            "code": code,
            "parameters": {
                "contents": self.n_contents,
                "examples": self.n_examples,
                "needs_review": self.n_review,
                "requests_per_page": self.n_requests,
                "large_categories": LARGE_CATEGORIES,
                "small_categories": LARGE_CATEGORIES * SMALL_PER_LARGE,
                "labellers": LABELLERS,
                "queue_users": QUEUE_USERS,
                "warm_up_requests": WARM_UP,
                "budget_seconds_per_page": BUDGET_SECONDS,
                "target_p95_ms": TARGET_P95_MS,
            },
            "info": self.info,
            "setup": self.setup_figures,
            "pages": self.pages,
            "failed_targets": [row["key"] for row in self.pages if row["verdict"] == "FAIL"],
            "sizes": self.sizes,
            "checks": self.check.rows,
        }


# --- the report for people ---------------------------------------------------------------------------


def _mb(size: int) -> str:
    return f"{size / 2**20:,.0f} MiB"


def _md_pages(results: dict) -> list[str]:
    params, info = results["parameters"], results["info"]
    lines = [
        "# Benchmark: queue and search pages at 500,000 contents",
        "",
        f"{params['contents']:,} contents of real text (20 Newsgroups train+test and Korean petitions, "
        f"cycled with a suffix), the oldest {params['examples']:,} of them labelled in one dataset of "
        f"{params['small_categories']} small categories under {params['large_categories']} large ones by "
        f"{params['labellers']} annotators over {LABELLED_DAYS} days; the dataset's pool is every content "
        f"({params['contents'] - params['examples']:,} unlabelled); {params['needs_review']:,} examples "
        "marked needs_review. Server time of each page with Django's test Client (in process: URL routing, "
        "middleware, session, view, SQL, template; no network, no WSGI server), logged in as an annotator, "
        f"after {params['warm_up_requests']} warm-up requests. Produced by `make bench` (`bench/pages.py`); "
        "see `bench/README.md`.",
        "",
    ]
    if results.get("error"):
        lines += ["**The run stopped on an error; the figures below are those measured before it:**", ""]
        lines += ["```", results["error"].rstrip(), "```", ""]
    lines += [
        "| page | requests | median | p95 | max | target p95 | verdict | SQL queries | SQL time | shown |",
        "|---|---:|---:|---:|---:|---:|---|---:|---:|---:|",
    ]
    for row in results["pages"]:
        verdict = "**FAIL**" if row["verdict"] == "FAIL" else row["verdict"]
        shown = row.get("count_shown") or "—"
        if row.get("page_shown") and row["page_shown"].split()[0] != "1":
            shown += f" (page {row['page_shown']})"
        lines.append(
            f"| {row['label']} | {row['requests']} | {row['median_ms']:.0f} ms | {row['p95_ms']:.0f} ms | "
            f"{row['max_ms']:.0f} ms | < {row['target_p95_ms']:.0f} ms | {verdict} | {row['queries']} | "
            f"{row['sql_ms']:.0f} ms | {shown} |"
        )
    failed = results["failed_targets"]
    lines += [
        "",
        f"Targets missed: {', '.join(failed) if failed else 'none'}.",
        "",
        "*SQL queries* and *SQL time* are those of one more request with every statement recorded "
        "(`CaptureQueriesContext`); *shown* is the count the page displays (examples found, or items left in "
        "the queue; `N+` when the page stops counting at N) and, for a page number other than 1, the page "
        "actually served (`page X of Y`, as the page says it). "
        f"The search word `{info.get('search_word')}` is the word of 5+ letters in about 1 % of the real "
        f"titles ({info.get('search_word_in_real_titles')} of {info.get('real_texts'):,}); "
        "it matches as a substring (icontains).",
        "",
    ]
    queue = [row for row in results["pages"] if row.get("saves")]
    if queue:
        lines += [
            "Every queue request claims an item: after each page the annotator saves the item shown (a POST "
            "through the same view, timed apart), so the next request of that annotator claims the next one; "
            f"requests rotate over {params['queue_users']} annotators.",
            "",
            "| queue | saves (POST) | median | p95 |",
            "|---|---:|---:|---:|",
        ]
        for row in queue:
            saves = row["saves"]
            if saves["requests"]:
                times = f"{saves['median_ms']:.0f} ms | {saves['p95_ms']:.0f} ms"
                lines.append(f"| {row['label']} | {saves['requests']} | {times} |")
        lines.append("")
    return lines


def _md_slowest(results: dict) -> list[str]:
    lines = ["## Slowest query of each page", "", "| page | slowest query | its time |", "|---|---|---:|"]
    for row in results["pages"]:
        if row["slowest_queries"]:
            query = row["slowest_queries"][0]
            sql = " ".join(query["sql"].split())
            sql = sql if len(sql) <= 160 else sql[:157] + "..."
            sql = sql.replace("|", "\\|")
            lines.append(f"| {row['label']} | `{sql}` | {query['ms']:.0f} ms |")
    return [*lines, ""]


def _md_plans(results: dict) -> list[str]:
    explained = [row for row in results["pages"] if row.get("explained")]
    if not explained:
        return []
    lines = [
        "## Plans of the pages over the target",
        "",
        f"The slowest SELECTs (at least {EXPLAIN_MIN_MS:.0f} ms, up to {EXPLAINED_PER_PAGE}) of the recorded "
        "request of each page over the target, run again under `EXPLAIN (ANALYZE, BUFFERS)` after all pages "
        "were measured (the data then holds the queue's saves).",
        "",
    ]
    for row in explained:
        lines += [f"### {row['label']}", ""]
        for plan in row["explained"]:
            lines += [
                f"Query ({plan['captured_ms']:.0f} ms when recorded):",
                "",
                "```sql",
                plan["sql"],
                "```",
                "",
                "```",
                plan["plan"],
                "```",
                "",
            ]
    return lines


def _md_setup(results: dict) -> list[str]:
    lines = ["## Setup", "", "| step | seconds |", "|---|---:|"]
    lines += [f"| {row['label']} | {row['seconds']:.1f} |" for row in results["setup"]]
    sizes = results["sizes"].get("end") or results["sizes"].get("after_load")
    if sizes:
        lines += ["", "| table (end of run) | rows | total with indexes and TOAST |", "|---|---:|---:|"]
        lines += [f"| {table} | {size['rows']:,} | {_mb(size['total'])} |" for table, size in sizes.items()]
    return [*lines, ""]


def markdown(results: dict) -> str:
    lines = [
        *_md_pages(results),
        *_md_slowest(results),
        *_md_plans(results),
        *_md_setup(results),
        *checks_lines(results["checks"]),
        *machine_lines(results["machine"], results["code"]),
    ]
    return "\n".join(lines)


def run(*, contents: int, examples: int, review: int, requests: int, results_dir: Path, strict: bool) -> int:
    return run_measured(
        Bench(contents=contents, examples=examples, review=review, requests=requests),
        name="pages",
        results_dir=results_dir,
        markdown=markdown,
        strict=strict,
    )
