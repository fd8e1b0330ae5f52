"""Celery tasks of the training app: thin wrappers that take ids and call services."""

from celery import shared_task
from django.conf import settings

from labeling.models import Dataset
from training.services import bulk_retention, runs, schedules


@shared_task(
    acks_late=True,
    soft_time_limit=settings.TRAINING_SOFT_TIME_LIMIT,
    time_limit=settings.TRAINING_SOFT_TIME_LIMIT + 120,
)
def training_run_task(run_id: int) -> None:
    """Execute a queued run (a second delivery does nothing, or fails a run whose worker died)."""
    runs.run_execute(run_id)


@shared_task(soft_time_limit=120, time_limit=180)
def scheduled_training_task(dataset_id: int, reason: str) -> int | None:
    dataset = Dataset.objects.filter(pk=dataset_id).first()
    if dataset is None:
        return None
    run = schedules.scheduled_training(dataset=dataset, reason=reason)
    return run.id if run else None


@shared_task(soft_time_limit=60, time_limit=90)
def training_runs_reap_task() -> list[int]:
    """Fail runs whose worker stopped sending heartbeats."""
    return [run.id for run in runs.runs_reap_stale()]


@shared_task(soft_time_limit=300, time_limit=360)
def bulk_outputs_expire_task() -> list[int]:
    """Delete bulk classification files older than BULK_OUTPUT_RETENTION_DAYS; mark their jobs expired."""
    return bulk_retention.bulk_outputs_expire()
