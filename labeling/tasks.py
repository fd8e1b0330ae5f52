"""Celery tasks of the labeling app: thin wrappers that take ids and call selectors/services."""

from celery import shared_task

from labeling import selectors
from labeling.models import Dataset, DatasetVersion
from labeling.selectors.versions import dataset_dirty
from labeling.services.words import content_words_index


@shared_task(acks_late=True, soft_time_limit=60, time_limit=90)
def dataset_category_counts_task(dataset_id: int) -> dict[str, int]:
    """Example counts per small-category path, computed by the worker from the database."""
    dataset = Dataset.objects.get(pk=dataset_id)
    summary = selectors.dataset_summary(dataset=dataset)
    return {row.category.path: row.examples for row in summary.small_categories}


@shared_task(soft_time_limit=120, time_limit=150)
def dataset_changes_since_task(dataset_id: int, number: int | None = None) -> dict:
    """Dirty-check for schedules: how much changed since version `number` (default: the latest)."""
    dataset = Dataset.objects.get(pk=dataset_id)
    since = DatasetVersion.objects.get(dataset=dataset, number=number) if number else None
    check = dataset_dirty(dataset, since=since)
    return {
        "since": check.since.number if check.since else None,
        "changes": check.changes,
        "below_minimum": check.below_minimum,
        **check.diff.totals,
    }


@shared_task(acks_late=True, soft_time_limit=1800, time_limit=1900)
def content_words_index_task() -> int:
    """Index the words of pending contents for body search (safe to run twice: each takes what is left)."""
    return content_words_index()
