"""scikit-learn baselines: TF-IDF word (and optional character) n-grams with a linear model."""

from collections import Counter
from pathlib import Path

import joblib
import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

from training.algorithms.base import Param, Progress, TextClassifier

MODEL_FILE = "model.joblib"

TFIDF_PARAMS = {
    "word_ngrams": Param(1, "longest word n-gram", 1, 4),
    "char_ngrams": Param(0, "longest character n-gram, from 2 (0 = no character features)", 0, 6),
    "min_df": Param(2, "terms in fewer documents are dropped", 1, 1000),
    "max_df": Param(0.5, "terms in a larger share of documents are dropped", 0.01, 1.0),
    "max_features": Param(500_000, "vocabulary cap per vectorizer", 1000, 10_000_000),
}


class TfidfLinear(TextClassifier):
    """Shared vectorizer; subclasses name the linear model."""

    def _vectorizer(self) -> FeatureUnion:
        p = self.params
        parts = [
            (
                "words",
                TfidfVectorizer(
                    sublinear_tf=True,
                    ngram_range=(1, p["word_ngrams"]),
                    min_df=p["min_df"],
                    max_df=p["max_df"],
                    max_features=p["max_features"],
                    dtype=np.float32,
                ),
            )
        ]
        if p["char_ngrams"]:
            chars = TfidfVectorizer(
                sublinear_tf=True,
                analyzer="char_wb",
                ngram_range=(2, p["char_ngrams"]),
                min_df=p["min_df"],
                max_features=p["max_features"],
                dtype=np.float32,
            )
            parts.append(("characters", chars))
        return FeatureUnion(parts)

    def _estimator(self, smallest_class: int):
        raise NotImplementedError

    def _fit(self, texts: list[str], labels: list[str], progress: Progress) -> None:
        smallest = min(Counter(labels).values())
        self.pipeline = Pipeline([("tfidf", self._vectorizer()), ("model", self._estimator(smallest))])
        self.pipeline.fit(texts, labels)
        progress(1.0)

    def _predict_proba(self, texts: list[str]) -> np.ndarray:
        order = [list(self.pipeline.classes_).index(name) for name in self.classes]
        return self.pipeline.predict_proba(texts)[:, order]

    def _save(self, folder: Path) -> None:
        joblib.dump(self.pipeline, folder / MODEL_FILE, compress=3)

    def _load(self, folder: Path) -> None:
        self.pipeline = joblib.load(folder / MODEL_FILE)


class TfidfLogReg(TfidfLinear):
    name = "tfidf-logreg"
    description = "TF-IDF n-grams + logistic regression"
    own_params = TFIDF_PARAMS | {"C": Param(20.0, "inverse regularisation strength", 0.001, 10_000.0)}

    def _estimator(self, smallest_class: int):
        return LogisticRegression(C=self.params["C"], max_iter=1000)


class TfidfLinearSVC(TfidfLinear):
    name = "tfidf-svm"
    description = "TF-IDF n-grams + linear SVM, probabilities calibrated (sigmoid, 3-fold)"
    own_params = TFIDF_PARAMS | {"C": Param(0.5, "inverse regularisation strength", 0.001, 10_000.0)}

    def _estimator(self, smallest_class: int):
        svm = LinearSVC(C=self.params["C"])
        if smallest_class < 2:  # calibration needs two examples of every category; scores still rank
            return SoftmaxScores(svm)
        return CalibratedClassifierCV(svm, cv=min(3, smallest_class), method="sigmoid")


class SoftmaxScores(BaseEstimator, ClassifierMixin):
    """A margin classifier whose decision scores pass through a softmax (when calibration cannot run)."""

    def __init__(self, estimator):
        self.estimator = estimator

    def fit(self, X, y):
        self.estimator.fit(X, y)
        self.classes_ = self.estimator.classes_
        return self

    def predict_proba(self, X) -> np.ndarray:
        scores = self.estimator.decision_function(X)
        if scores.ndim == 1:
            scores = np.column_stack([-scores, scores])
        scores = np.exp(4 * (scores - scores.max(axis=1, keepdims=True)))
        return scores / scores.sum(axis=1, keepdims=True)
