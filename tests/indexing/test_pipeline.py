"""The pipeline's paths on the real node: labeling's bulk services reach the index through the triggers, batch
windows, rebuild (newest first, resumable), drift repair with backoff, dead letters."""

import dataclasses
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from indexing import capture
from indexing.engine import EngineError
from indexing.models import DeadLetter, DocVersion, IndexEvent, IndexState
from indexing.selectors import examples_search_engine
from labeling.models import Content, Example
from labeling.services.versions import dataset_commit, examples_relabel_bulk, version_rollback
from tests.factories import DatasetFactory, ExampleFactory, SmallCategoryFactory, UserFactory
from tests.indexing.conftest import assert_index_equals_database, drain

pytestmark = pytest.mark.django_db


@pytest.fixture
def labelled(search):
    dataset = DatasetFactory()
    first, second = (SmallCategoryFactory(parent__taxonomy=dataset.taxonomy) for _ in range(2))
    examples = [
        ExampleFactory(dataset=dataset, category=first, content__title=f"롤백 문서 {n}", content__body="")
        for n in range(30)
    ]
    drain(search)
    return dataset, first, second, examples


def _in_category(dataset, category) -> int:
    return examples_search_engine(dataset_id=dataset.id, category=category, per_page=100).total


def test_bulk_relabel_and_rollback_reflected(labelled, search):
    dataset, first, second, examples = labelled
    user = UserFactory()
    version = dataset_commit(dataset=dataset, user=user, message="before")
    examples_relabel_bulk(
        dataset=dataset, example_ids=[e.id for e in examples[:20]], category=second, user=user, reason="move"
    )
    drain(search)
    assert (_in_category(dataset, first), _in_category(dataset, second)) == (10, 20)
    version_rollback(dataset=dataset, user=user, reason="undo", to_version=version)  # set-based UPDATEs
    drain(search)
    assert (_in_category(dataset, first), _in_category(dataset, second)) == (30, 0)
    assert_index_equals_database(search)


def test_capture_is_idle_until_an_index_exists(db):
    ExampleFactory()
    assert IndexEvent.objects.count() == 0 and DocVersion.objects.count() == 0


def test_versions_rise_with_every_committed_change(labelled, search):
    _, _, second, examples = labelled
    content_id = examples[0].content_id
    before = DocVersion.objects.get(target="contents", doc_id=content_id).version
    Example.objects.filter(pk=examples[0].pk).update(category=second)
    Content.objects.filter(pk=content_id).update(title="두 번 바뀜")
    assert DocVersion.objects.get(target="contents", doc_id=content_id).version == before + 2


def test_batch_windows_catch_a_change_the_outbox_missed(labelled, search, settings):
    dataset, _, _, examples = labelled
    settings.INDEXING_CLOCK_SKEW = 0
    state = IndexState.objects.get(name="contents")
    state.batch_checkpoint = timezone.now() - timedelta(minutes=30)
    state.save()
    Content.objects.filter(pk=examples[0].content_id).update(
        title="배치 창에서 찾음", modified_at=timezone.now()
    )
    IndexEvent.objects.all().delete()  # as if the event were lost
    result = search.batch_sync()
    assert result["windows"] and all(w["since"] < w["until"] for w in result["windows"])
    search.engine_get().refresh(search.search_alias("contents"))
    assert examples_search_engine(dataset_id=dataset.id, text="배치").total == 1
    state.refresh_from_db()
    assert state.batch_checkpoint > timezone.now() - timedelta(minutes=1)


def test_rebuild_resumes_from_its_checkpoint(labelled, search):
    dataset, _, _, _ = labelled
    calls = []

    def crash_after_two_chunks(done, total):
        calls.append(done)
        if len(calls) == 2:
            raise KeyboardInterrupt("worker died")

    with pytest.raises(KeyboardInterrupt):
        search.index_rebuild(chunk=5, progress=crash_after_two_chunks)
    state = IndexState.objects.get(name="contents")
    assert state.building and state.rebuild_done == 10
    building = state.building
    result = search.index_rebuild(resume=True, chunk=5)
    assert result["index"] == building and result["documents"] == 30
    assert search.engine_get().indices_of(search.search_alias("contents")) == [building]
    assert_index_equals_database(search)


def test_rebuild_goes_newest_first(labelled, search, monkeypatch):
    from indexing.services import rebuild

    calls = []
    for function in ("documents_write", "documents_actions"):
        original = getattr(rebuild, function)

        def spy(*, name, ids, _original=original, **kwargs):
            calls.append(list(ids))
            return _original(name=name, ids=ids, **kwargs)

        monkeypatch.setattr(rebuild, function, spy)
    search.index_rebuild(chunk=7)
    recent = list(Content.objects.order_by("-modified_at").values_list("id", flat=True))
    assert calls[0] == recent  # the recently modified rows first
    chunks = calls[1:-1]  # then id chunks, highest ids first (the last call is the replay)
    assert [len(c) for c in chunks] == [7, 7, 7, 7, 2]
    flat = [pk for chunk in chunks for pk in chunk]
    assert flat == sorted(flat, reverse=True)


def test_drift_found_and_repaired(labelled, search):
    dataset, first, _, examples = labelled
    engine, alias = search.engine_get(), search.search_alias("contents")
    # the index loses documents behind the pipeline's back, and one goes stale
    engine.client.delete_by_query(
        index=alias, body={"query": {"terms": {"id": [e.content_id for e in examples[:3]]}}}
    )
    with connection.cursor() as cursor:  # a change whose event is lost
        cursor.execute(
            "UPDATE labeling_content SET title = 'drifted' WHERE id = %s", [examples[5].content_id]
        )
    IndexEvent.objects.all().delete()
    drift = search.drift_check()
    assert drift["database"] - drift["index"] == 3 and drift["categories_off"]
    repaired = search.drift_repair()
    assert repaired["repaired"] >= 4
    assert_index_equals_database(search)
    assert IndexState.objects.get(name="contents").repair_alert == ""


def test_drift_repair_backs_off_and_alerts(labelled, search, settings):
    settings.SEARCH_URL = "opensearch://127.0.0.1:9"  # nothing listens there
    first = search.drift_repair()
    assert "error" in first
    state = IndexState.objects.get(name="contents")
    assert state.repair_failures == 1 and "repair failed" in state.repair_alert
    assert "skipped_until" in search.drift_repair()  # backing off
    search.drift_repair(force=True)
    state.refresh_from_db()
    assert state.repair_failures == 2 and state.repair_next_at > timezone.now() + timedelta(minutes=1)


def test_refused_documents_are_dead_lettered_and_retried(labelled, search):
    _, _, _, examples = labelled
    content_id = examples[0].content_id
    from indexing.services import sync

    definition = sync.DEFINITIONS["contents"]
    broken = dataclasses.replace(
        definition,
        documents=lambda ids: {
            pk: doc | {"unknown_field": 1} for pk, doc in definition.documents(ids).items()
        },
    )
    sync.DEFINITIONS["contents"] = broken
    try:
        result = search.documents_write(name="contents", ids=[content_id])
    finally:
        sync.DEFINITIONS["contents"] = definition
    assert list(result.errors) == [content_id]
    assert DeadLetter.objects.filter(doc_id=content_id).exists()
    assert search.dead_letters_retry(name="contents") == 1
    drain(search)
    assert not DeadLetter.objects.exists()
    assert_index_equals_database(search)


def test_engine_unreachable_keeps_the_events(labelled, search, settings):
    _, _, second, examples = labelled
    Example.objects.filter(pk=examples[0].pk).update(category=second)
    settings.SEARCH_URL = "opensearch://127.0.0.1:9"
    with pytest.raises(EngineError):
        search.outbox_drain()
    assert IndexEvent.objects.filter(doc_id=examples[0].content_id).exists()


def test_sqlite_triggers_capture_the_same_changes(tmp_path):
    """The embedded default's database gets the same capture (row triggers)."""
    import sqlite3

    db = sqlite3.connect(tmp_path / "capture.sqlite3")
    db.executescript(
        """CREATE TABLE labeling_content (id INTEGER PRIMARY KEY, title TEXT);
        CREATE TABLE labeling_category (id INTEGER PRIMARY KEY, name TEXT, parent_id INTEGER);
        CREATE TABLE labeling_example (id INTEGER PRIMARY KEY, content_id INTEGER, category_id INTEGER);
        CREATE TABLE indexing_indexstate (id INTEGER PRIMARY KEY, name TEXT);
        CREATE TABLE indexing_indexevent (id INTEGER PRIMARY KEY, target TEXT, doc_id INTEGER,
          created_at TEXT);
        CREATE TABLE indexing_docversion (id INTEGER PRIMARY KEY, target TEXT, doc_id INTEGER,
          version INTEGER DEFAULT 1, changed_at TEXT, UNIQUE (target, doc_id));"""
    )
    for statement in capture._sqlite_sql({"labeling_content", "labeling_category", "labeling_example"}):
        db.execute(statement)
    db.execute("INSERT INTO labeling_content VALUES (1, 'before any index')")
    assert db.execute("SELECT count(*) FROM indexing_indexevent").fetchone() == (0,)
    db.execute("INSERT INTO indexing_indexstate VALUES (1, 'contents')")
    db.executescript(
        """INSERT INTO labeling_category VALUES (10, 'small', NULL);
        INSERT INTO labeling_example VALUES (100, 1, 10);
        UPDATE labeling_content SET title = 'x' WHERE id = 1;
        UPDATE labeling_category SET name = 'renamed' WHERE id = 10;"""
    )
    assert db.execute("SELECT count(*) FROM indexing_indexevent WHERE doc_id = 1").fetchone() == (3,)
    assert db.execute("SELECT version FROM indexing_docversion WHERE doc_id = 1").fetchone() == (3,)
