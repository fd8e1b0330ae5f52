"""The indexing app's kind of job: a full rebuild of one index (named on IndexingConfig.job_handlers;
core.jobs runs it). It commits as it goes: the rebuild keeps its own checkpoint, a job run again resumes."""

from django.db import transaction
from django.urls import reverse

from core.errors import ApplicationError
from core.jobs import commits_as_it_goes, job_enqueue, job_progress, job_record
from core.models import Job
from indexing.documents import DEFINITIONS
from indexing.services.rebuild import REBUILD_CHUNK, index_rebuild

JOB_KIND = "index_rebuild"


def rebuild_job_current(name: str) -> Job | None:
    """The rebuild of this index queued or running now, if any."""
    waiting = Job.objects.filter(kind=JOB_KIND, params__index=name)
    return waiting.filter(status__in=[Job.Status.QUEUED, Job.Status.RUNNING]).order_by("-id").first()


def rebuild_job_start(*, name: str, user, resume: bool = True, queue: bool = True) -> Job:
    """A rebuild of one index as a job: handed to a worker (`queue`), or recorded for the caller to run.
    While one is queued or running for the index, that one is returned instead of a second."""
    if name not in DEFINITIONS:
        raise ApplicationError(f"Unknown index {name!r}: {', '.join(sorted(DEFINITIONS))}.")
    with transaction.atomic():
        current = rebuild_job_current(name)
        if current is not None:
            return current
        start = job_enqueue if queue else job_record
        return start(kind=JOB_KIND, dataset=None, params={"index": name, "resume": resume}, user=user)


@commits_as_it_goes
def job_index_rebuild(job: Job) -> dict:
    """The worker's side: the rebuild, its progress on the job (documents written of the total)."""
    name = job.params["index"]
    job_progress(job, 0.0, f"{name}: a new index, the recently changed rows first")

    def progress(done: int, total: int) -> None:
        job_progress(job, min(done / max(total, 1), 1.0) * 0.98, f"{name}: {done:,} / {total:,} documents")

    chunk = job.params.get("chunk", REBUILD_CHUNK)
    result = index_rebuild(name=name, resume=job.params.get("resume", True), chunk=chunk, progress=progress)
    return result | {"next": f"{reverse('indexing:status')}?index={name}"}
