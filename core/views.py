"""Pages of the core: a job's progress."""

from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render

from core import roles
from core.models import Job


@roles.role_required(roles.ANNOTATOR)
def job_detail(request, job_id: int):
    job = get_object_or_404(Job.objects.select_related("dataset", "created_by"), pk=job_id)
    if request.headers.get("Accept") == "application/json" or request.GET.get("format") == "json":
        return JsonResponse(
            {
                "status": job.status,
                "progress": job.progress,
                "stage": job.stage,
                "message": job.message,
                "result": job.result,
            }
        )
    if job.status == Job.Status.SUCCEEDED and (job.result or {}).get("next"):
        return redirect(job.result["next"])  # a job that ended before its page opened: on at once
    return render(request, "core/job.html", {"job": job, "dataset": job.dataset})
