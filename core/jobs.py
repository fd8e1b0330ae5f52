"""Long work for the Celery worker: a Job row to poll, and running the handler of its kind.

Each app names its job kinds on its AppConfig: `job_handlers = {"kind": "app.module.function"}`; a handler
takes the Job and returns its result (a dict). Handlers are imported when a job runs, not at start-up.
"""

from django.apps import apps
from django.db import connection, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from core import dispatch
from core.errors import ApplicationError
from core.models import Job
from core.pauses import pause_point

RUN_TASK = "core.tasks.job_run_task"


def job_handlers() -> dict[str, str]:
    """Job kind -> dotted path of its handler, from every installed app."""
    found = {}
    for config in apps.get_app_configs():
        found.update(getattr(config, "job_handlers", {}))
    return found


def job_enqueue(*, kind: str, dataset, params: dict, user) -> Job:
    """Record a job and hand it to a worker once the surrounding transaction commits."""
    if kind not in job_handlers():
        raise ApplicationError(f"Unknown job kind {kind!r}.", code="unknown_job_kind")
    job = Job.objects.create(kind=kind, dataset=dataset, params=params, created_by=user)
    dispatch.enqueue(RUN_TASK, job.id)
    return job


def job_progress(job: Job, progress: float, stage: str) -> None:
    """Record progress where pages can see it. Only outside a job's work transaction: inside it, the row
    is updated with the work and seen when it commits."""
    Job.objects.filter(pk=job.pk).update(progress=progress, stage=stage)


def _unlocked(job_id: int, *statuses: str) -> Job | None:
    """The job row, locked, when it has one of `statuses`; None when it finished, is gone, or another
    worker holds it (that worker's work transaction is still open: it is running the job right now)."""
    job = Job.objects.select_for_update(skip_locked=True).filter(pk=job_id).first()
    return job if job is not None and job.status in statuses else None


def job_claim(job_id: int) -> Job | None:
    """Mark the job running; None when it already finished or another worker is running it.

    A job found RUNNING and not locked was left by a worker that died: its work transaction never
    committed (the result commits with the work), so it runs again from the start."""
    with transaction.atomic():
        job = _unlocked(job_id, Job.Status.QUEUED, Job.Status.RUNNING)
        if job is None:
            return None
        job.status, job.started_at, job.stage = Job.Status.RUNNING, timezone.now(), "running"
        job.save(update_fields=["status", "started_at", "stage"])
        return job


def job_run(job_id: int) -> None:
    """Run a claimed job: its work and its result commit in one transaction, so a redelivered job either
    finds it done (and does nothing) or finds nothing done (and does it all)."""
    if job_claim(job_id) is None:
        return
    try:
        with transaction.atomic():
            job = _unlocked(job_id, Job.Status.RUNNING)  # held to the commit: no second runner meanwhile
            if job is None:
                return
            handler = import_string(job_handlers()[job.kind])
            job.result = handler(job)
            pause_point("job-work-done")
            job.status, job.progress, job.stage = Job.Status.SUCCEEDED, 1.0, "done"
            job.finished_at = timezone.now()
            job.save()
    except ApplicationError as error:
        _job_failed(job_id, str(error), "refused")
    except Exception as error:  # shown to the person who started it, then re-raised for the logs
        _job_failed(job_id, f"{type(error).__name__}: {error}", "failed")
        raise


def _job_failed(job_id: int, message: str, stage: str) -> None:
    """Record a refusal or an error (the work's transaction was rolled back: nothing of it is kept)."""
    if not connection.in_atomic_block and not connection.is_usable():
        connection.close()  # the error may have broken it; the next query reconnects
    Job.objects.filter(pk=job_id, status=Job.Status.RUNNING).update(
        status=Job.Status.FAILED, message=message, stage=stage, finished_at=timezone.now()
    )
