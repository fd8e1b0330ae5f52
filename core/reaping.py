"""Jobs whose worker died: found within a minute or two and marked failed, so their page stops waiting.

A running job's work holds its row locked in the worker's open transaction (core/jobs.py); when the worker
dies, PostgreSQL ends its connection and the lock goes with it. A job RUNNING past a short grace with its row
unlocked therefore has no worker. (SQLite has no row locks: the embedded default's single worker fails what
it left running when it starts again, core/apps.py.)
"""

from datetime import timedelta

from django.db import connection, transaction
from django.utils import timezone

from core.models import Job

CLAIM_GRACE = timedelta(seconds=30)  # between a claim's commit and the work taking the row's lock
LOST = "The worker running this job stopped (killed, or its machine lost); nothing was kept. Start it again."
LOST_KEPT = (
    "The worker running this job stopped (killed, or its machine lost); what it finished is kept, and "
    "starting it again goes on from there."
)


def _commits_as_it_goes(kind: str) -> bool:
    from django.utils.module_loading import import_string

    from core.jobs import job_handlers

    path = job_handlers().get(kind)
    return bool(path) and getattr(import_string(path), "commits_as_it_goes", False)


def _fail(job: Job) -> None:
    message = LOST_KEPT if _commits_as_it_goes(job.kind) else LOST
    job.status, job.stage, job.message = Job.Status.FAILED, "worker lost", message
    job.finished_at = timezone.now()
    job.save(update_fields=["status", "stage", "message", "finished_at"])


def jobs_reap_orphaned(*, grace: timedelta = CLAIM_GRACE) -> list[int]:
    """Fail the RUNNING jobs that no worker holds (PostgreSQL); the ids reaped."""
    if connection.vendor != "postgresql":
        return []
    running = Job.objects.filter(status=Job.Status.RUNNING, started_at__lt=timezone.now() - grace)
    reaped = []
    for job_id in running.values_list("id", flat=True):
        with transaction.atomic():
            job = Job.objects.select_for_update(skip_locked=True).filter(pk=job_id).first()
            if job is not None and job.status == Job.Status.RUNNING:  # not locked: nobody runs it
                _fail(job)
                reaped.append(job.id)
    return reaped


def jobs_fail_left_running() -> list[int]:
    """The embedded default (SQLite, one worker) at its worker's start: whatever is RUNNING was left by the
    worker before it, which is gone."""
    reaped = []
    with transaction.atomic():
        for job in Job.objects.filter(status=Job.Status.RUNNING):
            _fail(job)
            reaped.append(job.id)
    return reaped
