"""Fault tests on the real node and database, each ending with the index equal to the database, document by
document: a node stopped mid-bulk, a worker SIGKILLed mid-batch, events twice and out of order, a rebuild
with 1,000 writes landing during it, PostgreSQL restarted while the drainer runs."""

import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest
from django.db import connection, connections

from indexing.engine import Action, EngineError
from indexing.models import IndexEvent
from labeling.models import Content, Example
from tests.conftest import start_worker, stop_worker
from tests.factories import DatasetFactory, ExampleFactory, SmallCategoryFactory
from tests.indexing.conftest import assert_index_equals_database, drain

ROOT = Path(__file__).resolve().parents[2]


def _world(count: int):
    dataset = DatasetFactory()
    categories = [SmallCategoryFactory(parent__taxonomy=dataset.taxonomy) for _ in range(3)]
    examples = [
        ExampleFactory(
            dataset=dataset, category=categories[n % 3], content__title=f"문서 {n}", content__body=""
        )
        for n in range(count)
    ]
    return dataset, categories, examples


def _touch_all(examples, categories, tag: str) -> None:
    """One change per example: a relabel, so the documents' category paths change."""
    for n, example in enumerate(examples):
        Example.objects.filter(pk=example.pk).update(category=categories[(n + 1) % 3])
        Content.objects.filter(pk=example.content_id).update(title=f"{tag} {n}")


@pytest.mark.django_db
def test_events_twice_and_out_of_order_never_regress(search):
    _, categories, examples = _world(20)
    drain(search)
    engine, alias = search.engine_get(), search.search_alias("contents")
    ids = [e.content_id for e in examples]
    old = search.index_compare(ids=ids)  # nothing off yet
    assert old == {"missing": [], "stale": [], "extra": []}
    before = engine.get_many(alias, ids)
    _touch_all(examples, categories, "새 제목")
    # the same ids twice, in reverse order, before the drainer runs
    IndexEvent.objects.bulk_create([IndexEvent(target="contents", doc_id=pk) for pk in reversed(ids * 2)])
    drain(search)
    # the old states delivered late (the seed's replay problem): refused, the index keeps the newer state
    late = [
        Action(pk, doc["_version"], {k: v for k, v in doc.items() if k != "_version"})
        for pk, doc in before.items()
    ]
    result = engine.bulk(alias, late, refresh=True)
    assert result.stale == len(late) and result.written == 0
    drain(search)
    assert_index_equals_database(search)


def _outbox() -> int:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT count(*) FROM indexing_indexevent")
        return cursor.fetchone()[0]


@pytest.fixture
def private_node(tmp_path, settings, search_url):
    """A search node of this test's own, that it may stop and start again (same data folder)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    home = tmp_path / "node"
    state = {}

    def start():
        log = (tmp_path / "node.log").open("a")
        state["process"] = subprocess.Popen(
            [ROOT / "scripts/search-node.sh", str(port), str(home)], stdout=log, stderr=subprocess.STDOUT
        )
        from indexing.engine import engine_from_url

        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                engine_from_url(f"opensearch://127.0.0.1:{port}", timeout=2).health()
                return
            except EngineError:
                time.sleep(0.2)
        raise RuntimeError((tmp_path / "node.log").read_text()[-3000:])

    def stop():
        state["process"].send_signal(signal.SIGTERM)
        state["process"].wait(timeout=60)

    start()
    settings.SEARCH_URL = f"opensearch://127.0.0.1:{port}"
    yield start, stop
    if state["process"].poll() is None:
        stop()


@pytest.mark.django_db(transaction=True)
def test_node_stopped_mid_bulk_and_started_again(private_node, settings):
    from indexing import services

    start, stop = private_node
    settings.SEARCH_INDEX_PREFIX = "outage-"
    settings.INDEXING_BATCH_SIZE = 25
    services.index_create()
    _, categories, examples = _world(600)
    failures = []

    def drainer():
        try:
            services.outbox_drain()
        except Exception as error:  # noqa: BLE001 - the outage is expected to stop it
            failures.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=drainer)
    thread.start()
    while _outbox() > 500:  # mid-way through the bulks
        time.sleep(0.01)
    stop()
    thread.join(timeout=60)
    assert failures and isinstance(failures[0], EngineError)
    assert _outbox() > 0  # what was not written is still in the outbox
    _touch_all(examples[:50], categories, "정전 중")  # writes keep landing during the outage
    start()
    drain(services)
    assert _outbox() == 0
    assert_index_equals_database(services)


@pytest.mark.django_db(transaction=True)
def test_worker_sigkilled_mid_batch(search, worker_env, tmp_path, settings):
    _, _, examples = _world(400)
    env = worker_env | {
        "SEARCH_URL": settings.SEARCH_URL,
        "SEARCH_INDEX_PREFIX": settings.SEARCH_INDEX_PREFIX,
        "INDEXING_BATCH_SIZE": "10",
    }
    process, _ = start_worker(env, tmp_path, queues="indexing-test")
    try:
        from indexing.tasks import outbox_drain_task

        outbox_drain_task.apply_async(kwargs={"seconds": 30}, queue="indexing-test")
        deadline = time.monotonic() + 60
        while _outbox() > 350 and time.monotonic() < deadline:
            time.sleep(0.01)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    finally:
        stop_worker(process)
    assert 0 < _outbox() < 400
    drain(search)
    assert _outbox() == 0
    assert_index_equals_database(search)


@pytest.mark.django_db(transaction=True)
def test_rebuild_with_1000_writes_landing_during_it(search, settings):
    _, categories, examples = _world(300)
    drain(search)
    stop = threading.Event()

    def writer():
        try:
            for n in range(1000):
                example = examples[n % len(examples)]
                Example.objects.filter(pk=example.pk).update(category=categories[n % 3])
                if n % 2:
                    Content.objects.filter(pk=example.content_id).update(title=f"재색인 중 {n}")
        finally:
            stop.set()
            connection.close()

    def drainer():
        try:
            while not stop.is_set():
                search.outbox_drain()
                time.sleep(0.05)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer), threading.Thread(target=drainer)]
    for thread in threads:
        thread.start()
    before = search.engine_get().indices_of(search.search_alias("contents"))
    result = search.index_rebuild(chunk=20)
    for thread in threads:
        thread.join(timeout=120)
    drain(search)
    after = search.engine_get().indices_of(search.search_alias("contents"))
    assert after == [result["index"]] and after != before
    assert search.engine_get().index_exists(before[0])  # the previous index is kept for a while
    assert_index_equals_database(search)


def _pg(*args: str) -> None:
    data = Path(os.environ["SERVICES_PG_DATA"])
    command = [
        f"{os.environ['SERVICES_PG_BIN']}/pg_ctl",
        "-D",
        str(data),
        "-l",
        str(data.parent / "server.log"),
    ]
    if os.getuid() == 0:
        command = ["runuser", "-u", "postgres", "--", *command]
    # the server outlives pg_ctl: it must not hold a pipe of ours open
    subprocess.run(
        [*command, *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120
    )


@pytest.mark.django_db(transaction=True)
def test_postgresql_restarted_while_the_drainer_runs(search, settings):
    if not os.environ.get("SERVICES_PG_DATA"):
        pytest.fail("needs scripts/with-services.sh (SERVICES_PG_DATA)")
    settings.INDEXING_BATCH_SIZE = 10
    _, categories, examples = _world(300)
    handled = []

    def drainer():
        try:
            handled.append(search.outbox_drain(seconds=15, idle_sleep=0.1))
        finally:
            connection.close()

    thread = threading.Thread(target=drainer)
    thread.start()
    while _outbox() > 250:
        time.sleep(0.01)
    connections.close_all()
    _pg("restart", "-m", "fast", "-w")
    _touch_all(examples[:30], categories, "재시작 후")
    thread.join(timeout=60)
    assert handled  # the loop lived through the restart
    drain(search)
    assert_index_equals_database(search)
