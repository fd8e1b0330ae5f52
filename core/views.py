"""Pages of the core: a job's progress."""

from django.shortcuts import get_object_or_404, redirect, render

from core import roles
from core.jobs import job_shown
from core.models import Job
from core.progress import progress_poll


@roles.role_required(roles.MANAGER)  # every job is started by a manager or an admin
def job_detail(request, job_id: int):
    job = job_shown(get_object_or_404(Job.objects.select_related("dataset", "created_by"), pk=job_id))
    if poll := progress_poll(request, job, job.result):
        return poll
    if job.status == Job.Status.SUCCEEDED and (job.result or {}).get("next"):
        return redirect(job.result["next"])  # a job that ended before its page opened: on at once
    return render(request, "core/job.html", {"job": job, "dataset": job.dataset})
