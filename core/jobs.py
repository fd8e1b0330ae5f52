"""Long work for the Celery worker: a Job row to poll, and running the handler of its kind.

Each app names its job kinds on its AppConfig: `job_handlers = {"kind": "app.module.function"}`; a handler
takes the Job and returns its result (a dict). Handlers are imported when a job runs, not at start-up.
"""

from django.apps import apps
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from core import dispatch
from core.errors import ApplicationError
from core.models import Job

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
    """Record progress where pages can see it (outside the job's own transaction)."""
    Job.objects.filter(pk=job.pk).update(progress=progress, stage=stage)


def job_claim(job_id: int) -> Job | None:
    """Mark the job running; None when it already finished (a redelivered task has nothing to do)."""
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status in (Job.Status.SUCCEEDED, Job.Status.FAILED):
            return None
        job.status, job.started_at, job.stage = Job.Status.RUNNING, timezone.now(), "running"
        job.save(update_fields=["status", "started_at", "stage"])
        return job


def job_run(job_id: int) -> None:
    """Run a claimed job's handler; its own transaction means a failure leaves nothing half-done."""
    job = job_claim(job_id)
    if job is None:
        return
    try:
        handler = import_string(job_handlers()[job.kind])
        job.result = handler(job)
        job.status, job.progress, job.stage = Job.Status.SUCCEEDED, 1.0, "done"
    except ApplicationError as error:
        job.status, job.message, job.stage = Job.Status.FAILED, str(error), "refused"
    except Exception as error:  # shown to the person who started it, then re-raised for the logs
        job.status, job.message, job.stage = Job.Status.FAILED, f"{type(error).__name__}: {error}", "failed"
        raise
    finally:
        job.finished_at = timezone.now()
        job.save()
