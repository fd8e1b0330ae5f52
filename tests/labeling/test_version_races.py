"""Saves against bulk operations, on PostgreSQL with real threads: a pause holds the bulk operation in its
narrowest window while an annotator saves."""

import json
from collections import Counter

import pytest

from core import roles
from core.errors import ApplicationError
from core.pauses import pausing
from labeling.models import IN_TRAINING_SET, Changeset, Example
from labeling.selectors.versions import version_state, working_state
from labeling.services import dataset_commit, example_label, version_rollback
from tests.factories import ContentFactory, DatasetFactory, SmallCategoryFactory, UserFactory, user_with_role
from tests.races import Gate, Racer, race

pytestmark = pytest.mark.django_db(transaction=True)
SAVE_WAIT = 0.5  # how long a save gets to (wrongly) commit while the bulk operation is paused


@pytest.fixture
def labelled():
    """Four examples, all in category a; version 1 holds them."""
    dataset = DatasetFactory()
    a, b = SmallCategoryFactory.create_batch(2, parent__taxonomy=dataset.taxonomy)
    admin, ana = UserFactory(username="admin"), user_with_role(roles.ANNOTATOR, username="ana")
    contents = ContentFactory.create_batch(4)
    for content in contents:
        example_label(dataset=dataset, content=content, category=a, user=admin)
    v1 = dataset_commit(dataset=dataset, user=admin, message="all in a")
    return dataset, a, b, admin, ana, contents, v1


def relabel(dataset, content, category, user):
    def work():
        version = Example.objects.get(dataset=dataset, content=content).version
        try:
            return example_label(
                dataset=dataset, content=content, category=category, user=user, expected_version=version
            )
        except ApplicationError as error:
            return error

    return work


def counts_of(state) -> dict[str, int]:
    return dict(Counter(str(category) for category, status, _ in state.values() if status in IN_TRAINING_SET))


def test_a_relabel_during_a_rollback_lands_after_it(labelled):
    dataset, a, b, admin, ana, contents, v1 = labelled
    example_label(dataset=dataset, content=contents[0], category=b, user=admin)  # the rollback undoes this
    gate = Gate("admin")
    with pausing("rollback-planned", gate):
        rollback = Racer(
            "admin", lambda: version_rollback(dataset=dataset, user=admin, reason="r", to_version=v1)
        )
        rollback.start()
        gate.wait_reached()  # the rollback has planned its changes: contents[1] already equals v1
        save = Racer("ana", relabel(dataset, contents[1], b, ana))
        save.start()
        save.done.wait(SAVE_WAIT)
        committed_during_rollback = Example.objects.get(content=contents[1]).category_id == b.id
        gate.open()
        changeset = rollback.finish()
        save.finish()
    assert not committed_during_rollback
    rolled_back = Example.history.filter(changeset_id=changeset.id)
    assert rolled_back.count() == 1 and rolled_back.get().content_id == contents[0].id
    ana_save = Example.history.get(content_id=contents[1].id, history_user=ana)
    assert ana_save.history_id > rolled_back.get().history_id  # after the rollback, on the state it left
    assert Example.objects.get(content=contents[0]).category_id == a.id


@pytest.mark.parametrize("new_label", [False, True], ids=["relabel", "first label"])
def test_a_save_between_a_versions_entries_and_its_counts_waits(labelled, new_label):
    dataset, a, b, admin, ana, contents, v1 = labelled
    example_label(dataset=dataset, content=contents[0], category=b, user=admin)  # so v2 is not empty
    target = ContentFactory() if new_label else contents[1]
    gate = Gate("admin")
    with pausing("version-entries-written", gate):
        commit = Racer("admin", lambda: dataset_commit(dataset=dataset, user=admin, message="v2"))
        commit.start()
        gate.wait_reached()
        save = Racer(
            "ana",
            relabel(dataset, target, b, ana)
            if not new_label
            else lambda: example_label(dataset=dataset, content=target, category=b, user=ana),
        )
        save.start()
        save.done.wait(SAVE_WAIT)
        gate.open()
        version = commit.finish()
        save.finish()
    assert version.category_counts == counts_of(version_state(version))
    assert version.example_count == len(version_state(version))
    assert counts_of(working_state(dataset)) != version.category_counts  # the save landed after it


def test_two_rollbacks_at_once_run_one_after_the_other(labelled):
    dataset, a, b, admin, ana, contents, v1 = labelled
    for content in contents:
        example_label(dataset=dataset, content=content, category=b, user=admin)
    v2 = dataset_commit(dataset=dataset, user=admin, message="all in b")
    first, second = race(
        Racer("to-v1", lambda: version_rollback(dataset=dataset, user=admin, reason="x", to_version=v1)),
        Racer("to-v2", lambda: version_rollback(dataset=dataset, user=admin, reason="y", to_version=v2)),
    )
    last = max(first, second, key=lambda changeset: changeset.id)
    target = v1 if last == first else v2
    assert {c: s[:2] for c, s in working_state(dataset).items()} == {
        c: s[:2] for c, s in version_state(target).items()
    }
    assert Changeset.objects.filter(kind=Changeset.Kind.ROLLBACK).count() == 2


def test_an_export_streams_the_labels_of_one_moment(labelled, monkeypatch):
    """A relabel committed while an export streams (between two chunks) is not half in it."""
    from labeling.selectors import export

    dataset, a, b, admin, ana, contents, v1 = labelled
    monkeypatch.setattr(export, "CHUNK", 1)
    saved = []

    def save_between_chunks():
        if not saved:  # at the first chunk: relabel the last content, which a later chunk exports
            saved.append(race(Racer("ana", relabel(dataset, contents[-1], b, ana)))[0])

    with pausing("export-chunk", save_between_chunks):
        lines = list(export.export_lines(dataset=dataset, fmt="jsonl"))
    assert saved and Example.objects.get(content=contents[-1]).category_id == b.id
    assert [json.loads(line)["category"] for line in "".join(lines).splitlines()] == [a.path] * 4
