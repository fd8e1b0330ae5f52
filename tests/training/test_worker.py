"""Training through the real Celery worker (PostgreSQL, Redis): success, clean failure, a killed worker."""

import os
import signal
import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from tests.conftest import start_worker, stop_worker, wait_until
from tests.training.conftest import make_dataset
from training.models import OutOfFoldPrediction, TrainingRun
from training.selectors import dataset_champion_run
from training.services.runs import run_start, runs_reap_stale
from training.tasks import training_run_task

pytestmark = pytest.mark.django_db(transaction=True)


def wait_for(run: TrainingRun, condition, timeout: float = 180) -> TrainingRun:
    def reached():
        run.refresh_from_db()
        return condition(run)

    wait_until(reached, timeout=timeout, what=f"run #{run.id} (now {run.status} / {run.stage})", every=0.3)
    return run


def finished(run: TrainingRun) -> bool:
    return run.is_finished


def test_runs_through_the_worker_and_a_killed_worker_keeps_the_champion(live_worker, worker_env, tmp_path):
    news = make_dataset("worker-news")
    run = run_start(dataset=news, user=None, algorithm="tfidf-svm", folds=3)  # queued on commit
    run = wait_for(run, finished)
    assert run.status == TrainingRun.Status.SUCCEEDED, run.message
    assert run.accuracy >= 0.7 and run.worker
    assert OutOfFoldPrediction.objects.filter(run=run).count() == 120
    assert dataset_champion_run(news) == run

    # A slow run on a worker of its own, killed (whole process group) in the middle of its k-fold.
    queue = f"training-{uuid.uuid4().hex[:6]}"
    doomed_worker, _ = start_worker(worker_env, tmp_path, queues=queue)
    try:
        slow = run_start(
            dataset=news,
            user=None,
            algorithm="fasttext",
            params={"epoch": "1000", "dim": "200"},
            enqueue=False,
        )
        training_run_task.apply_async(args=[slow.id], queue=queue)
        wait_for(slow, lambda r: r.stage.startswith("k-fold"), timeout=60)
        os.killpg(doomed_worker.pid, signal.SIGKILL)
        doomed_worker.wait(timeout=10)
    finally:
        stop_worker(doomed_worker)
    reaped = wait_until(
        lambda: runs_reap_stale(stale_after=timedelta(seconds=1)),
        timeout=30,
        what="the killed run to go stale",
    )
    assert [r.id for r in reaped] == [slow.id]
    slow.refresh_from_db()
    assert slow.status == TrainingRun.Status.FAILED and "worker stopped during k-fold" in slow.message
    assert not OutOfFoldPrediction.objects.filter(run=slow).exists()
    assert not Path(slow.artifact_path or "/nonexistent").exists()
    assert dataset_champion_run(news) == run


def test_a_run_that_cannot_train_fails_with_a_reason(live_worker):
    lonely = make_dataset("worker-lonely", groups=("sci.space",), per_group=8)
    run = wait_for(run_start(dataset=lonely, user=None, algorithm="tfidf-svm"), finished)
    assert run.status == TrainingRun.Status.FAILED
    assert run.message == (
        "The version has 8 examples in 1 category; a classifier needs examples of at least two categories."
    )
    assert dataset_champion_run(lonely) is None
