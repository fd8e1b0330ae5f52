"""Celery tasks of the core: thin wrappers that take ids and call services."""

from celery import shared_task

from core import jobs


@shared_task(acks_late=True, soft_time_limit=1800, time_limit=1900)
def job_run_task(job_id: int) -> None:
    jobs.job_run(job_id)
