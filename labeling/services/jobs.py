"""Long work for the Celery worker: a Job row to poll, and the handlers that run each kind of job."""

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from labeling.errors import LabelingError
from labeling.models import Changeset, Dataset, DatasetVersion, ExampleImport, Job
from labeling.services.imports import import_apply, import_preview
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
    job_progress(job, 0.2, "writing contents and examples")
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
        job.result = HANDLERS[job.kind](job)
        job.status, job.progress, job.stage = Job.Status.SUCCEEDED, 1.0, "done"
    except LabelingError as error:
        job.status, job.message, job.stage = Job.Status.FAILED, str(error), "refused"
    except Exception as error:  # shown to the person who started it, then re-raised for the logs
        job.status, job.message, job.stage = Job.Status.FAILED, f"{type(error).__name__}: {error}", "failed"
        raise
    finally:
        job.finished_at = timezone.now()
        job.save()
