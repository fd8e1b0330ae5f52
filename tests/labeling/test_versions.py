"""Versions, dirty-check, diff, rollback and changeset revert, on PostgreSQL."""

import pytest
from django.db import IntegrityError
from django.utils import timezone

from core.errors import ApplicationError
from labeling import services
from labeling.models import Changeset, DatasetVersion, Example
from labeling.selectors.versions import (
    dataset_dirty,
    rollback_preview,
    version_diff,
    version_state,
    working_state,
)
from labeling.services import bulk
from labeling.services.versions import (
    changeset_revert,
    dataset_commit,
    examples_mark_for_review_bulk,
    version_rollback,
)
from tests.factories import ContentFactory, DatasetFactory, ExampleFactory, SmallCategoryFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin():
    return UserFactory(username="root-admin", is_superuser=True)


@pytest.fixture
def world(admin):
    """A dataset of 12 examples in three categories, committed as v1."""
    dataset = DatasetFactory()
    a, b, c = SmallCategoryFactory.create_batch(3, parent__taxonomy=dataset.taxonomy)
    for category, n in ((a, 5), (b, 4), (c, 3)):
        ExampleFactory.create_batch(n, dataset=dataset, category=category)
    v1 = dataset_commit(dataset=dataset, user=admin, message="first")
    return dataset, (a, b, c), v1


def relabel(dataset, example, category, user):
    return services.example_label(
        dataset=dataset,
        content=example.content,
        category=category,
        user=user,
        expected_version=example.version,
    )


def test_commit_stores_only_deltas_and_reconstructs_every_version(world, admin):
    dataset, (a, b, c), v1 = world
    assert (v1.number, v1.example_count, v1.entries_written) == (1, 12, 12)
    state_v1 = working_state(dataset)
    moved = Example.objects.filter(category=a).first()
    relabel(dataset, moved, b, admin)
    ExampleFactory(dataset=dataset, category=c)
    v2 = dataset_commit(dataset=dataset, user=admin, message="second")

    assert (v2.number, v2.parent, v2.entries_written, v2.example_count) == (2, v1, 2, 13)
    assert v2.category_counts == {str(a.id): 4, str(b.id): 5, str(c.id): 4}
    assert version_state(v1) == state_v1
    assert version_state(v2) == working_state(dataset)


def test_commit_needs_a_message(world, admin):
    with pytest.raises(ApplicationError, match="needs a message"):
        dataset_commit(dataset=world[0], user=admin, message="  ")
    assert DatasetVersion.objects.count() == 1


def test_dirty_check_counts_each_kind_per_category(world, admin):
    dataset, (a, b, c), v1 = world
    assert dataset_dirty(dataset).changes == 0
    examples = list(Example.objects.filter(dataset=dataset, category=a))
    relabel(dataset, examples[0], b, admin)
    ExampleFactory(dataset=dataset, category=c)
    services.content_upsert(
        external_id=examples[1].content.external_id,
        title="new title",
        body="new body",
        user=admin,
        reason="typo",
    )

    dirty = dataset_dirty(dataset)
    assert dirty.since == v1 and dirty.changes == 3
    assert dirty.diff.totals == {"added": 1, "removed": 0, "relabelled": 1, "status": 0, "text": 1}
    assert dirty.diff.moves == {(a.id, b.id): 1}
    per = dirty.diff.per_category
    assert (per[a.id].moved_out, per[a.id].text, per[b.id].moved_in, per[c.id].added) == (1, 1, 1, 1)
    assert (per[a.id].before, per[a.id].after) == (5, 4)


def test_diff_between_versions_lists_the_moves(world, admin):
    dataset, (a, b, c), v1 = world
    for example in Example.objects.filter(category=a)[:2]:
        relabel(dataset, example, c, admin)
    v2 = dataset_commit(dataset=dataset, user=admin, message="moved two")
    diff = version_diff(v1, v2)
    assert len(diff) == 2 and diff.moves == {(a.id, c.id): 2}
    assert [change.kinds for change in diff.changes] == [("relabelled",), ("relabelled",)]


def test_rollback_to_version_restores_labels_and_records_history(world, admin):
    dataset, (a, b, c), v1 = world
    moved = Example.objects.filter(category=a).first()
    relabel(dataset, moved, b, admin)
    newcomer = ExampleFactory(dataset=dataset, category=c)

    changeset = version_rollback(dataset=dataset, user=admin, to_version=v1, reason="bad batch")

    assert working_state(dataset) == version_state(v1)
    assert (changeset.kind, changeset.relabelled, changeset.removed) == ("rollback", 1, 1)
    assert changeset.version_before.number == 2  # the state before the rollback is kept
    newcomer.refresh_from_db()
    assert newcomer.status == Example.Status.REMOVED
    rows = Example.history.filter(changeset=changeset)
    assert rows.count() == 2
    assert {r.history_user for r in rows} == {admin}
    assert all("bad batch" in r.history_change_reason for r in rows)
    moved.refresh_from_db()
    assert (moved.category, moved.version) == (a, 3)


def test_a_rollback_counts_what_its_preview_counted(world, admin):
    dataset, (a, b, c), v1 = world
    moved = Example.objects.filter(category=a).first()
    relabel(dataset, moved, b, admin)
    examples_mark_for_review_bulk(dataset=dataset, example_ids=[moved.id], user=admin, reason="odd")
    preview = rollback_preview(dataset, version=v1).totals

    changeset = version_rollback(dataset=dataset, user=admin, to_version=v1, reason="undo")

    assert (preview["relabelled"], preview["status"]) == (1, 1)
    assert (changeset.relabelled, changeset.status_changed) == (preview["relabelled"], preview["status"])


def test_rollback_of_a_rollback_and_deleted_examples_come_back(world, admin):
    dataset, (a, b, c), v1 = world
    gone = Example.objects.filter(category=b).first()
    content_id = gone.content_id
    Example.history.filter(id=gone.id).delete()  # a hard delete behind our back (admin, psql)
    gone.delete()
    relabel(dataset, Example.objects.filter(category=a).first(), c, admin)
    before = working_state(dataset)

    first = version_rollback(dataset=dataset, user=admin, to_version=v1, reason="undo")
    assert working_state(dataset) == version_state(v1)
    assert (first.added, first.relabelled) == (1, 1)
    assert Example.objects.get(dataset=dataset, content_id=content_id).category == b

    version_rollback(dataset=dataset, user=admin, to_version=first.version_before, reason="undo the undo")
    assert working_state(dataset) == before


def test_rollback_to_a_point_in_time(world, admin):
    dataset, (a, b, c), v1 = world
    moment = timezone.now()
    relabel(dataset, Example.objects.filter(category=a).first(), b, admin)
    ExampleFactory(dataset=dataset, category=c)

    changeset = version_rollback(dataset=dataset, user=admin, to_time=moment, reason="morning state")
    assert working_state(dataset) == version_state(v1)
    assert changeset.details == {"to_time": moment.isoformat()}
    with pytest.raises(ApplicationError, match="future"):
        version_rollback(
            dataset=dataset, user=admin, to_time=timezone.now() + timezone.timedelta(hours=1), reason="x"
        )


def test_rollback_that_fails_halfway_changes_nothing(world, admin, monkeypatch):
    dataset, (a, b, c), v1 = world
    for example in Example.objects.filter(category__in=[a, b]):
        relabel(dataset, example, c, admin)
    before_state, history_rows = working_state(dataset), Example.history.count()
    versions, changesets = DatasetVersion.objects.count(), Changeset.objects.count()
    real_insert, calls = bulk.history_insert_select, []

    def insert_then_fail(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise IntegrityError("disk full (simulated)")
        return real_insert(*args, **kwargs)

    monkeypatch.setattr(bulk, "history_insert_select", insert_then_fail)
    with pytest.raises(IntegrityError):
        version_rollback(dataset=dataset, user=admin, to_version=v1, reason="will fail")

    assert len(calls) == 2  # the first group of updates was written before the failure
    assert working_state(dataset) == before_state
    assert Example.history.count() == history_rows
    assert (DatasetVersion.objects.count(), Changeset.objects.count()) == (versions, changesets)


def test_revert_of_a_changeset_and_of_the_revert(world, admin):
    dataset, (a, b, c), v1 = world
    new_content = ContentFactory()
    changeset = services.changeset_open(
        dataset=dataset, kind=Changeset.Kind.IMPORT, user=admin, reason="import batch 7"
    )
    moved = Example.objects.filter(category=a).first()
    bulk.examples_apply(
        dataset=dataset,
        changeset=changeset,
        user=admin,
        reason=changeset.reason,
        targets={new_content.id: (b.id, "active"), moved.content_id: (c.id, "active")},
    )
    after_import = working_state(dataset)

    revert = changeset_revert(changeset=changeset, user=admin, reason="wrong file")
    assert working_state(dataset) == version_state(v1)
    assert (revert.reverts, revert.relabelled, revert.removed) == (changeset, 1, 1)
    with pytest.raises(ApplicationError, match="already reverted"):
        changeset_revert(changeset=changeset, user=admin, reason="again")

    changeset_revert(changeset=revert, user=admin, reason="it was right after all")
    assert working_state(dataset) == after_import


def test_revert_skips_examples_changed_since(world, admin):
    dataset, (a, b, c), v1 = world
    changeset = services.changeset_open(dataset=dataset, kind=Changeset.Kind.RELABEL, user=admin, reason="r")
    first, second = Example.objects.filter(category=a)[:2]
    bulk.examples_apply(
        dataset=dataset,
        changeset=changeset,
        user=admin,
        reason="r",
        targets={first.content_id: (b.id, "active"), second.content_id: (b.id, "active")},
    )
    first.refresh_from_db()
    relabel(dataset, first, c, admin)  # someone fixed it by hand since

    revert = changeset_revert(changeset=changeset, user=admin, reason="undo")
    assert revert.details == {"conflicts": 1} and revert.relabelled == 1
    assert Example.objects.get(pk=first.pk).category == c
    assert Example.objects.get(pk=second.pk).category == a


def test_bulk_relabel_is_one_changeset_with_history(world, admin):
    dataset, (a, b, c), v1 = world
    chosen = list(Example.objects.filter(dataset=dataset, category=a).values_list("id", flat=True)[:3])
    changeset = services.examples_relabel_bulk(
        dataset=dataset, example_ids=chosen, category=c, user=admin, reason="boundary note 12"
    )
    assert (changeset.kind, changeset.relabelled, changeset.version_before) == ("relabel", 3, v1)
    assert set(Example.objects.filter(id__in=chosen).values_list("category", flat=True)) == {c.id}
    assert Example.history.filter(changeset=changeset, history_user=admin).count() == 3
    with pytest.raises(ApplicationError, match="Choose examples of this dataset"):
        services.examples_relabel_bulk(
            dataset=dataset, example_ids=[*chosen, 10**9], category=b, user=admin, reason="x"
        )
    assert Changeset.objects.count() == 1


def test_the_dashboard_dirty_check_follows_every_write(world, admin):
    from labeling.selectors.versions import dataset_dirty_shown

    dataset, (a, b, c), v1 = world
    assert dataset_dirty_shown(dataset).changes == 0
    examples = list(Example.objects.filter(dataset=dataset, category=a))
    relabel(dataset, examples[0], b, admin)
    assert dataset_dirty_shown(dataset).changes == 1
    services.content_upsert(
        external_id=examples[1].content.external_id, title="new", body="text", user=admin, reason="typo"
    )
    assert dataset_dirty_shown(dataset).changes == 2
    v2 = dataset_commit(dataset=dataset, user=admin, message="second")
    assert (dataset_dirty_shown(dataset).since, dataset_dirty_shown(dataset).changes) == (v2, 0)
