"""How long bulk classification files stay in MODEL_DIR/bulk (`BULK_OUTPUT_RETENTION_DAYS`).

Beat runs `training.tasks.bulk_outputs_expire_task` every hour: the answers (and any input left by a failed
job) of a job that finished longer ago than the retention are deleted and the job is marked expired, so its
pages say so instead of offering a download that is gone. Files of queued or running jobs are never touched;
a file whose job no longer exists goes once it is older than the retention.
"""

import datetime
import re
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from core.models import Job
from training.services.bulk import JOB_KIND, bulk_folder

JOB_FILE = re.compile(r"job-(\d+)(?:-input|\.csv)")


def bulk_output_expired(job: Job) -> bool:
    """True when the job's answers were deleted for their age."""
    return bool(job.result and job.result.get("expired_at"))


def bulk_outputs_expire(*, now: datetime.datetime | None = None, days: float | None = None) -> list[int]:
    """Delete the files of classification jobs that finished more than `days` (the setting) ago; mark each
    such job expired. Returns the ids of the jobs marked now (a second call marks none). 0 days: keep all."""
    days = settings.BULK_OUTPUT_RETENTION_DAYS if days is None else days
    folder = bulk_folder()
    if days <= 0 or not folder.is_dir():
        return []
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(days=days)
    files: dict[int, list[Path]] = {}
    for path in folder.iterdir():
        match = JOB_FILE.fullmatch(path.name)
        if match:
            files.setdefault(int(match.group(1)), []).append(path)
    jobs = Job.objects.filter(pk__in=files, kind=JOB_KIND).in_bulk()
    marked = []
    for job_id, paths in sorted(files.items()):
        job = jobs.get(job_id)
        if job is None:  # its job was deleted (or is of another kind): judged by the file's own age
            old = [p for p in paths if _modified(p) < cutoff]
            for path in old:
                path.unlink(missing_ok=True)
            continue
        if job.status in (Job.Status.QUEUED, Job.Status.RUNNING) or (job.finished_at or now) >= cutoff:
            continue
        for path in paths:
            path.unlink(missing_ok=True)
        if job.status == Job.Status.SUCCEEDED and not bulk_output_expired(job):
            job.result = {**job.result, "expired_at": now.isoformat()}
            job.save(update_fields=["result"])
            marked.append(job.id)
    return marked


def _modified(path: Path) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(path.stat().st_mtime, tz=datetime.UTC)
