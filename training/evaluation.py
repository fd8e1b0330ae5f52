"""How a run is evaluated: a fixed held-out split, k-fold out-of-fold probabilities, metrics, latency.

Pure functions over plain lists and arrays (no Django), so the benchmark can call them directly.
"""

import hashlib
import time
from collections import defaultdict
from collections.abc import Callable, Sequence

import numpy as np
from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support

from training.algorithms.base import TextClassifier


def _rank_key(seed: int, key: int) -> bytes:
    return hashlib.blake2b(f"{seed}:{key}".encode(), digest_size=8).digest()


def holdout_mask(keys: Sequence[int], labels: Sequence[str], *, share: float, seed: int) -> np.ndarray:
    """True for the held-out rows: per category the `share` of its contents that rank first by a seeded hash.

    A content keeps its place (held out or not) across versions while its category stays the same, so
    runs on later versions are measured on (almost) the same held-out contents. A category with one
    example keeps it for training.
    """
    by_label: dict[str, list[int]] = defaultdict(list)
    for row, label in enumerate(labels):
        by_label[label].append(row)
    mask = np.zeros(len(labels), dtype=bool)
    for rows in by_label.values():
        if len(rows) < 2:
            continue
        count = min(len(rows) - 1, max(1, round(len(rows) * share)))
        rows.sort(key=lambda row: _rank_key(seed, keys[row]))
        mask[rows[:count]] = True
    return mask


def fold_numbers(keys: Sequence[int], labels: Sequence[str], *, folds: int, seed: int) -> np.ndarray:
    """A fold number per row, stratified: each category's rows dealt round-robin in seeded-hash order."""
    by_label: dict[str, list[int]] = defaultdict(list)
    for row, label in enumerate(labels):
        by_label[label].append(row)
    numbers = np.zeros(len(labels), dtype=np.int32)
    for offset, rows in enumerate(by_label.values()):
        rows.sort(key=lambda row: _rank_key(seed + 1, keys[row]))
        for position, row in enumerate(rows):
            numbers[row] = (position + offset) % folds
    return numbers


def probabilities_in(model: TextClassifier, texts: list[str], classes: list[str]) -> np.ndarray:
    """`model`'s probabilities laid out over `classes` (a fold's model may not know every class)."""
    known = model.predict_proba(texts)
    matrix = np.zeros((len(texts), len(classes)), dtype=np.float32)
    column = {name: i for i, name in enumerate(classes)}
    for j, name in enumerate(model.classes):
        matrix[:, column[name]] = known[:, j]
    return matrix


def out_of_fold(
    make_model: Callable[[], TextClassifier],
    texts: list[str],
    labels: list[str],
    classes: list[str],
    folds: np.ndarray,
    *,
    on_fold: Callable[[int, int], None] = lambda done, total: None,
) -> np.ndarray:
    """Probabilities for every row from a model that never saw it (trained on the other folds)."""
    total = int(folds.max()) + 1
    result = np.zeros((len(texts), len(classes)), dtype=np.float32)
    for fold in range(total):
        test = np.flatnonzero(folds == fold)
        train = np.flatnonzero(folds != fold)
        model = make_model().fit([texts[i] for i in train], [labels[i] for i in train])
        result[test] = probabilities_in(model, [texts[i] for i in test], classes)
        on_fold(fold + 1, total)
    return result


def classification_metrics(truth: Sequence[str], predicted: Sequence[str], classes: list[str]) -> dict:
    """Accuracy, macro-F1 over the categories present, per-category P/R/F1/support, the confusion matrix."""
    present = [name for name in classes if name in set(truth)]
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, predicted, labels=classes, zero_division=0
    )
    per_category = {
        name: {
            "precision": float(precision[i]),
            "recall": float(recall[i]),
            "f1": float(f1[i]),
            "support": int(support[i]),
        }
        for i, name in enumerate(classes)
    }
    matrix = confusion_matrix(truth, predicted, labels=classes)
    return {
        "accuracy": float(np.mean(np.asarray(truth) == np.asarray(predicted))) if len(truth) else 0.0,
        "macro_f1": float(f1_score(truth, predicted, labels=present, average="macro", zero_division=0)),
        "per_category": per_category,
        "confusion": {"labels": classes, "matrix": matrix.tolist()},
    }


def calibration_error(probabilities: np.ndarray, truth_columns: np.ndarray, *, bins: int = 15) -> float:
    """Expected calibration error of the top answer: over equal-width confidence bins, the gap between
    mean confidence and accuracy, weighted by the bin's share of rows (0 = calibrated)."""
    if not len(truth_columns):
        return 0.0
    confidence = probabilities.max(axis=1).astype(np.float64)
    correct = probabilities.argmax(axis=1) == np.asarray(truth_columns)
    which = np.minimum((confidence * bins).astype(int), bins - 1)
    error = 0.0
    for number in np.unique(which):
        rows = which == number
        error += rows.mean() * abs(correct[rows].mean() - confidence[rows].mean())
    return float(error)


def prediction_latency(model: TextClassifier, texts: list[str], *, repeats: int = 200) -> tuple[float, float]:
    """p50 and p99 milliseconds of one-text predictions (after warm-up), as the API will call the model."""
    if not texts:
        return 0.0, 0.0
    for text in texts[:5]:
        model.predict_proba([text])
    timings = []
    for i in range(repeats):
        started = time.perf_counter()
        model.predict_proba([texts[i % len(texts)]])
        timings.append((time.perf_counter() - started) * 1000)
    return float(np.percentile(timings, 50)), float(np.percentile(timings, 99))
