"""The blend alone (no Django): it learns from real posts, averages its members, and reloads from its folder."""

import numpy as np
import pytest

from tests.training.conftest import newsgroups_posts
from training.algorithms import algorithm_class, model_load
from training.algorithms.base import ParameterError
from training.algorithms.text import document


@pytest.fixture(scope="module")
def posts():
    rows = newsgroups_posts(per_group=30)
    texts, labels = [document(r["title"], r["body"]) for r in rows], [r["category"] for r in rows]
    train = [i for i in range(len(texts)) if i % 5]
    test = [i for i in range(len(texts)) if not i % 5]
    return (
        [texts[i] for i in train],
        [labels[i] for i in train],
        [texts[i] for i in test],
        [labels[i] for i in test],
    )


@pytest.mark.parametrize("second", ["char-svm", "tfidf-logreg"])
def test_blend_learns_and_reloads(second, posts, tmp_path):
    train_texts, train_labels, test_texts, test_labels = posts
    model = algorithm_class("blend")({"second": second}).fit(train_texts, train_labels)
    probabilities = model.predict_proba(test_texts)
    assert probabilities.shape == (len(test_texts), 3)
    assert np.allclose(probabilities.sum(axis=1), 1, atol=1e-4)
    predicted = [model.classes[j] for j in probabilities.argmax(axis=1)]
    assert np.mean([p == t for p, t in zip(predicted, test_labels, strict=True)]) >= 0.8

    model.save(tmp_path / "blend")
    assert (tmp_path / "blend" / "first").is_dir() and (tmp_path / "blend" / "second").is_dir()
    loaded = model_load(tmp_path / "blend")
    assert loaded.name == "blend" and loaded.classes == model.classes
    assert np.allclose(loaded.predict_proba(test_texts), probabilities, atol=1e-5)


def test_blend_is_the_weighted_average_of_its_members(posts):
    train_texts, train_labels, test_texts, _ = posts
    model = algorithm_class("blend")({"second": "tfidf-logreg", "weight": "0.25"})
    model.fit(train_texts, train_labels)
    first, second = (member.predict_proba(test_texts) for member in model.members)
    assert [member.name for member in model.members] == ["tfidf-svm", "tfidf-logreg"]
    assert np.allclose(model.predict_proba(test_texts), 0.25 * first + 0.75 * second, atol=1e-5)


def test_blend_refuses_an_unknown_second_model():
    with pytest.raises(ParameterError, match="second must be one of"):
        algorithm_class("blend")({"second": "bert"})
