"""Bulk classification files expire: the beat task deletes answers older than BULK_OUTPUT_RETENTION_DAYS and
the job's pages say "expired" instead of offering a download that is gone."""

import datetime
import os

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from core import roles
from core.models import Job
from tests.factories import DatasetFactory, user_with_role
from training.services.bulk import bulk_folder, bulk_job_files
from training.tasks import bulk_outputs_expire_task

pytestmark = pytest.mark.django_db


def finished_job(dataset, *, days_ago: float, status=Job.Status.SUCCEEDED, files=("output",)) -> Job:
    ended = timezone.now() - datetime.timedelta(days=days_ago)
    job = Job.objects.create(
        kind="classify",
        dataset=dataset,
        status=status,
        finished_at=None if status in (Job.Status.QUEUED, Job.Status.RUNNING) else ended,
        result={"rows": 3, "seconds": 0.1, "texts_per_second": 30, "processes": 1, "accuracy": None},
    )
    source, output = bulk_job_files(job.id)
    output.parent.mkdir(parents=True, exist_ok=True)
    for name in files:
        (output if name == "output" else source).write_text("external_id,predicted_category\nx,a\n")
    return job


def test_old_answers_are_deleted_and_their_jobs_say_expired(settings):
    settings.BULK_OUTPUT_RETENTION_DAYS = 7
    dataset = DatasetFactory()
    old = finished_job(dataset, days_ago=8)
    recent = finished_job(dataset, days_ago=2)
    failed = finished_job(dataset, days_ago=9, status=Job.Status.FAILED, files=("input",))
    running = finished_job(dataset, days_ago=30, status=Job.Status.RUNNING, files=("input",))
    orphan_old, orphan_new = bulk_folder() / "job-99998.csv", bulk_folder() / "job-99999.csv"
    orphan_old.write_text("x")
    orphan_new.write_text("x")
    long_ago = (timezone.now() - datetime.timedelta(days=8)).timestamp()
    os.utime(orphan_old, (long_ago, long_ago))
    unrelated = bulk_folder() / "notes.txt"
    unrelated.write_text("kept")

    assert "training.tasks.bulk_outputs_expire_task" in {
        entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()
    }
    assert bulk_outputs_expire_task.apply().get() == [old.id]
    assert not bulk_job_files(old.id)[1].exists()
    assert bulk_job_files(recent.id)[1].exists()
    assert not bulk_job_files(failed.id)[0].exists()  # a failed job's upload goes too
    assert bulk_job_files(running.id)[0].exists()  # a running job still needs its input
    assert not orphan_old.exists() and orphan_new.exists() and unrelated.exists()
    assert bulk_outputs_expire_task.apply().get() == []  # safe to run twice

    client = Client()
    client.force_login(user_with_role(roles.ANNOTATOR, username="reader"))
    page = client.get(reverse("training:bulk-result", args=[old.id])).content.decode()
    assert "The answers expired: they are kept 7 days" in page
    assert reverse("training:bulk-download", args=[old.id]) not in page
    download = client.get(reverse("training:bulk-download", args=[old.id]))
    assert download.status_code == 410 and b"expired" in download.content
    listing = client.get(reverse("training:bulk", args=[dataset.id])).content.decode()
    assert listing.count("answers expired") == 1
    page = client.get(reverse("training:bulk-result", args=[recent.id])).content.decode()
    assert reverse("training:bulk-download", args=[recent.id]) in page
    assert client.get(reverse("training:bulk-download", args=[recent.id])).status_code == 200


def test_a_retention_of_zero_keeps_everything(settings):
    settings.BULK_OUTPUT_RETENTION_DAYS = 0
    job = finished_job(DatasetFactory(), days_ago=400)
    assert bulk_outputs_expire_task.apply().get() == []
    assert bulk_job_files(job.id)[1].exists()
