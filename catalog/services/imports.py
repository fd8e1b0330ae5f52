"""Offer files through core jobs: upload -> preview job -> apply job (the pages only record and enqueue)."""

from __future__ import annotations

from django.db import transaction
from django.urls import reverse

from catalog.errors import CatalogError
from catalog.models import Offer, OfferImport
from catalog.services.offers import offers_apply, offers_classify, offers_preview
from core.jobs import job_enqueue, job_progress
from core.models import Job

PREVIEW, APPLY, CLASSIFY = "offer_import_preview", "offer_import_apply", "offers_classify"


@transaction.atomic
def offer_import_upload(*, data: bytes, file_name: str, encoding: str, classify_with, user) -> Job:
    """Keep the file's bytes and enqueue its preview (nothing is written to offers)."""
    upload = OfferImport.objects.create(
        file_name=file_name[:255], data=data, encoding=encoding, classify_with=classify_with, uploaded_by=user
    )
    return job_enqueue(
        kind=PREVIEW, dataset=None, params={"import": upload.id, "back": _next(upload)}, user=user
    )


@transaction.atomic
def offer_import_apply_enqueue(*, upload: OfferImport, user) -> Job:
    """Enqueue the apply of a previewed file with no refused row."""
    upload = OfferImport.objects.select_for_update().get(pk=upload.pk)
    preview = upload.preview or {}
    if upload.status != OfferImport.Status.PREVIEWED:
        raise CatalogError(f"This file is {upload.status}: only a previewed file can be applied.")
    if preview.get("file_errors") or preview.get("error_count"):
        raise CatalogError("This file has refused rows: fix them and upload it again.")
    return job_enqueue(
        kind=APPLY, dataset=None, params={"import": upload.id, "back": _next(upload)}, user=user
    )


def offers_classify_enqueue(*, dataset, user) -> Job:
    """Enqueue the classification of every uncategorised offer by the dataset's champion."""
    if not Offer.objects.filter(category__isnull=True).exists():
        raise CatalogError("Every offer has a category: nothing to classify.")
    params = {"dataset": dataset.id, "back": reverse("catalog:import")}
    return job_enqueue(kind=CLASSIFY, dataset=None, params=params, user=user)


def _next(upload: OfferImport) -> str:
    return reverse("catalog:import-detail", args=[upload.id])


def _reporting(job: Job):
    """The job's progress, seen on its page while the work's transaction is still open."""
    return lambda share, stage: job_progress(job, round(share, 3), stage)


def job_offer_import_preview(job: Job) -> dict:
    upload = OfferImport.objects.select_for_update().get(pk=job.params["import"])
    preview = offers_preview(
        data=bytes(upload.data),
        file_name=upload.file_name,
        encoding=upload.encoding or None,
        progress=_reporting(job),
    )
    upload.preview, upload.status = preview.as_dict(), OfferImport.Status.PREVIEWED
    upload.checked_rows = preview.packed()
    upload.save(update_fields=["preview", "status", "checked_rows"])
    return {"import": upload.id, "next": _next(upload)}


def job_offer_import_apply(job: Job) -> dict:
    """All or nothing: the offers, their classification and the upload's status commit with the job."""
    upload = (
        OfferImport.objects.select_for_update(of=("self",))
        .select_related("classify_with")
        .get(pk=job.params["import"])
    )
    if upload.status != OfferImport.Status.APPLIED:  # else a redelivered task: already done
        upload.result = offers_apply(
            data=bytes(upload.data),
            user=job.created_by,
            file_name=upload.file_name,
            encoding=upload.encoding or None,
            classify_with=upload.classify_with,
            progress=_reporting(job),
            checked=upload.checked_rows and bytes(upload.checked_rows),
        )
        upload.status, upload.checked_rows = OfferImport.Status.APPLIED, None
        upload.save(update_fields=["status", "result", "checked_rows"])
    return {"import": upload.id, "next": _next(upload)} | upload.result


def job_offers_classify(job: Job) -> dict:
    from labeling.models import Dataset

    dataset = Dataset.objects.get(pk=job.params["dataset"])
    return {
        "classified": offers_classify(dataset=dataset, user=job.created_by, progress=_reporting(job)),
        "next": reverse("catalog:import"),
    }
