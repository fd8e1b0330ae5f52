"""Training runs: start one on a version, execute it stage by stage in a worker, cancel it, reap dead ones."""

import logging
import os
import shutil
import socket
import threading
import time
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from threadpoolctl import threadpool_limits

from core import dispatch
from core.pauses import pause_point
from labeling.models import DatasetVersion
from labeling.selectors.versions import latest_version
from labeling.services.versions import dataset_commit
from training import evaluation, verification
from training.algorithms import FitError, ParameterError, TextClassifier, algorithm_class
from training.algorithms.text import document
from training.errors import RunCancelled, TrainingError
from training.models import OutOfFoldPrediction, TrainingRun
from training.selectors import TrainingData, dataset_requirement, version_training_data
from training.services.artifacts import folder_checksum, run_folder
from training.services.champion import champion_consider, run_verdicts

log = logging.getLogger(__name__)

HEARTBEAT_SECONDS = 10
MAX_FOLDS = 10
OUT_OF_FOLD_FILE = "out_of_fold.npz"


# --- starting -------------------------------------------------------------------------------------


def run_start(
    *,
    dataset,
    user,
    algorithm: str,
    params: dict | None = None,
    folds: int = 5,
    holdout_share: float = 0.2,
    refit_all: bool = True,
    seed: int = 42,
    version: DatasetVersion | None = None,
    source: str = TrainingRun.Source.PAGE,
    enqueue: bool = True,
) -> TrainingRun:
    """Record a run on `version` (the working state, committed automatically when it changed) and queue it.

    The held-out split measures a model fitted on the other rows; with `refit_all` the model then saved and
    served is fitted again on every row (the measured figures stay those of the held-out split)."""
    try:
        checked = algorithm_class(algorithm).parse_params(params or {})
    except ParameterError as error:
        raise TrainingError(str(error)) from None
    if folds != 0 and not 2 <= folds <= MAX_FOLDS:
        raise TrainingError(f"Folds must be between 2 and {MAX_FOLDS} (or 0 for no out-of-fold predictions).")
    if not 0.05 <= holdout_share <= 0.5:
        raise TrainingError("The held-out share must be between 0.05 and 0.5.")
    with transaction.atomic():
        if version is None:
            version = _version_for_training(dataset, user)
        elif version.dataset_id != dataset.id:
            raise TrainingError(f"Version {version.number} belongs to another dataset.")
        run = TrainingRun.objects.create(
            dataset=dataset,
            version=version,
            algorithm=algorithm,
            params=checked,
            folds=folds,
            holdout_share=holdout_share,
            refit_all=refit_all,
            seed=seed,
            source=source,
            created_by=user,
            example_count=sum(version.category_counts.values()),
        )
        if enqueue:
            dispatch.enqueue("training.tasks.training_run_task", run.id)
    return run


def _version_for_training(dataset, user) -> DatasetVersion:
    if latest_version(dataset) is None and not dataset.examples.exists():
        raise TrainingError(f"Dataset {dataset.name} has no examples to train on.")
    return dataset_commit(
        dataset=dataset,
        user=user,
        message="Before a training run",
        kind=DatasetVersion.Kind.AUTOMATIC,
        allow_empty=False,
    )


@transaction.atomic
def run_cancel(*, run: TrainingRun, user) -> TrainingRun:
    """Ask a run to stop; a queued run stops at once, a running one at its next step."""
    run = TrainingRun.objects.select_for_update().get(pk=run.pk)
    if run.is_finished:
        raise TrainingError(f"Run #{run.id} already {run.status}.")
    run.cancel_requested = True
    if run.status == TrainingRun.Status.QUEUED:
        _mark_finished(run, TrainingRun.Status.CANCELLED, f"Cancelled by {user} before it started.")
    run.save()
    return run


def _mark_finished(run: TrainingRun, status: str, message: str) -> None:
    run.status, run.message, run.finished_at = status, message, timezone.now()


# --- executing ------------------------------------------------------------------------------------


def _claim(run_id: int) -> TrainingRun | None:
    """queued -> running; a run found running was delivered again after its worker died: it fails."""
    with transaction.atomic():
        run = (
            TrainingRun.objects.select_for_update()
            .select_related("dataset", "version")
            .filter(pk=run_id)
            .first()
        )
        if run is None or run.is_finished:
            return None
        if run.status == TrainingRun.Status.RUNNING:
            _mark_finished(
                run, TrainingRun.Status.FAILED, f"The worker stopped during {run.stage or 'the run'}."
            )
            run.save()
            return None
        run.status, run.stage, run.started_at = TrainingRun.Status.RUNNING, "preparing", timezone.now()
        run.heartbeat_at, run.worker = timezone.now(), f"{socket.gethostname()}:{os.getpid()}"
        run.save()
        return run


def _step(run: TrainingRun, stage: str, progress: float) -> None:
    """Show the stage and progress to pages, and stop here when someone asked to cancel."""
    TrainingRun.objects.filter(pk=run.pk).update(stage=stage, progress=progress, heartbeat_at=timezone.now())
    if TrainingRun.objects.filter(pk=run.pk, cancel_requested=True).exists():
        raise RunCancelled


class Heartbeat(threading.Thread):
    """Touches the run's heartbeat during long fits, so the reaper can tell a dead worker from a slow one."""

    def __init__(self, run_id: int):
        super().__init__(daemon=True, name=f"heartbeat-{run_id}")
        self.run_id, self.stopped = run_id, threading.Event()

    def run(self) -> None:
        try:
            while not self.stopped.wait(HEARTBEAT_SECONDS):
                TrainingRun.objects.filter(pk=self.run_id, status=TrainingRun.Status.RUNNING).update(
                    heartbeat_at=timezone.now()
                )
        finally:
            connection.close()


@dataclass
class Outcome:
    data: TrainingData
    labels: list[str]
    classes: list[str]
    holdout: np.ndarray
    out_of_fold: np.ndarray | None
    model: TextClassifier
    metrics: dict
    train_seconds: float
    kfold_seconds: float | None
    latency: tuple[float, float]
    refit_seconds: float | None = None
    served_rows: int = 0


def run_execute(run_id: int) -> TrainingRun | None:
    """Train, evaluate and save a queued run; its results (and any promotion) commit together at the end."""
    run = _claim(run_id)
    if run is None:
        return None
    heartbeat = Heartbeat(run.id)
    heartbeat.start()
    try:
        # Small BLAS calls (the calibration's optimiser) get slower with threads on a busy worker.
        with threadpool_limits(limits=settings.TRAINING_BLAS_THREADS, user_api="blas"):
            outcome = _train(run)
            _step(run, "saving", 0.95)
            _save(run, outcome)
        return run
    except RunCancelled:
        _fail(run, TrainingRun.Status.CANCELLED, "Cancelled while running; nothing was kept.")
    except (TrainingError, FitError) as error:
        _fail(run, TrainingRun.Status.FAILED, str(error))
    except Exception as error:  # shown on the run page, then re-raised for the worker's log
        _fail(run, TrainingRun.Status.FAILED, f"{type(error).__name__}: {error}")
        raise
    finally:
        heartbeat.stopped.set()
        heartbeat.join(timeout=HEARTBEAT_SECONDS + 5)
    return run


def _fail(run: TrainingRun, status: str, message: str) -> None:
    if not connection.in_atomic_block and not connection.is_usable():
        connection.close()  # the error may have broken it; the next query reconnects
    shutil.rmtree(run_folder(run), ignore_errors=True)
    with transaction.atomic():
        current = TrainingRun.objects.select_for_update().get(pk=run.pk)
        if current.status == TrainingRun.Status.RUNNING:
            _mark_finished(current, status, message)
            current.save(update_fields=["status", "message", "finished_at"])
    run.refresh_from_db()


def _check_trainable(data: TrainingData) -> None:
    counts: dict[int, int] = {}
    for category_id in data.category_ids:
        counts[category_id] = counts.get(category_id, 0) + 1
    if len(counts) < 2:
        raise TrainingError(
            f"The version has {len(data.category_ids)} examples in {len(counts)} category; "
            "a classifier needs examples of at least two categories."
        )


def _train(run: TrainingRun) -> Outcome:
    data = version_training_data(run.version)
    _check_trainable(data)
    texts = [document(title, body) for title, body in zip(data.titles, data.bodies, strict=True)]
    labels = [str(category_id) for category_id in data.category_ids]
    classes = sorted(set(labels))
    make_model = lambda: algorithm_class(run.algorithm)(run.params)  # noqa: E731
    holdout = evaluation.holdout_mask(data.content_ids, labels, share=run.holdout_share, seed=run.seed)
    out_of_fold, kfold_seconds = None, None
    if run.folds:
        _step(run, f"k-fold 0/{run.folds}", 0.05)
        started = time.perf_counter()
        folds = evaluation.fold_numbers(data.content_ids, labels, folds=run.folds, seed=run.seed)
        on_fold = lambda done, total: _step(run, f"k-fold {done}/{total}", 0.05 + 0.6 * done / total)  # noqa: E731
        out_of_fold = evaluation.out_of_fold(make_model, texts, labels, classes, folds, on_fold=on_fold)
        kfold_seconds = time.perf_counter() - started
    _step(run, "final fit", 0.7)
    train_rows = np.flatnonzero(~holdout)
    started = time.perf_counter()
    model = make_model().fit([texts[i] for i in train_rows], [labels[i] for i in train_rows])
    train_seconds = time.perf_counter() - started
    _step(run, "evaluating", 0.85)
    test_rows = np.flatnonzero(holdout)
    test_texts = [texts[i] for i in test_rows]
    probabilities = evaluation.probabilities_in(model, test_texts, classes)
    predicted = probabilities.argmax(axis=1)
    metrics = evaluation.classification_metrics(
        [labels[i] for i in test_rows], [classes[j] for j in predicted], classes
    )
    column = {name: j for j, name in enumerate(classes)}
    truth = np.asarray([column[labels[i]] for i in test_rows], dtype=int)
    metrics["calibration_error"] = evaluation.calibration_error(probabilities, truth)
    outcome = Outcome(
        data, labels, classes, holdout, out_of_fold, model, metrics, train_seconds, kfold_seconds, (0, 0)
    )
    outcome.served_rows = len(train_rows)
    if run.refit_all and len(test_rows):
        _step(run, "refit on every row", 0.88)
        started = time.perf_counter()
        outcome.model = make_model().fit(texts, labels)
        outcome.refit_seconds, outcome.served_rows = time.perf_counter() - started, len(labels)
    return outcome


def _save(run: TrainingRun, outcome: Outcome) -> None:
    """Write the model, measure it loaded back, then commit results, predictions and promotion at once."""
    from training.algorithms import model_load

    folder = run_folder(run)
    shutil.rmtree(folder, ignore_errors=True)
    outcome.model.save(folder)
    if outcome.out_of_fold is not None:
        np.savez_compressed(
            folder / OUT_OF_FOLD_FILE,
            content_ids=np.asarray(outcome.data.content_ids),
            classes=np.asarray(outcome.classes),
            probabilities=outcome.out_of_fold,
        )
    checksum, size = folder_checksum(folder)
    loaded = model_load(folder)
    sample = [
        document(t, b) for t, b in zip(outcome.data.titles[:200], outcome.data.bodies[:200], strict=True)
    ]
    outcome.latency = evaluation.prediction_latency(loaded, sample)
    _commit_results(run, outcome, folder=str(folder), checksum=checksum, size=size)


@transaction.atomic
def _commit_results(run: TrainingRun, outcome: Outcome, *, folder: str, checksum: str, size: int) -> None:
    # The run's row only: locking the dataset row too would hold every annotator's save until this commits.
    current = TrainingRun.objects.select_for_update(of=("self",)).select_related("dataset").get(pk=run.pk)
    pause_point("run-results-locked")
    if current.status != TrainingRun.Status.RUNNING or current.cancel_requested:
        raise RunCancelled  # reaped or cancelled meanwhile: keep nothing
    metrics = outcome.metrics
    current.accuracy, current.macro_f1 = metrics["accuracy"], metrics["macro_f1"]
    current.metrics = {
        "per_category": metrics["per_category"],
        "confusion": metrics["confusion"],
        "calibration_error": metrics["calibration_error"],
    }
    current.fitted_params = outcome.model.fitted_params
    current.holdout_count = int(outcome.holdout.sum())
    current.example_count = len(outcome.labels)
    current.train_seconds, current.kfold_seconds = outcome.train_seconds, outcome.kfold_seconds
    current.refit_seconds, current.served_rows = outcome.refit_seconds, outcome.served_rows
    current.latency_p50_ms, current.latency_p99_ms = outcome.latency
    current.artifact_path, current.artifact_sha256, current.model_bytes = folder, checksum, size
    if outcome.data.texts_changed_since:
        current.message = (
            f"{outcome.data.texts_changed_since} texts edited since the version were used as they were."
        )
    current.verdicts = run_verdicts(current, dataset_requirement(current.dataset))
    current.meets_requirements = all(verdict["passed"] for verdict in current.verdicts)
    if outcome.out_of_fold is not None:
        _store_out_of_fold(current, outcome)
    current.status, current.stage, current.progress = TrainingRun.Status.SUCCEEDED, "done", 1.0
    current.finished_at = timezone.now()
    current.save()
    champion_consider(current)
    run.refresh_from_db()


def _store_out_of_fold(run: TrainingRun, outcome: Outcome) -> None:
    probabilities, classes = outcome.out_of_fold, outcome.classes
    column = {name: j for j, name in enumerate(classes)}
    given_columns = np.asarray([column[label] for label in outcome.labels])
    quality = verification.label_quality(probabilities, given_columns)
    issues = verification.confident_issues(probabilities, given_columns)
    best = np.argsort(-probabilities, axis=1)[:, :5]
    rows = []
    for i, content_id in enumerate(outcome.data.content_ids):
        given, top = given_columns[i], best[i]
        rows.append(
            OutOfFoldPrediction(
                run=run,
                content_id=content_id,
                given_id=int(classes[given]),
                predicted_id=int(classes[top[0]]),
                given_probability=float(probabilities[i, given]),
                predicted_probability=float(probabilities[i, top[0]]),
                in_holdout=bool(outcome.holdout[i]),
                label_quality=float(quality[i]),
                likely_error=bool(issues[i]),
                top=[[int(classes[j]), round(float(probabilities[i, j]), 5)] for j in top],
            )
        )
    OutOfFoldPrediction.objects.bulk_create(rows, batch_size=5000)


# --- reaping --------------------------------------------------------------------------------------


def runs_reap_stale(*, stale_after: timedelta | None = None) -> list[TrainingRun]:
    """Fail the runs whose worker stopped beating (killed, machine lost); nothing of theirs was kept."""
    stale_after = stale_after or timedelta(seconds=settings.WORKER_LOST_AFTER_SECONDS)
    cutoff = timezone.now() - stale_after
    reaped = []
    for run_id in TrainingRun.objects.filter(
        status=TrainingRun.Status.RUNNING, heartbeat_at__lt=cutoff
    ).values_list("id", flat=True):
        with transaction.atomic():
            run = TrainingRun.objects.select_for_update().get(pk=run_id)
            if run.status != TrainingRun.Status.RUNNING or run.heartbeat_at >= cutoff:
                continue
            _mark_finished(
                run,
                TrainingRun.Status.FAILED,
                f"The worker stopped during {run.stage or 'the run'} "
                f"(no heartbeat since {run.heartbeat_at:%H:%M:%S}).",
            )
            run.save()
        shutil.rmtree(run_folder(run), ignore_errors=True)
        reaped.append(run)
    return reaped
