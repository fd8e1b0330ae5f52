"""Long work for the Celery worker: a Job row to poll, and the handlers that run each kind of job."""

from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from labeling.errors import LabelingError
from labeling.models import Changeset, Dataset, DatasetVersion, ExampleImport, Job
from labeling.services.imports import import_apply, import_preview
from labeling.services.locks import pause_point
from labeling.services.versions import changeset_revert, version_rollback


def job_enqueue(*, kind: str, dataset: Dataset | None, params: dict, user) -> Job:
    """Record a job and hand it to a worker once the surrounding transaction commits."""
    from labeling.tasks import job_run

    if kind not in HANDLERS:
        raise LabelingError(f"Unknown job kind {kind!r}.")
    job = Job.objects.create(kind=kind, dataset=dataset, params=params, created_by=user)
    transaction.on_commit(lambda: job_run.delay(job.id))
    return job


def _rollback(job: Job) -> dict:
    params = job.params
    version = None
    if params.get("to_version") is not None:
        version = DatasetVersion.objects.get(dataset=job.dataset, number=params["to_version"])
    moment = parse_datetime(params["to_time"]) if params.get("to_time") else None
    changeset = version_rollback(
        dataset=job.dataset,
        user=job.created_by,
        reason=params.get("reason", ""),
        to_version=version,
        to_time=moment,
    )
    return {"changeset": changeset.id}


def _revert(job: Job) -> dict:
    changeset = Changeset.objects.get(pk=job.params["changeset"])
    revert = changeset_revert(changeset=changeset, user=job.created_by, reason=job.params.get("reason", ""))
    return {"changeset": revert.id}


def _import_preview(job: Job) -> dict:
    upload = ExampleImport.objects.get(pk=job.params["import"])
    preview = import_preview(
        dataset=upload.dataset, data=bytes(upload.data), encoding=upload.encoding, delimiter=upload.delimiter
    )
    upload.preview, upload.status = preview.as_dict(), ExampleImport.Status.PREVIEWED
    upload.save(update_fields=["preview", "status"])
    return {"import": upload.id, "next": reverse("labeling:import", args=[upload.id])}


def _import_apply(job: Job) -> dict:
    with transaction.atomic():
        upload = ExampleImport.objects.select_for_update().get(pk=job.params["import"])
        if upload.status != ExampleImport.Status.APPLIED:  # else a redelivered task: already done
            upload.changeset = import_apply(
                dataset=upload.dataset,
                data=bytes(upload.data),
                user=job.created_by,
                file_name=upload.file_name,
                encoding=upload.encoding,
                delimiter=upload.delimiter,
                skip_invalid=bool(job.params.get("skip_invalid")),
            )
            upload.status = ExampleImport.Status.APPLIED
            upload.save(update_fields=["changeset", "status"])
    return {"import": upload.id, "changeset": upload.changeset_id}


HANDLERS = {
    "rollback": _rollback,
    "revert": _revert,
    "import_preview": _import_preview,
    "import_apply": _import_apply,
}


STAGES = {"import_apply": "writing contents and examples"}  # shown while the job's transaction runs


def job_progress(job: Job, progress: float, stage: str) -> None:
    """Record progress where pages can see it (called outside the job's work transaction)."""
    Job.objects.filter(pk=job.pk).update(progress=progress, stage=stage)


def _running_unlocked(job_id: int, *statuses: str) -> Job | None:
    """The job row, locked, when it has one of `statuses`; None when it finished, is gone, or another
    worker holds it (that worker's work transaction is still open: it is running the job right now)."""
    job = Job.objects.select_for_update(skip_locked=True).filter(pk=job_id).first()
    return job if job is not None and job.status in statuses else None


def job_claim(job_id: int) -> Job | None:
    """Mark the job running; None when it already finished or another worker is running it.

    A job found RUNNING and not locked was left by a worker that died: its work transaction never
    committed (the result commits with the work), so it is run again from the start."""
    with transaction.atomic():
        job = _running_unlocked(job_id, Job.Status.QUEUED, Job.Status.RUNNING)
        if job is None:
            return None
        job.status, job.started_at = Job.Status.RUNNING, timezone.now()
        job.stage, job.progress = STAGES.get(job.kind, "running"), 0.1
        job.save(update_fields=["status", "started_at", "stage", "progress"])
        return job


def job_run(job_id: int) -> None:
    """Run a claimed job: its work and its result commit in one transaction, so a redelivered job either
    finds it done (and does nothing) or finds nothing done (and does it all)."""
    if job_claim(job_id) is None:
        return
    try:
        with transaction.atomic():
            job = _running_unlocked(job_id, Job.Status.RUNNING)  # held to the commit: no second runner
            if job is None:
                return
            job.result = HANDLERS[job.kind](job)
            pause_point("job-work-done")
            job.status, job.progress, job.stage = Job.Status.SUCCEEDED, 1.0, "done"
            job.finished_at = timezone.now()
            job.save()
    except LabelingError as error:
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
