"""Import pages: upload a file, read its preview, apply it (both run as jobs on a worker)."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from core import roles
from core.jobs import job_enqueue
from labeling.models import Dataset, ExampleImport

__all__ = ["import_apply_view", "import_detail", "import_upload"]

MAX_UPLOAD_BYTES = 200 * 1024 * 1024
ENCODINGS = [("", "detect"), ("utf-8", "UTF-8"), ("utf-8-sig", "UTF-8 with BOM"), ("cp949", "CP949 / EUC-KR")]
DELIMITERS = [("", "detect"), (",", "comma"), ("\t", "tab")]


def _upload_error(request) -> str:
    upload = request.FILES.get("file")
    if upload is None:
        return "Choose a file to import."
    if upload.size == 0:
        return "The file is empty."
    if upload.size > MAX_UPLOAD_BYTES:
        return f"The file is larger than {MAX_UPLOAD_BYTES // 2**20} MB: split it."
    if request.POST.get("encoding", "") not in dict(ENCODINGS):
        return "Unknown encoding."
    if request.POST.get("delimiter", "") not in dict(DELIMITERS):
        return "Unknown delimiter."
    return ""


@roles.role_required(roles.MANAGER)
def import_upload(request, dataset_id: int):
    dataset = get_object_or_404(Dataset, pk=dataset_id)
    if request.method == "POST":
        error = _upload_error(request)
        if not error:
            upload = request.FILES["file"]
            example_import = ExampleImport.objects.create(
                dataset=dataset,
                file_name=upload.name[:255],
                data=upload.read(),
                uploaded_by=request.user,
                encoding=request.POST.get("encoding", ""),
                delimiter=request.POST.get("delimiter", ""),
            )
            job = job_enqueue(
                kind="import_preview",
                dataset=dataset,
                params={"import": example_import.id},
                user=request.user,
            )
            return redirect("core:job", job.id)
        messages.error(request, error)
    recent = ExampleImport.objects.filter(dataset=dataset).select_related("uploaded_by", "changeset")
    return render(
        request,
        "labeling/import_upload.html",
        {
            "dataset": dataset,
            "encodings": ENCODINGS,
            "delimiters": DELIMITERS,
            "recent": recent[:20],
        },
    )


@roles.role_required(roles.MANAGER)
def import_detail(request, import_id: int):
    example_import = get_object_or_404(
        ExampleImport.objects.select_related("dataset", "changeset"), pk=import_id
    )
    preview = example_import.preview
    accepted = sum(preview.get(kind, 0) for kind in ("new", "changed", "unchanged"))
    return render(
        request,
        "labeling/import_detail.html",
        {
            "dataset": example_import.dataset,
            "upload": example_import,
            "preview": preview,
            "accepted": accepted,
        },
    )


@require_POST
@roles.role_required(roles.MANAGER)
def import_apply_view(request, import_id: int):
    example_import = get_object_or_404(ExampleImport.objects, pk=import_id)
    if example_import.status != ExampleImport.Status.PREVIEWED:
        messages.error(request, "This file is not ready to apply (already applied, or not previewed yet).")
        return redirect("labeling:import", example_import.id)
    job = job_enqueue(
        kind="import_apply",
        dataset=example_import.dataset,
        user=request.user,
        params={"import": example_import.id, "skip_invalid": request.POST.get("skip_invalid") == "1"},
    )
    return redirect("core:job", job.id)
