"""Training runs in process on PostgreSQL: versions, metrics, out-of-fold predictions, verdicts, champion."""

import json
from datetime import timedelta
from io import StringIO
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse

from core import roles
from labeling.models import DatasetVersion, Example
from tests.factories import UserFactory, user_with_role
from tests.training.conftest import FAST, make_dataset
from training.algorithms import algorithm_class, model_load
from training.algorithms.text import document
from training.errors import TrainingError
from training.evaluation import holdout_mask
from training.models import ChampionChange, EnsembleConfig, OutOfFoldPrediction, TrainingRun
from training.selectors import dataset_champion_run, version_training_data
from training.services.artifacts import artifact_verified, models_prune
from training.services.champion import champion_demote, champion_promote
from training.services.requirements import requirement_update
from training.services.runs import run_cancel, run_execute, run_start, runs_reap_stale
from training.serving import forget_all

pytestmark = pytest.mark.django_db


def train(dataset, **kwargs) -> TrainingRun:
    options = {"algorithm": "tfidf-svm", "params": FAST, "folds": 3} | kwargs
    run = run_start(dataset=dataset, user=None, enqueue=False, **options)
    run_execute(run.id)
    run.refresh_from_db()
    return run


def second_model(dataset, champion: TrainingRun) -> TrainingRun:
    """A tfidf-logreg run added to the dataset's serving ensemble beside `champion` (kept champion)."""
    other = train(dataset, folds=0, algorithm="tfidf-logreg", params={"C": "5"})
    if dataset_champion_run(dataset) != champion:  # it may beat the champion on this split: keep two models
        champion_promote(run=champion, user=UserFactory(), reason="the ensemble needs two runs")
    config = EnsembleConfig.objects.get(dataset=dataset)
    config.runs.add(other)
    config.version += 1
    config.save()
    forget_all()
    return other


def test_a_run_commits_the_working_state_and_produces_everything(news):
    user = UserFactory()
    run = run_start(dataset=news, user=user, algorithm="tfidf-svm", params=FAST, folds=3, enqueue=False)
    assert run.version.kind == DatasetVersion.Kind.AUTOMATIC and run.version.number == 1
    run_execute(run.id)
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.SUCCEEDED, run.message
    assert run.example_count == 120 and run.holdout_count == 24
    assert 0.7 <= run.accuracy <= 1 and 0.7 <= run.macro_f1 <= 1
    per_category = run.metrics["per_category"]
    assert {int(key) for key in per_category} == set(
        news.taxonomy.categories.filter(level=2).values_list("id", flat=True)
    )
    assert sum(row["support"] for row in per_category.values()) == 24
    assert sum(map(sum, run.metrics["confusion"]["matrix"])) == 24
    assert run.train_seconds > 0 and run.model_bytes > 0 and 0 < run.latency_p50_ms <= run.latency_p99_ms
    # Out-of-fold predictions for every example, each from a model that did not see it.
    predictions = OutOfFoldPrediction.objects.filter(run=run)
    assert predictions.count() == 120
    assert set(predictions.values_list("content_id", flat=True)) == set(
        Example.objects.filter(dataset=news).values_list("content_id", flat=True)
    )
    wrong = predictions.exclude(given=models_f("predicted")).count()
    assert wrong < 30
    assert Path(run.artifact_path, "out_of_fold.npz").is_file() and artifact_verified(run)
    # No requirements: every run passes, the first one becomes champion.
    assert run.verdicts == [] and run.meets_requirements
    assert dataset_champion_run(news) == run
    change = ChampionChange.objects.get(dataset=news)
    assert change.action == ChampionChange.Action.AUTO_PROMOTE and "no champion" in change.reason
    # Nothing changed since: the next run reuses version 1.
    assert run_start(dataset=news, user=user, algorithm="tfidf-svm", enqueue=False).version == run.version


def models_f(name):
    from django.db.models import F

    return F(name)


def test_one_category_left_fails_cleanly_and_keeps_the_champion(news):
    champion = train(news)
    keep = news.taxonomy.categories.filter(level=2).order_by("name").first()
    Example.objects.filter(dataset=news).exclude(category=keep).update(status=Example.Status.EXCLUDED)
    run = train(news)
    assert run.status == TrainingRun.Status.FAILED
    assert "at least two categories" in run.message and "1 category" in run.message
    assert run.accuracy is None and not OutOfFoldPrediction.objects.filter(run=run).exists()
    assert not Path(run.artifact_path or "/nonexistent").exists()
    assert dataset_champion_run(news) == champion


def test_requirements_give_verdicts_and_gate_promotion(news):
    first = train(news)
    important = news.taxonomy.categories.filter(level=2).order_by("name").first()
    important.is_important = True
    important.save()
    requirement_update(
        dataset=news,
        user=None,
        values={
            "min_accuracy": 0.5,
            "min_important_recall": 0.3,  # 8 held-out posts, chosen by content ids (other tests move them)
            "max_model_mb": 0.000001,
            "max_latency_p99_ms": 10_000,
        },
    )
    second = train(news, params={"word_ngrams": "2"})
    verdicts = {v["requirement"]: v["passed"] for v in second.verdicts}
    assert verdicts == {
        "accuracy": True,
        f"recall of {important.name}": True,
        "model MB": False,
        "latency p99 ms": True,
    }
    assert second.meets_requirements is False
    assert dataset_champion_run(news) == first
    with pytest.raises(TrainingError, match="between 0 and 1"):
        requirement_update(dataset=news, user=None, values={"min_accuracy": 87})


def test_promote_by_hand_demote_and_restore(news):
    manager = UserFactory()
    first = train(news)
    requirement_update(dataset=news, user=manager, values={"auto_promote": False})
    second = train(news, algorithm="tfidf-logreg", params={"C": "5"})
    assert dataset_champion_run(news) == first
    with pytest.raises(TrainingError, match="Say why"):
        champion_promote(run=second, user=manager, reason=" ")
    champion_promote(run=second, user=manager, reason="logreg is calibrated better")
    assert dataset_champion_run(news) == second
    champion_demote(dataset=news, user=manager, reason="worse on real traffic")
    assert dataset_champion_run(news) == first
    actions = list(ChampionChange.objects.filter(dataset=news).values_list("action", "run", "previous_run"))
    assert actions == [
        ("demote", first.id, second.id),
        ("promote", second.id, first.id),
        ("auto", first.id, None),
    ]
    champion_demote(dataset=news, user=manager, reason="no model for now")  # the one just demoted stays out
    assert dataset_champion_run(news) is None
    # A model file changed on disk can never be promoted.
    Path(second.artifact_path, "meta.json").write_text("{}")
    with pytest.raises(TrainingError, match="missing or changed"):
        champion_promote(run=second, user=manager, reason="again")


def test_cancel_a_queued_run_and_a_run_asked_to_stop(news):
    queued = run_start(dataset=news, user=None, algorithm="tfidf-svm", enqueue=False)
    run_cancel(run=queued, user=None)
    queued.refresh_from_db()
    assert queued.status == TrainingRun.Status.CANCELLED
    run_execute(queued.id)  # a late delivery does nothing
    queued.refresh_from_db()
    assert queued.status == TrainingRun.Status.CANCELLED and queued.started_at is None
    with pytest.raises(TrainingError, match="already cancelled"):
        run_cancel(run=queued, user=None)


def test_a_run_whose_worker_vanished_is_reaped(news):
    run = run_start(dataset=news, user=None, algorithm="tfidf-svm", enqueue=False)
    TrainingRun.objects.filter(pk=run.pk).update(
        status=TrainingRun.Status.RUNNING,
        stage="k-fold 2/5",
        heartbeat_at=run.created_at - timedelta(hours=1),
    )
    assert [r.id for r in runs_reap_stale()] == [run.id]
    run.refresh_from_db()
    assert run.status == TrainingRun.Status.FAILED and "stopped during k-fold 2/5" in run.message
    assert runs_reap_stale() == []


def test_prune_keeps_champions_and_the_newest(news):
    runs = [train(news, folds=0) for _ in range(4)]
    assert dataset_champion_run(news) == runs[0]  # the same data cannot beat it
    pruned = models_prune(keep_latest=2)
    assert [run.id for run in pruned] == [runs[1].id]
    assert Path(runs[0].artifact_path).is_dir() and not Path(runs[1].artifact_path).exists()


def test_bad_starts_are_refused(news):
    with pytest.raises(TrainingError, match="Unknown algorithm"):
        run_start(dataset=news, user=None, algorithm="bert", enqueue=False)
    with pytest.raises(TrainingError, match="has no parameter"):
        run_start(dataset=news, user=None, algorithm="fasttext", params={"epochs": "3"}, enqueue=False)
    with pytest.raises(TrainingError, match="Folds must be"):
        run_start(dataset=news, user=None, algorithm="fasttext", folds=1, enqueue=False)
    assert not TrainingRun.objects.exists() and not DatasetVersion.objects.exists()


def test_train_command_prints_json_and_fails_with_status(news):
    out = StringIO()
    call_command(
        "train",
        "--dataset",
        news.name,
        "--inline",
        "--folds",
        "2",
        "--param",
        "word_ngrams=1",
        "--json",
        stdout=out,
    )
    summary = json.loads(out.getvalue())
    assert summary["status"] == "succeeded" and 0.6 <= summary["accuracy"] <= 1 and "macro_f1" in summary
    assert summary["champion"] is True
    with pytest.raises(CommandError, match="has no parameter"):
        call_command("train", "--dataset", news.name, "--inline", "--param", "nope=1")
    with pytest.raises(CommandError, match="has no version 99"):
        call_command("train", "--dataset", news.name, "--inline", "--version", "99")
    other = make_dataset("lonely", groups=("sci.space",), per_group=5)
    with pytest.raises(CommandError, match="failed: .*at least two categories"):
        call_command("train", "--dataset", other.name, "--inline", stdout=StringIO())


def test_the_served_model_is_refitted_on_every_row_and_the_held_out_figures_stay(news):
    refitted, measured = train(news, folds=0), train(news, folds=0, refit_all=False)
    assert refitted.version_id == measured.version_id and refitted.refit_all and not measured.refit_all
    for name in ("accuracy", "macro_f1", "holdout_count", "train_seconds"):
        assert getattr(refitted, name) is not None
    assert (refitted.accuracy, refitted.macro_f1) == (measured.accuracy, measured.macro_f1)
    assert refitted.metrics["confusion"] == measured.metrics["confusion"]
    assert refitted.served_rows == refitted.example_count == 120
    assert measured.served_rows == 120 - measured.holdout_count and measured.refit_seconds is None

    # The saved model is the one fitted on every row of the version, in the version's order.
    data = version_training_data(refitted.version)
    texts = [document(t, b) for t, b in zip(data.titles, data.bodies, strict=True)]
    labels = [str(category_id) for category_id in data.category_ids]
    on_all = algorithm_class("tfidf-svm")(refitted.params).fit(texts, labels)
    held_out = [texts[i] for i in np.flatnonzero(holdout_mask(data.content_ids, labels, share=0.2, seed=42))]
    served = model_load(Path(refitted.artifact_path)).predict_proba(held_out)
    assert np.abs(served - on_all.predict_proba(held_out)).max() < 1e-6
    kept = model_load(Path(measured.artifact_path)).predict_proba(held_out)
    assert np.abs(served - kept).max() > 1e-3  # the other run serves the model that never saw them

    client = Client()
    client.force_login(user_with_role(roles.ANNOTATOR, username="reader"))
    page = client.get(reverse("training:run", args=[refitted.id])).content.decode()
    assert "refitted on all 120 examples" in page
    page = client.get(reverse("training:run", args=[measured.id])).content.decode()
    assert f"fitted on {measured.served_rows} examples, the held-out ones excluded" in page
