"""Dead work is noticed quickly: a Celery worker is SIGKILLed whole in the middle of a job and a training run;
the reapers (beat runs them every WORKER_CHECK_SECONDS) mark both failed, and nothing they did is kept."""

import os
import signal
import time
from datetime import timedelta

import pytest
from django.conf import settings

from core import roles
from core.jobs import job_run
from core.models import Job
from core.reaping import jobs_reap_orphaned
from labeling.models import DatasetVersion
from tests.conftest import start_worker
from tests.factories import user_with_role
from tests.labeling.test_job_redelivery import relabelled
from tests.training.conftest import FAST, make_dataset
from training.models import TrainingRun
from training.services.runs import run_start, runs_reap_stale

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
QUEUE = "dead-worker-tests"  # a queue of its own: the session's shared worker must not take these


def _until(condition, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while not (found := condition()):
        assert time.monotonic() < deadline, what
        time.sleep(0.2)
    return found


def test_a_killed_workers_job_and_run_are_marked_failed_within_two_minutes(worker_env, tmp_path):
    from core.tasks import job_run_task
    from training.tasks import training_run_task

    assert settings.WORKER_LOST_AFTER_SECONDS + settings.WORKER_CHECK_SECONDS <= 120
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"core.tasks.jobs_reap_task", "training.tasks.training_runs_reap_task"} <= scheduled

    manager = user_with_role(roles.MANAGER, username="manager")
    dataset, _, _ = relabelled(manager)
    job = Job.objects.create(kind="rollback", dataset=dataset, params={"to_version": 1}, created_by=manager)
    run = run_start(
        dataset=make_dataset(per_group=12),
        user=None,
        algorithm="tfidf-svm",
        params=FAST,
        folds=0,
        enqueue=False,
    )
    mark = tmp_path / "paused"
    env = worker_env | {"BUNRYU_PAUSE_AT": "job-work-done,run-results-locked", "BUNRYU_PAUSE_MARK": str(mark)}
    process, _ = start_worker(env, tmp_path, queues=QUEUE, concurrency=2)
    try:
        job_run_task.apply_async((job.id,), queue=QUEUE)
        training_run_task.apply_async((run.id,), queue=QUEUE)
        _until(lambda: mark.exists() and len(mark.read_text().split()) == 2, 120, "never reached the pauses")
        assert jobs_reap_orphaned(grace=timedelta(0)) == []  # a live worker holds its job: left alone
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    killed = time.monotonic()

    assert _until(lambda: jobs_reap_orphaned(grace=timedelta(0)), 30, "the job was not reaped") == [job.id]
    reaped = _until(lambda: runs_reap_stale(stale_after=timedelta(seconds=1)), 30, "the run was not reaped")
    assert [r.id for r in reaped] == [run.id] and time.monotonic() - killed < 60
    job.refresh_from_db()
    run.refresh_from_db()
    assert job.status == Job.Status.FAILED and "worker" in job.message and job.finished_at
    assert run.status == TrainingRun.Status.FAILED and "heartbeat" in run.message
    assert DatasetVersion.objects.filter(dataset=dataset).count() == 1  # the rollback kept nothing
    job_run(job.id)  # a late redelivery of the task leaves a failed job alone
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED
