"""Bulk classification from the dataset's pages: upload a file (or pick the content pool), follow the job,
read the accuracy and download the answers."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from core import roles
from core.errors import ApplicationError
from core.models import Job
from labeling.selectors import dataset_or_404
from training.services.bulk import JOB_KIND, MAX_K, bulk_job_files, bulk_job_start
from training.services.bulk_retention import bulk_output_expired


class BulkForm(forms.Form):
    file = forms.FileField(required=False, help_text="CSV/TSV in the import's columns; category optional")
    contents = forms.BooleanField(required=False, label="Classify the dataset's content pool instead")
    sources = forms.CharField(required=False, help_text="with the pool: only these sources (comma-separated)")
    k = forms.IntegerField(initial=2, min_value=1, max_value=MAX_K, label="categories per text")


@roles.role_required(roles.ANNOTATOR)
def bulk_page(request, dataset_id: int):
    dataset = dataset_or_404(dataset_id)
    can_start = roles.request_has_role(request, roles.MANAGER)
    form = BulkForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        if not can_start:
            raise PermissionDenied("Managers start bulk classifications.")
        if form.is_valid():
            upload, contents = form.cleaned_data["file"], form.cleaned_data["contents"]
            try:
                if bool(upload) == contents:
                    raise ApplicationError("Upload a file or choose the content pool (one of the two).")
                sources = [s.strip() for s in form.cleaned_data["sources"].split(",") if s.strip()]
                job = bulk_job_start(
                    dataset=dataset,
                    user=request.user,
                    data=None if contents else upload.read(),
                    sources=sources if contents else [],
                    k=form.cleaned_data["k"],
                )
            except ApplicationError as error:
                messages.error(request, str(error))
            else:
                return redirect("core:job", job.id)
    jobs = Job.objects.filter(dataset=dataset, kind=JOB_KIND).select_related("created_by")[:20]
    context = {"dataset": dataset, "form": form, "jobs": jobs, "can_start": can_start}
    return render(request, "training/bulk.html", context)


def _job(job_id: int) -> Job:
    return get_object_or_404(Job.objects.select_related("dataset"), pk=job_id, kind=JOB_KIND)


@roles.role_required(roles.ANNOTATOR)
def bulk_result(request, job_id: int):
    job = _job(job_id)
    expired = bulk_output_expired(job)
    context = {"job": job, "dataset": job.dataset, "expired": expired, "kept": _expired_text()}
    return render(request, "training/bulk_result.html", context)


def _expired_text() -> str:
    days = settings.BULK_OUTPUT_RETENTION_DAYS
    return f"The answers expired: they are kept {days:g} days after the job ends (BULK_OUTPUT_RETENTION_DAYS)"


@roles.role_required(roles.ANNOTATOR)
def bulk_download(request, job_id: int):
    job = _job(job_id)
    _, output = bulk_job_files(job.id)
    if bulk_output_expired(job):
        return HttpResponse(_expired_text(), status=410, content_type="text/plain; charset=utf-8")
    if job.status != Job.Status.SUCCEEDED or not output.exists():
        raise Http404("No answers for this job.")
    return FileResponse(output.open("rb"), as_attachment=True, filename=f"classified-{job.id}.csv")
