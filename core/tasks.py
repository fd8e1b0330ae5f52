"""Celery tasks of the core: thin wrappers that take ids and call services."""

from celery import shared_task

from core import jobs, reaping


@shared_task(acks_late=True, soft_time_limit=1800, time_limit=1900)
def job_run_task(job_id: int) -> None:
    jobs.job_run(job_id)


@shared_task(soft_time_limit=60, time_limit=90)
def jobs_reap_task() -> list[int]:
    """Fail jobs whose worker died (beat runs it every WORKER_CHECK_SECONDS)."""
    return reaping.jobs_reap_orphaned()
