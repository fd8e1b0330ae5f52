"""Long work for the Celery worker: a Job row to poll, and running the handler of its kind.

Each app names its job kinds on its AppConfig: `job_handlers = {"kind": "app.module.function"}`; a handler
takes the Job and returns its result (a dict). Handlers are imported when a job runs, not at start-up.

A handler's work and the job's result commit in one transaction (all or nothing), unless the handler is marked
`commits_as_it_goes`: long work that checkpoints itself and resumes when run again (a search index rebuild).
That one runs outside a transaction. Either way a job's progress shows while it runs (`job_progress`).
"""

from collections.abc import Callable

from django.apps import apps
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from core import dispatch
from core.errors import ApplicationError
from core.models import Job
from core.pauses import pause_point

RUN_TASK = "core.tasks.job_run_task"
PROGRESS_SECONDS = 24 * 3600  # a running job's latest progress in the cache (longer than any time limit)


def job_handlers() -> dict[str, str]:
    """Job kind -> dotted path of its handler, from every installed app."""
    found = {}
    for config in apps.get_app_configs():
        found.update(getattr(config, "job_handlers", {}))
    return found


def commits_as_it_goes(handler: Callable[[Job], dict]) -> Callable[[Job], dict]:
    """Mark a handler whose work commits in steps and resumes from its own checkpoint when run again."""
    handler.commits_as_it_goes = True
    return handler


def job_record(*, kind: str, dataset, params: dict, user) -> Job:
    """Record a job (queued) without handing it to a worker: the caller runs it (job_run) or enqueues it."""
    if kind not in job_handlers():
        raise ApplicationError(f"Unknown job kind {kind!r}.", code="unknown_job_kind")
    return Job.objects.create(kind=kind, dataset=dataset, params=params, created_by=user)


def job_enqueue(*, kind: str, dataset, params: dict, user) -> Job:
    """Record a job and hand it to a worker once the surrounding transaction commits."""
    job = job_record(kind=kind, dataset=dataset, params=params, user=user)
    dispatch.enqueue(RUN_TASK, job.id)
    return job


def job_progress(job: Job, progress: float, stage: str) -> None:
    """Record progress where pages see it at once, also from inside a job's work transaction: there the
    row's update shows only when the work commits (the row is locked to the end), so the figures also go
    to the cache, which the job's page reads while the job runs (`job_shown`)."""
    Job.objects.filter(pk=job.pk).update(progress=progress, stage=stage)
    cache.set(_progress_key(job.pk), [progress, stage], PROGRESS_SECONDS)
    pause_point("job-progress")


def job_shown(job: Job) -> Job:
    """The job as its page shows it: while it runs, the latest progress its work reported (`job_progress`),
    which its row holds only once the work commits."""
    if job.status == Job.Status.RUNNING:
        latest = cache.get(_progress_key(job.pk))
        if latest is not None:
            job.progress, job.stage = latest
    return job


def _progress_key(job_id: int) -> str:
    return f"job-progress:{job_id}"


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
        cache.delete(_progress_key(job.id))  # a run before this one, by a worker that died, reported it
        return job


def job_run(job_id: int) -> None:
    """Run a claimed job: its work and its result commit in one transaction, so a redelivered job either
    finds it done (and does nothing) or finds nothing done (and does it all). A `commits_as_it_goes`
    handler instead keeps what it committed, and a redelivered job resumes from there."""
    claimed = job_claim(job_id)
    if claimed is None:
        return
    handler = import_string(job_handlers()[claimed.kind])
    if getattr(handler, "commits_as_it_goes", False):
        _run_in_steps(claimed, handler)
        return
    try:
        with transaction.atomic():
            job = _unlocked(job_id, Job.Status.RUNNING)  # held to the commit: no second runner meanwhile
            if job is None:
                return
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


def _row_held(job_id: int):
    """A second connection holding the job's row FOR KEY SHARE until closed (PostgreSQL): the reaper and a
    second claimant (both FOR UPDATE SKIP LOCKED) see a running worker, while the job's progress updates
    (no key column changes: FOR NO KEY UPDATE) still go through and show at once."""
    if connection.vendor != "postgresql":
        return None
    holder = connections.create_connection(DEFAULT_DB_ALIAS)
    with holder.cursor() as cursor:
        cursor.execute("BEGIN")
        cursor.execute("SELECT id FROM core_job WHERE id = %s FOR KEY SHARE", [job_id])
    return holder


def _run_in_steps(job: Job, handler) -> None:
    """A `commits_as_it_goes` handler: outside a transaction, its row held by a second connection."""
    holder = _row_held(job.id)
    try:
        if not Job.objects.filter(pk=job.pk, started_at=job.started_at).exists():
            return  # claimed again by another worker between our claim and our hold: that one runs it
        result = handler(job)
        Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING).update(
            status=Job.Status.SUCCEEDED, progress=1.0, stage="done", result=result, finished_at=timezone.now()
        )
    except ApplicationError as error:
        _job_failed(job.id, str(error), "refused")
    except Exception as error:
        _job_failed(job.id, f"{type(error).__name__}: {error}", "failed")
        raise
    finally:
        if holder is not None:
            holder.close()


def _job_failed(job_id: int, message: str, stage: str) -> None:
    """Record a refusal or an error (the work's transaction was rolled back: nothing of it is kept)."""
    if not connection.in_atomic_block and not connection.is_usable():
        connection.close()  # the error may have broken it; the next query reconnects
    Job.objects.filter(pk=job_id, status=Job.Status.RUNNING).update(
        status=Job.Status.FAILED, message=message, stage=stage, finished_at=timezone.now()
    )
