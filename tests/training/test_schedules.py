"""Scheduled retraining: nightly always (unless a run is pending), "dirty" only past its threshold."""

import pytest

from labeling.models import Example
from tests.training.test_runs import train
from training.errors import TrainingError
from training.models import TrainingRun
from training.services.schedules import changes_since_champion, schedule_save, scheduled_training

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
