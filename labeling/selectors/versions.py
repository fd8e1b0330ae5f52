"""Reads of dataset states: the working state, a version's state, the state at a point in time."""

from dataclasses import dataclass
from datetime import datetime

from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Max

from labeling.models import IN_TRAINING_SET, Category, Changeset, Content, Dataset, DatasetVersion, Example
from labeling.statediff import State, StateDiff, diff_from_pairs, state_diff

WORKING_SQL = """
SELECT e.content_id, e.category_id, e.status, c.text_hash
FROM labeling_example e JOIN labeling_content c ON c.id = e.content_id
WHERE e.dataset_id = %s AND e.status <> 'removed'
"""

VERSION_SQL = """
SELECT content_id, category_id, status, text_hash FROM (
  SELECT content_id, category_id, status, text_hash,
         ROW_NUMBER() OVER (PARTITION BY content_id ORDER BY number DESC) AS newest
  FROM labeling_versionentry WHERE dataset_id = %s AND number <= %s
) entries WHERE newest = 1 AND category_id IS NOT NULL
"""


def state_sql(dataset: Dataset, version: DatasetVersion | None) -> tuple[str, list]:
    """SQL (and its parameters) selecting (content, category, status, text hash) of a state:
    the working state when `version` is None."""
    if version is None:
        return WORKING_SQL, [dataset.id]
    return VERSION_SQL, [dataset.id, version.number]


def _fetch_state(sql: str, params: list) -> State:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {row[0]: (row[1], row[2], row[3]) for row in cursor.fetchall()}


def working_state(dataset: Dataset) -> State:
    """Every example not removed: content id -> (category id, status, text hash)."""
    return _fetch_state(*state_sql(dataset, None))


def version_state(version: DatasetVersion) -> State:
    """The examples as they were when `version` was committed."""
    return _fetch_state(*state_sql(version.dataset, version))


# A FULL JOIN can only be planned as a hash or merge join, so this stays fast whatever the statistics
# say (a LEFT JOIN between two CTEs was once planned as a 100k x 100k nested loop right after a commit).
DIFF_SQL = """
WITH a AS ({older}), b AS ({newer})
SELECT COALESCE(a.content_id, b.content_id) AS content_id, a.category_id, a.status, a.text_hash,
       b.category_id AS new_category_id, b.status AS new_status, b.text_hash AS new_text_hash
FROM a FULL OUTER JOIN b ON a.content_id = b.content_id
WHERE a.content_id IS NULL OR b.content_id IS NULL OR a.category_id <> b.category_id
   OR a.status <> b.status OR a.text_hash <> b.text_hash
"""


def diff_sql(
    dataset: Dataset, older: DatasetVersion | None, newer: DatasetVersion | None
) -> tuple[str, list]:
    """SQL listing the examples that differ between two states (None = the working state)."""
    return diff_of_states(state_sql(dataset, older), state_sql(dataset, newer))


def diff_of_states(older: tuple[str, list], newer: tuple[str, list]) -> tuple[str, list]:
    return DIFF_SQL.format(older=older[0], newer=newer[0]), older[1] + newer[1]


def empty_state_sql(dataset: Dataset) -> tuple[str, list]:
    """The state before version 1: no examples."""
    return VERSION_SQL, [dataset.id, 0]


def training_counts(dataset: Dataset, version: DatasetVersion | None) -> dict[int, int]:
    """Examples per category in the training set: stored with a version, counted for the working state."""
    if version is not None:
        return {int(category_id): n for category_id, n in version.category_counts.items()}
    rows = Example.objects.filter(dataset=dataset, status__in=IN_TRAINING_SET).values_list("category_id")
    return dict(rows.annotate(n=Count("id")).order_by())


def states_diff(dataset: Dataset, older: DatasetVersion | None, newer: DatasetVersion | None) -> StateDiff:
    """Diff of two states computed in the database (None = the working state); only changes travel."""
    with connection.cursor() as cursor:
        cursor.execute(*diff_sql(dataset, older, newer))
        pairs = [
            (row[0], row[1:4] if row[1] is not None else None, row[4:7] if row[4] is not None else None)
            for row in cursor.fetchall()
        ]
    return diff_from_pairs(pairs, training_counts(dataset, older), training_counts(dataset, newer))


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
    since = since or latest_version(dataset)
    diff = states_diff(dataset, since, None) if since else state_diff({}, working_state(dataset))
    return DirtyCheck(since=since, diff=diff, below_minimum=_below_minimum(dataset, diff))


DIRTY_KEPT = 60  # seconds: bounds how long a write still in flight when the check ran can go unseen


def dataset_dirty_shown(dataset: Dataset) -> DirtyCheck:
    """`dataset_dirty` against the latest version, remembered until anything it depends on is written.

    Every write of examples, contents and categories adds a history row, and a commit a version: the
    newest of each (four index lookups) names the state, so a page view recomputes only after a change."""
    marks = [dataset.id, dataset.created_at.timestamp(), dataset.min_examples_per_category]
    for model in (DatasetVersion, Example.history.model, Content.history.model, Category.history.model):
        marks.append(model.objects.aggregate(newest=Max("pk"))["newest"])
    key = "dataset-dirty:" + ":".join(map(str, marks))
    check = cache.get(key)
    if check is None:
        check = dataset_dirty(dataset)
        cache.set(key, check, timeout=DIRTY_KEPT)
    return check


def _below_minimum(dataset: Dataset, diff: StateDiff) -> int:
    """Active small categories whose training-set count (the diff's 'after' side) is under the minimum."""
    active = Category.objects.filter(
        taxonomy_id=dataset.taxonomy_id, level=Category.Level.SMALL, status=Category.Status.ACTIVE
    ).values_list("id", flat=True)
    counts = {category_id: delta.after for category_id, delta in diff.per_category.items()}
    return sum(counts.get(category_id, 0) < dataset.min_examples_per_category for category_id in active)


def version_diff(older: DatasetVersion, newer: DatasetVersion) -> StateDiff:
    return states_diff(older.dataset, older, newer)


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
    categories = Category.objects.filter(taxonomy_id=dataset.taxonomy_id).select_related("parent").in_bulk()
    rows = [(categories[cid], delta) for cid, delta in diff.per_category.items() if delta.changes]
    return sorted(rows, key=lambda row: row[0].path)


def rollback_preview(dataset: Dataset, *, version: DatasetVersion | None = None, moment=None) -> StateDiff:
    """What a rollback to `version` (or to the point in time `moment`) changes in the working state."""
    if version is not None:
        return states_diff(dataset, None, version)
    return state_diff(working_state(dataset), state_at_time(dataset, moment))
