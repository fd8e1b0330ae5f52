"""Versions (snapshots), rollbacks and changeset reverts of a dataset's examples."""

from dataclasses import asdict
from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from labeling.errors import LabelingError
from labeling.models import Changeset, Dataset, DatasetVersion, Example, VersionEntry
from labeling.selectors.versions import latest_version, state_at_time, version_state, working_state
from labeling.services.bulk import Target, examples_apply
from labeling.statediff import State, state_diff


def _lock(dataset: Dataset) -> Dataset:
    """Serialise bulk work on one dataset (commits number versions; rollbacks must not interleave)."""
    return Dataset.objects.select_for_update().get(pk=dataset.pk)


def _category_counts(state: State) -> dict[str, int]:
    counts: dict[str, int] = {}
    for category_id, status, _ in state.values():
        if status != Example.Status.EXCLUDED:
            counts[str(category_id)] = counts.get(str(category_id), 0) + 1
    return counts


def _write_entries(dataset: Dataset, number: int, parent_state: State, state: State) -> int:
    diff = state_diff(parent_state, state)
    entries = [
        VersionEntry(
            dataset=dataset,
            number=number,
            content_id=change.content_id,
            category_id=change.after[0] if change.after else None,
            status=change.after[1] if change.after else "",
            text_hash=change.after[2] if change.after else "",
        )
        for change in diff.changes
    ]
    VersionEntry.objects.bulk_create(entries, batch_size=5000)
    return len(entries)


@transaction.atomic
def dataset_commit(
    *, dataset: Dataset, user, message: str, kind: str = DatasetVersion.Kind.MANUAL, allow_empty: bool = True
) -> DatasetVersion:
    """Snapshot the working state as the next version (deltas against the previous one).

    With `allow_empty=False` (automatic versions) an unchanged state reuses the latest version.
    """
    message = message.strip()
    if not message:
        raise LabelingError("A version needs a message saying what it holds.")
    dataset = _lock(dataset)
    parent = latest_version(dataset)
    parent_state = version_state(parent) if parent else {}
    state = working_state(dataset)
    if parent and not allow_empty and not state_diff(parent_state, state).changes:
        return parent
    number = parent.number + 1 if parent else 1
    version = DatasetVersion.objects.create(
        dataset=dataset,
        number=number,
        parent=parent,
        kind=kind,
        message=message,
        author=user,
        example_count=len(state),
        category_counts=_category_counts(state),
    )
    version.entries_written = _write_entries(dataset, number, parent_state, state)
    version.save(update_fields=["entries_written"])
    return version


def changeset_open(
    *, dataset: Dataset, kind: str, user, reason: str, details: dict | None = None
) -> Changeset:
    """Start a bulk operation: an automatic version of the state before it, then the changeset row."""
    reason = reason.strip()
    if not reason:
        raise LabelingError("Say why: a bulk change needs a reason.")
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


def _apply(changeset: Changeset, targets: Target, *, user) -> Changeset:
    counts = examples_apply(
        dataset=changeset.dataset, targets=targets, changeset=changeset, user=user, reason=changeset.reason
    )
    for name, value in asdict(counts).items():
        setattr(changeset, name, value)
    changeset.save()
    return changeset


def _targets_to_reach(dataset: Dataset, goal: State) -> Target:
    """The targets that turn the working state into `goal` (labels and statuses; text is not ours)."""
    current = working_state(dataset)
    targets: Target = {content_id: None for content_id in current.keys() - goal.keys()}
    for content_id, (category_id, status, _) in goal.items():
        if current.get(content_id, (None, None))[:2] != (category_id, status):
            targets[content_id] = (category_id, status)
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
        raise LabelingError("Roll back either to a version or to a point in time.")
    if to_version is not None and to_version.dataset_id != dataset.id:
        raise LabelingError(f"Version {to_version.number} belongs to another dataset.")
    if to_time is not None and to_time > timezone.now():
        raise LabelingError("Cannot roll back to a time in the future.")
    dataset = _lock(dataset)
    goal = version_state(to_version) if to_version else state_at_time(dataset, to_time)
    where = f"v{to_version.number}" if to_version else to_time.isoformat()
    details = {"to_version": to_version.number} if to_version else {"to_time": to_time.isoformat()}
    changeset = changeset_open(
        dataset=dataset,
        kind=Changeset.Kind.ROLLBACK,
        user=user,
        reason=f"rollback to {where}: {reason.strip() or 'no reason given'}",
        details=details,
    )
    return _apply(changeset, _targets_to_reach(dataset, goal), user=user)


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
    if changeset.reverted_by.exists():
        raise LabelingError(f"Changeset #{changeset.id} was already reverted.")
    dataset = _lock(changeset.dataset)
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
    return _apply(revert, targets, user=user)


@transaction.atomic
def examples_relabel_bulk(
    *, dataset: Dataset, example_ids: list[int], category, user, reason: str
) -> Changeset:
    """Move the chosen examples to one small category, as one changeset (after an automatic version)."""
    if category.taxonomy_id != dataset.taxonomy_id or category.is_large or category.status != "active":
        raise LabelingError(f"{category.path!r} is not an active small category of {dataset.name!r}.")
    chosen = Example.objects.filter(dataset=dataset, id__in=example_ids).exclude(
        status=Example.Status.REMOVED
    )
    rows = list(chosen.values_list("content_id", "status"))
    if len(rows) != len(set(example_ids)):
        raise LabelingError(
            "Some chosen examples are not in this dataset (or were removed); reload the page."
        )
    changeset = changeset_open(
        dataset=_lock(dataset),
        kind=Changeset.Kind.RELABEL,
        user=user,
        reason=reason,
        details={"category": category.id},
    )
    return _apply(changeset, {content_id: (category.id, status) for content_id, status in rows}, user=user)
