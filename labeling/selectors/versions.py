"""Reads of dataset states: the working state, a version's state, the state at a point in time."""

from dataclasses import dataclass
from datetime import datetime

from django.db import connection

from labeling.models import Changeset, Dataset, DatasetVersion, Example
from labeling.statediff import State, StateDiff, state_diff


def working_state(dataset: Dataset) -> State:
    """Every example not removed: content id -> (category id, status, text hash)."""
    rows = (
        Example.objects.filter(dataset=dataset)
        .exclude(status=Example.Status.REMOVED)
        .values_list("content_id", "category_id", "status", "content__text_hash")
    )
    return {content_id: (category_id, status, text) for content_id, category_id, status, text in rows}


VERSION_STATE_SQL = """
SELECT content_id, category_id, status, text_hash FROM (
  SELECT content_id, category_id, status, text_hash,
         ROW_NUMBER() OVER (PARTITION BY content_id ORDER BY number DESC) AS newest
  FROM labeling_versionentry WHERE dataset_id = %s AND number <= %s
) entries WHERE newest = 1 AND category_id IS NOT NULL
"""


def version_state(version: DatasetVersion) -> State:
    """The examples as they were when `version` was committed."""
    with connection.cursor() as cursor:
        cursor.execute(VERSION_STATE_SQL, [version.dataset_id, version.number])
        return {row[0]: (row[1], row[2], row[3]) for row in cursor.fetchall()}


STATE_AT_TIME_SQL = """
SELECT entries.content_id, entries.category_id, entries.status, content.text_hash FROM (
  SELECT content_id, category_id, status, history_type,
         ROW_NUMBER() OVER (PARTITION BY id ORDER BY history_date DESC, history_id DESC) AS newest
  FROM labeling_historicalexample WHERE dataset_id = %s AND history_date <= %s
) entries JOIN labeling_content content ON content.id = entries.content_id
WHERE newest = 1 AND history_type <> '-' AND status <> 'removed'
"""


def state_at_time(dataset: Dataset, moment: datetime) -> State:
    """The examples as the history tables say they were at `moment` (text hashes as of now)."""
    with connection.cursor() as cursor:
        cursor.execute(STATE_AT_TIME_SQL, [dataset.id, moment])
        return {row[0]: (row[1], row[2], row[3]) for row in cursor.fetchall()}


def latest_version(dataset: Dataset) -> DatasetVersion | None:
    return DatasetVersion.objects.filter(dataset=dataset).order_by("-number").first()


@dataclass
class DirtyCheck:
    since: DatasetVersion | None
    diff: StateDiff
    below_minimum: int

    @property
    def changes(self) -> int:
        return len(self.diff)


def dataset_dirty(dataset: Dataset, *, since: DatasetVersion | None = None) -> DirtyCheck:
    """What changed in the working state since a version (default: the latest one)."""
    from labeling.selectors import dataset_summary

    since = since or latest_version(dataset)
    before = version_state(since) if since else {}
    diff = state_diff(before, working_state(dataset))
    return DirtyCheck(since=since, diff=diff, below_minimum=dataset_summary(dataset=dataset).below_minimum)


def version_diff(older: DatasetVersion, newer: DatasetVersion) -> StateDiff:
    return state_diff(version_state(older), version_state(newer))


def dataset_timeline(dataset: Dataset, *, user_id: int | None = None, kind: str = "") -> list:
    """Versions and changesets of a dataset, newest first, optionally by one user or of one kind."""
    versions = DatasetVersion.objects.filter(dataset=dataset).select_related("author")
    changesets = Changeset.objects.filter(dataset=dataset).select_related("user", "version_before")
    if user_id:
        versions, changesets = versions.filter(author_id=user_id), changesets.filter(user_id=user_id)
    if kind == "version":
        changesets = changesets.none()
    elif kind:
        versions, changesets = versions.none(), changesets.filter(kind=kind)
    events = [("version", v.created_at, v) for v in versions] + [
        ("changeset", c.created_at, c) for c in changesets
    ]
    return sorted(events, key=lambda event: event[1], reverse=True)


def diff_by_category(diff: StateDiff, dataset: Dataset) -> list[tuple]:
    """(category, CategoryDelta) for every category the diff touches, in taxonomy order."""
    from labeling.models import Category

    categories = Category.objects.filter(taxonomy_id=dataset.taxonomy_id).select_related("parent").in_bulk()
    rows = [(categories[cid], delta) for cid, delta in diff.per_category.items() if delta.changes]
    return sorted(rows, key=lambda row: row[0].path)
