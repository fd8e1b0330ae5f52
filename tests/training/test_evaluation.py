"""Held-out split, folds and metrics: stable, stratified and equal to scikit-learn's figures."""

from collections import Counter

import numpy as np
from sklearn.metrics import accuracy_score, f1_score

from training.evaluation import classification_metrics, fold_numbers, holdout_mask


def test_holdout_is_stratified_and_stable_across_versions():
    keys = list(range(1000))
    labels = ["a"] * 500 + ["b"] * 300 + ["c"] * 199 + ["d"]
    mask = holdout_mask(keys, labels, share=0.2, seed=7)
    held = Counter(label for label, m in zip(labels, mask, strict=True) if m)
    assert held == {"a": 100, "b": 60, "c": 40}  # a lone example stays in training
    # A later version with new contents: the old contents keep their place.
    more = holdout_mask(keys + list(range(1000, 1100)), labels + ["a"] * 100, share=0.2, seed=7)
    moved = sum(1 for i in range(1000) if mask[i] != more[i])
    assert moved <= 20
    assert not np.array_equal(mask, holdout_mask(keys, labels, share=0.2, seed=8))


def test_folds_are_balanced_per_category():
    labels = ["a"] * 50 + ["b"] * 23
    numbers = fold_numbers(list(range(73)), labels, folds=5, seed=1)
    for label in "ab":
        sizes = Counter(n for n, lab in zip(numbers, labels, strict=True) if lab == label)
        assert max(sizes.values()) - min(sizes.values()) <= 1


def test_metrics_equal_scikit_learn():
    truth = ["a", "a", "b", "b", "c", "c", "c"]
    predicted = ["a", "b", "b", "b", "c", "a", "c"]
    metrics = classification_metrics(truth, predicted, ["a", "b", "c", "d"])
    assert metrics["accuracy"] == accuracy_score(truth, predicted)
    assert metrics["macro_f1"] == f1_score(truth, predicted, average="macro")
    assert metrics["per_category"]["b"] == {"precision": 2 / 3, "recall": 1.0, "f1": 0.8, "support": 2}
    assert metrics["confusion"]["matrix"][2] == [1, 0, 2, 0]
