"""Scheduled retraining: nightly always (unless a run is pending), "dirty" only past its threshold."""

import contextlib
import threading

import pytest
from django.db import connection

from labeling.models import Example
from tests.training.conftest import FAST, make_dataset
from tests.training.test_runs import train
from training.errors import TrainingError
from training.models import RetrainSchedule, TrainingRun
from training.services import runs
from training.services.schedules import changes_since_champion, schedule_save, scheduled_training
from training.tasks import scheduled_training_task

pytestmark = pytest.mark.django_db


def test_dirty_schedule_waits_for_enough_changes(news):
    schedule_save(dataset=news, user=None, values={"dirty_threshold": 5, "params": {"word_ngrams": "1"}})
    assert (
        scheduled_training(dataset=news, reason="dirty").status == TrainingRun.Status.QUEUED
    )  # no champion yet
    TrainingRun.objects.all().delete()
    champion = train(news)
    assert changes_since_champion(news) == 0
    assert scheduled_training(dataset=news, reason="dirty") is None
    examples = list(Example.objects.filter(dataset=news)[:5])
    for example in examples:
        example.status = Example.Status.EXCLUDED
        example.save()
    assert changes_since_champion(news) == 5
    run = scheduled_training(dataset=news, reason="dirty")
    assert run.source == TrainingRun.Source.SCHEDULE and run.version.number == champion.version.number + 1
    assert scheduled_training(dataset=news, reason="nightly") is None  # one is already queued


def test_disabled_or_missing_schedule_starts_nothing(news):
    assert scheduled_training(dataset=news, reason="nightly") is None
    schedule_save(dataset=news, user=None, values={"enabled": False, "nightly_hour": 2})
    assert scheduled_training(dataset=news, reason="nightly") is None
    assert not TrainingRun.objects.exists()


def test_switching_algorithm_drops_the_old_parameters(news):
    schedule_save(
        dataset=news, user=None, values={"algorithm": "tfidf-svm", "params": {"C": "2"}, "nightly_hour": 1}
    )
    schedule = schedule_save(dataset=news, user=None, values={"algorithm": "fasttext"})
    assert schedule.params == {}
    with pytest.raises(TrainingError, match="has no parameter C"):
        schedule_save(dataset=news, user=None, values={"params": {"C": "2"}})


def test_a_scheduled_start_leaves_a_history_row(news):
    schedule_save(dataset=news, user=None, values={"nightly_hour": 3, "params": FAST})
    run = scheduled_training(dataset=news, reason="nightly")
    schedule = RetrainSchedule.objects.get(dataset=news)
    assert schedule.last_started_run == run
    latest = schedule.history.order_by("-history_id").first()
    assert latest.last_started_run_id == run.id
    assert latest.history_change_reason == f"nightly run #{run.id} started"


@pytest.mark.django_db(transaction=True)
def test_nightly_and_dirty_check_firing_together_start_one_run(monkeypatch):
    """Both tasks check "no active run" at the same moment; without the lock both would start one."""
    dataset = make_dataset("race", per_group=3)
    values = {"nightly_hour": 3, "dirty_threshold": 1, "params": FAST}
    schedule_save(dataset=dataset, user=None, values=values)
    both_inside = threading.Barrier(2)
    original = runs.run_start

    def run_start_when_both_checked(**kwargs):
        # wait for the other task to pass its check too (it cannot while this one holds the lock)
        with contextlib.suppress(threading.BrokenBarrierError):
            both_inside.wait(timeout=3)
        return original(**kwargs)

    monkeypatch.setattr(runs, "run_start", run_start_when_both_checked)  # schedules imports it from there
    started = {}

    def fire(reason: str) -> None:
        try:
            started[reason] = scheduled_training_task(dataset.id, reason)
        finally:
            connection.close()

    threads = [threading.Thread(target=fire, args=(reason,)) for reason in ("nightly", "dirty")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(started) == 2  # both tasks ran to the end
    assert TrainingRun.objects.filter(dataset=dataset).count() == 1
    assert sorted(started.values(), key=str) == sorted([None, TrainingRun.objects.get().id], key=str)
