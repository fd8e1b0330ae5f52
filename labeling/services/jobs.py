"""The labeling app's kinds of job (named on LabelingConfig.job_handlers; core.jobs runs them)."""

from django.db import transaction
from django.urls import reverse
from django.utils.dateparse import parse_datetime

from core.models import Job
from labeling.models import Changeset, DatasetVersion, ExampleImport
from labeling.services.imports import import_apply, import_preview
from labeling.services.uploads import upload_stream
from labeling.services.versions import changeset_revert, version_rollback


def job_rollback(job: Job) -> dict:
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


def job_revert(job: Job) -> dict:
    changeset = Changeset.objects.get(pk=job.params["changeset"])
    revert = changeset_revert(changeset=changeset, user=job.created_by, reason=job.params.get("reason", ""))
    return {"changeset": revert.id}


def job_import_preview(job: Job) -> dict:
    upload = ExampleImport.objects.get(pk=job.params["import"])
    with upload_stream(upload) as data:  # read a slice at a time: bounded memory whatever the file's size
        preview = import_preview(
            dataset=upload.dataset, data=data, encoding=upload.encoding, delimiter=upload.delimiter
        )
    upload.preview, upload.status = preview.as_dict(), ExampleImport.Status.PREVIEWED
    upload.save(update_fields=["preview", "status"])
    return {"import": upload.id, "next": reverse("labeling:import", args=[upload.id])}


def job_import_apply(job: Job) -> dict:
    with transaction.atomic():
        upload = ExampleImport.objects.select_for_update().get(pk=job.params["import"])
        if upload.status != ExampleImport.Status.APPLIED:  # else a redelivered task: already done
            with upload_stream(upload) as data:
                upload.changeset = _apply(upload, data, job)
            upload.status = ExampleImport.Status.APPLIED
            upload.save(update_fields=["changeset", "status"])
    return {"import": upload.id, "changeset": upload.changeset_id}


def _apply(upload: ExampleImport, data, job: Job) -> Changeset:
    return import_apply(
        dataset=upload.dataset,
        data=data,
        user=job.created_by,
        file_name=upload.file_name,
        encoding=upload.encoding,
        delimiter=upload.delimiter,
        skip_invalid=bool(job.params.get("skip_invalid")),
    )
