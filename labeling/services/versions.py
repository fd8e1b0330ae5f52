"""Versions (snapshots), rollbacks and changeset reverts of a dataset's examples."""

from dataclasses import asdict
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from core.errors import ApplicationError
from core.history import save_with_history
from core.pauses import pause_point
from labeling.models import IN_TRAINING_SET, Category, Changeset, Dataset, DatasetVersion, Example
from labeling.selectors.versions import (
    diff_of_states,
    empty_state_sql,
    latest_version,
    rollback_preview,
    state_sql,
    training_counts,
)
from labeling.services.bulk import Target, examples_apply
from labeling.services.locks import dataset_lock_exclusive
from labeling.statediff import StateDiff


def _lock(dataset: Dataset) -> Dataset:
    """Serialise bulk work on one dataset and hold single saves off until it commits (commits number
    versions, rollbacks must not interleave, a version's statements must read one state). The row lock
    is FOR NO KEY UPDATE: new examples' foreign-key checks do not wait on it."""
    dataset_lock_exclusive(dataset.pk)
    return Dataset.objects.select_for_update(no_key=True).get(pk=dataset.pk)


# INSERT first: Python's sqlite3 reports no rowcount for a statement that starts with WITH.
COMMIT_SQL = """
INSERT INTO labeling_versionentry (dataset_id, number, content_id, category_id, status, text_hash)
SELECT %s, %s, d.content_id, d.new_category_id, COALESCE(d.new_status, ''), COALESCE(d.new_text_hash, '')
FROM ({diff}) d
"""


def _write_entries(dataset: Dataset, parent: DatasetVersion | None, number: int) -> int:
    """Entries for what differs from the parent version (a tombstone for what left), in one statement."""
    older = state_sql(dataset, parent) if parent else empty_state_sql(dataset)
    sql, params = diff_of_states(older, state_sql(dataset, None))
    with connection.cursor() as cursor:
        cursor.execute(COMMIT_SQL.format(diff=sql), [dataset.id, number, *params])
        return cursor.rowcount


@transaction.atomic
def dataset_commit(
    *, dataset: Dataset, user, message: str, kind: str = DatasetVersion.Kind.MANUAL, allow_empty: bool = True
) -> DatasetVersion:
    """Snapshot the working state as the next version (deltas against the previous one).

    With `allow_empty=False` (automatic versions) an unchanged state reuses the latest version.
    """
    message = message.strip()
    if not message:
        raise ApplicationError("A version needs a message saying what it holds.")
    dataset = _lock(dataset)
    parent = latest_version(dataset)
    number = parent.number + 1 if parent else 1
    with transaction.atomic():  # a savepoint: an empty automatic version is undone, not kept
        version = DatasetVersion.objects.create(
            dataset=dataset, number=number, parent=parent, kind=kind, message=message, author=user
        )
        version.entries_written = _write_entries(dataset, parent, number)
        if parent and not allow_empty and not version.entries_written:
            transaction.set_rollback(True)
            return parent
    pause_point("version-entries-written")  # the counts below read the same state: no save commits between
    version.example_count = (
        Example.objects.filter(dataset=dataset).exclude(status=Example.Status.REMOVED).count()
    )
    version.category_counts = {str(c): n for c, n in training_counts(dataset, None).items()}
    version.save(update_fields=["entries_written", "example_count", "category_counts"])
    return version


def changeset_open(
    *, dataset: Dataset, kind: str, user, reason: str, details: dict | None = None
) -> Changeset:
    """Start a bulk operation: an automatic version of the state before it, then the changeset row."""
    reason = reason.strip()
    if not reason:
        raise ApplicationError("Say why: a bulk change needs a reason.")
    before = dataset_commit(
        dataset=dataset,
        user=user,
        message=f"before {kind}: {reason}",
        kind=DatasetVersion.Kind.AUTOMATIC,
        allow_empty=False,
    )
    return Changeset.objects.create(
        dataset=dataset, kind=kind, user=user, reason=reason, version_before=before, details=details or {}
    )


def changeset_apply(changeset: Changeset, targets: Target, *, user) -> Changeset:
    """Write the targets under an open changeset and record its counts."""
    counts = examples_apply(
        dataset=changeset.dataset, targets=targets, changeset=changeset, user=user, reason=changeset.reason
    )
    for name, value in asdict(counts).items():
        setattr(changeset, name, value)
    changeset.save()
    return changeset


def _targets_from(diff: StateDiff) -> Target:
    """Targets that turn the diff's first state (the working state) into its second.

    Labels and statuses only: the text of a content is not the dataset's to roll back.
    """
    targets: Target = {}
    for change in diff.changes:
        if change.after is None:
            targets[change.content_id] = None
        elif change.before is None or change.before[:2] != change.after[:2]:
            targets[change.content_id] = change.after[:2]
    return targets


@transaction.atomic
def version_rollback(
    *,
    dataset: Dataset,
    user,
    reason: str,
    to_version: DatasetVersion | None = None,
    to_time: datetime | None = None,
) -> Changeset:
    """Make the working state equal to a version or to a point in time, as one changeset."""
    if (to_version is None) == (to_time is None):
        raise ApplicationError("Roll back either to a version or to a point in time.")
    if to_version is not None and to_version.dataset_id != dataset.id:
        raise ApplicationError(f"Version {to_version.number} belongs to another dataset.")
    if to_time is not None and to_time > timezone.now():
        raise ApplicationError("Cannot roll back to a time in the future.")
    dataset = _lock(dataset)
    diff = rollback_preview(dataset, version=to_version, moment=to_time)
    pause_point("rollback-planned")
    where = f"v{to_version.number}" if to_version else to_time.isoformat()
    details = {"to_version": to_version.number} if to_version else {"to_time": to_time.isoformat()}
    changeset = changeset_open(
        dataset=dataset,
        kind=Changeset.Kind.ROLLBACK,
        user=user,
        reason=f"rollback to {where}: {reason.strip() or 'no reason given'}",
        details=details,
    )
    changeset_apply(changeset, _targets_from(diff), user=user)
    return _reactivate_categories_in_use(changeset, user=user)


def _reactivate_categories_in_use(changeset: Changeset, *, user) -> Changeset:
    """Merged or excluded categories that have training examples again (a merge or exclude was undone)
    become active again, recorded under the same changeset."""
    used = Example.objects.filter(dataset=changeset.dataset, status__in=IN_TRAINING_SET).values("category_id")
    for category in Category.objects.filter(id__in=used).exclude(status=Category.Status.ACTIVE):
        category.status, category.merged_into = Category.Status.ACTIVE, None
        save_with_history(category, user=user, reason=changeset.reason, changeset=changeset)
    return changeset


REVERT_STATE_SQL = """
SELECT h.content_id, prev.category_id, prev.status, prev.history_type, h.category_id, h.status
FROM labeling_historicalexample h
LEFT JOIN labeling_historicalexample prev ON prev.history_id = (
  SELECT MAX(p.history_id) FROM labeling_historicalexample p WHERE p.id = h.id AND p.history_id < h.history_id
)
WHERE h.changeset_id = %s
"""


@transaction.atomic
def changeset_revert(*, changeset: Changeset, user, reason: str) -> Changeset:
    """Undo a changeset as a new changeset: each example it touched goes back to its state before it.

    Examples changed again since then are left as they are and counted as conflicts.
    """
    dataset = _lock(changeset.dataset)  # first: two reverts of one changeset run one after the other
    if changeset.reverted_by.exists():
        raise ApplicationError(f"Changeset #{changeset.id} was already reverted.")
    with connection.cursor() as cursor:
        cursor.execute(REVERT_STATE_SQL, [changeset.id])
        rows = cursor.fetchall()
    touched = Example.history.filter(changeset_id=changeset.id).values("content_id")
    current = {
        content_id: (category_id, status)
        for content_id, category_id, status in Example.objects.filter(
            dataset=dataset, content_id__in=touched
        ).values_list("content_id", "category_id", "status")
    }
    targets: Target = {}
    conflicts = 0
    for content_id, prev_category, prev_status, prev_type, written_category, written_status in rows:
        if current.get(content_id) != (written_category, written_status):
            conflicts += 1
            continue
        gone = prev_type is None or prev_type == "-" or prev_status == Example.Status.REMOVED
        targets[content_id] = None if gone else (prev_category, prev_status)
    revert = changeset_open(
        dataset=dataset,
        kind=Changeset.Kind.REVERT,
        user=user,
        reason=f"revert of changeset #{changeset.id}: {reason.strip() or 'no reason given'}",
        details={"conflicts": conflicts},
    )
    revert.reverts = changeset
    changeset_apply(revert, targets, user=user)
    return _reactivate_categories_in_use(revert, user=user)


def _chosen(dataset: Dataset, example_ids: list[int]) -> list[tuple[int, int, str]]:
    """(content id, category id, status) of the chosen examples; all must be in the dataset."""
    rows = list(
        Example.objects.filter(dataset=dataset, id__in=example_ids)
        .exclude(status=Example.Status.REMOVED)
        .values_list("content_id", "category_id", "status")
    )
    if not example_ids or len(rows) != len(set(example_ids)):
        raise ApplicationError(
            "Choose examples of this dataset (some were removed or are elsewhere); reload."
        )
    return rows


@transaction.atomic
def examples_relabel_bulk(
    *, dataset: Dataset, example_ids: list[int], category, user, reason: str
) -> Changeset:
    """Move the chosen examples to one small category, as one changeset (after an automatic version)."""
    if category.taxonomy_id != dataset.taxonomy_id or category.is_large or category.status != "active":
        raise ApplicationError(f"{category.path!r} is not an active small category of {dataset.name!r}.")
    dataset = _lock(dataset)
    rows = _chosen(dataset, example_ids)
    changeset = changeset_open(
        dataset=dataset,
        kind=Changeset.Kind.RELABEL,
        user=user,
        reason=reason,
        details={"category": category.id},
    )
    return changeset_apply(
        changeset, {content: (category.id, status) for content, _, status in rows}, user=user
    )


@transaction.atomic
def examples_mark_for_review_bulk(
    *, dataset: Dataset, example_ids: list[int], user, reason: str
) -> Changeset:
    """Flag the chosen examples as needing review, as one changeset."""
    dataset = _lock(dataset)
    rows = _chosen(dataset, example_ids)
    changeset = changeset_open(
        dataset=dataset,
        kind=Changeset.Kind.REVIEW,
        user=user,
        reason=reason,
        details={"status": Example.Status.NEEDS_REVIEW},
    )
    targets = {content: (category, Example.Status.NEEDS_REVIEW) for content, category, _ in rows}
    return changeset_apply(changeset, targets, user=user)
