"""scikit-learn baselines: TF-IDF word (and optional character) n-grams with a linear model.

The default SVM is one LinearSVC fitted on every training row whose margins become probabilities through
per-class sigmoids fitted on 3-fold out-of-fold margins (`OneSVM`; `calibration=temperature`: one softmax
temperature instead); the older shape, three SVMs each fitted on two thirds of the rows with per-class
sigmoids averaged (`calibration=sigmoid-3-svms`), stays selectable and loadable.

Predictions go through `FastPredict`: the fitted pipeline's own vocabularies, idf weights, SVM weights and
calibration, applied without scikit-learn's per-call input checks (most of a single text's time through
the pipeline); the probabilities are the pipeline's (tests/training/test_fast_predict.py).
"""

import pickle
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from scipy.optimize import minimize
from scipy.special import expit, log_softmax, softmax
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.calibration import CalibratedClassifierCV, _SigmoidCalibration
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC
from sklearn.utils.sparsefuncs_fast import inplace_csr_row_normalize_l2

from training.algorithms import text
from training.algorithms.base import Param, Progress, TextClassifier
from training.algorithms.word_counts import TextSpans, WordTable

MODEL_FILE = "model.pickle"
SMALL_BATCH = 4  # up to this many texts, features go straight to the weights (LinearScores.of_terms)
JOBLIB_FILE = "model.joblib"  # how models were saved before 2026-11-28; still loaded

TFIDF_PARAMS = {
    "word_ngrams": Param(1, "longest word n-gram", 1, 4),
    "char_ngrams": Param(0, "longest character n-gram, from 2 (0 = no character features)", 0, 6),
    "min_df": Param(2, "terms in fewer documents are dropped", 1, 1000),
    "max_df": Param(1.0, "terms in a larger share of documents are dropped (1.0: none)", 0.01, 1.0),
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
        self._fast = FastPredict(self.pipeline)
        progress(1.0)

    def _fast_predict(self) -> "FastPredict":
        fast = getattr(self, "_fast", None)
        if fast is None:
            fast = self._fast = FastPredict(self.pipeline)
        return fast

    def _prepare_to_predict(self, texts: list[str]) -> list[str]:
        """Word-only models count ASCII texts shorter than `max_chars` as they come: normalising them (NFKC,
        one line, lower case) changes none of their words."""
        if not self._fast_predict().ascii_words or self.params["morphemes"]:
            return self.prepare(texts)
        cut = self.params["max_chars"]
        return [t if t.isascii() and len(t) <= cut else text.normalise(t, max_chars=cut) for t in texts]

    def span_chars(self) -> int:
        """Word-only models count texts given as ASCII bytes (`TextSpans`) up to `max_chars` long."""
        counts_bytes = self._fast_predict().ascii_words and not self.params["morphemes"]
        return self.params["max_chars"] if counts_bytes else 0

    def _predict_proba(self, texts: list[str], spans: TextSpans | None = None) -> np.ndarray:
        fast = self._fast_predict()
        probabilities = fast.predict_proba(texts, spans)
        if fast.order is None:
            known = list(self.pipeline.classes_)
            order = [known.index(name) for name in self.classes]
            fast.order = order  # columns in the order of `classes`
        return probabilities[:, fast.order]

    def __getstate__(self) -> dict:
        return {name: value for name, value in self.__dict__.items() if name != "_fast"}  # rebuilt on use

    def _save(self, folder: Path) -> None:
        # The C pickler: joblib's pure-Python one spent seconds on the vocabulary's 50k entries.
        with open(folder / MODEL_FILE, "wb") as file:
            pickle.dump(self.pipeline, file, protocol=pickle.HIGHEST_PROTOCOL)

    def _load(self, folder: Path) -> None:
        if (folder / MODEL_FILE).exists():
            with open(folder / MODEL_FILE, "rb") as file:
                self.pipeline = pickle.load(file)  # noqa: S301 (our own checksummed model file)
        else:
            import joblib

            self.pipeline = joblib.load(folder / JOBLIB_FILE)
        self._fast = FastPredict(self.pipeline)


class TfidfLogReg(TfidfLinear):
    name = "tfidf-logreg"
    description = "TF-IDF n-grams + logistic regression"
    own_params = TFIDF_PARAMS | {"C": Param(20.0, "inverse regularisation strength", 0.001, 10_000.0)}

    def _estimator(self, smallest_class: int):
        return LogisticRegression(C=self.params["C"], max_iter=1000)


TEMPERATURE, SIGMOID, SIGMOID_3_SVMS = "temperature", "sigmoid", "sigmoid-3-svms"


class TfidfLinearSVC(TfidfLinear):
    name = "tfidf-svm"
    description = "TF-IDF n-grams + linear SVM on every row, probabilities calibrated (sigmoids, 3-fold)"
    own_params = TFIDF_PARAMS | {
        "C": Param(0.5, "inverse regularisation strength", 0.001, 10_000.0),
        "calibration": Param(
            SIGMOID,
            "temperature: one SVM on every row, a softmax temperature fitted on 3-fold out-of-fold margins; "
            "sigmoid: the same SVM, a sigmoid per class fitted on those margins; sigmoid-3-svms: the average "
            "of 3 SVMs fitted on 2/3 of the rows with per-class sigmoids (before 2026-12)",
            choices=(TEMPERATURE, SIGMOID, SIGMOID_3_SVMS),
        ),
    }

    def _estimator(self, smallest_class: int):
        svm = LinearSVC(C=self.params["C"], random_state=0)  # reproducible: same data, same model
        if smallest_class < 2:  # calibration needs two examples of every category; scores still rank
            return SoftmaxScores(svm)
        if self.params["calibration"] == SIGMOID_3_SVMS:
            return CalibratedClassifierCV(svm, cv=min(3, smallest_class), method="sigmoid")
        return OneSVM(svm, folds=min(3, smallest_class), method=self.params["calibration"])


def margin_columns(margins: np.ndarray) -> np.ndarray:
    """Decision values as one column per class (a binary SVM's single margin m becomes -m, m)."""
    return np.column_stack([-margins, margins]) if margins.ndim == 1 else margins


def fit_temperature(margins: np.ndarray, codes: np.ndarray) -> float:
    """The scale `a` minimising the log loss of softmax(a * margins) against the class codes."""
    rows = np.arange(len(codes))

    def loss(log_scale: np.ndarray) -> tuple[float, np.ndarray]:
        scale = float(np.exp(log_scale[0]))
        logs = log_softmax(scale * margins, axis=1)
        gradient = ((np.exp(logs) * margins).sum(axis=1) - margins[rows, codes]).sum() * scale
        return -float(logs[rows, codes].sum()), np.array([gradient])

    return float(np.exp(minimize(loss, [0.0], jac=True, method="L-BFGS-B").x[0]))


class OneSVM(BaseEstimator, ClassifierMixin):
    """One SVM fitted on every row, calibrated on the out-of-fold margins of `folds` SVMs (stratified): a
    sigmoid per class, normalised (`method="sigmoid"`), or softmax(temperature * margins) (`"temperature"`,
    the SVM's own ranking kept). Every row teaches the served model, where the average of 3 SVMs fitted on
    2/3 each (CalibratedClassifierCV) lost accuracy and was less calibrated (bench/results/training.md)."""

    def __init__(self, estimator, folds: int = 3, method: str = SIGMOID):
        self.estimator, self.folds, self.method = estimator, folds, method

    def fit(self, X, y):
        self.estimator_ = clone(self.estimator).fit(X, y)
        self.classes_ = self.estimator_.classes_
        out_of_fold = cross_val_predict(
            clone(self.estimator), X, y, cv=StratifiedKFold(self.folds), method="decision_function"
        )
        codes = np.searchsorted(self.classes_, np.asarray(y))
        margins = margin_columns(out_of_fold)
        self.temperature_ = fit_temperature(margins, codes)
        self.sigmoids_ = None
        if self.method == SIGMOID:  # (a, b) per class: p_j ~ 1 / (1 + exp(a_j m_j + b_j)), then normalised
            fitted = [_SigmoidCalibration().fit(margins[:, j], codes == j) for j in range(margins.shape[1])]
            self.sigmoids_ = np.array([[c.a_ for c in fitted], [c.b_ for c in fitted]])
        return self

    def probabilities(self, margins: np.ndarray) -> np.ndarray:
        """Calibrated probabilities of margin columns (the same arithmetic serves FastPredict)."""
        if self.sigmoids_ is None:
            return softmax(self.temperature_ * margins, axis=1)
        scores = expit(-(self.sigmoids_[0] * margins + self.sigmoids_[1]))
        totals = scores.sum(axis=1, keepdims=True)
        return np.divide(scores, totals, out=np.full_like(scores, 1 / scores.shape[1]), where=totals > 0)

    def decision_function(self, X) -> np.ndarray:
        return self.estimator_.decision_function(X)

    def predict_proba(self, X) -> np.ndarray:
        return self.probabilities(margin_columns(self.decision_function(X)))

    def predict(self, X) -> np.ndarray:
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


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


class FastPredict:
    """A fitted TF-IDF pipeline's `predict_proba`, computed from its parts without the per-call checks.

    Each TfidfVectorizer of the FeatureUnion counts with its own analyzer and vocabulary, then applies its
    sublinear tf, idf and l2 norm as scikit-learn does (same dtype, same order). A sigmoid-calibrated
    LinearSVC ensemble (CalibratedClassifierCV) becomes one sparse x dense product with every fold's weights
    side by side, then each fold's per-class sigmoids, normalised and averaged as `_CalibratedClassifier`
    does; SoftmaxScores and OneSVM likewise (one product, then their softmax). Any other shape of
    pipeline falls back to scikit-learn for that part.
    """

    def __init__(self, pipeline: Pipeline):
        self.pipeline = pipeline
        union, model = pipeline.steps[0][1], pipeline.steps[-1][1]
        self.vectorizers = self._vectorizers(union) if len(pipeline.steps) == 2 else None
        self.scores = _one_svm(model) or _calibrated_svms(model) or _softmax_scores(model)
        # every vectorizer counts default words (WordTable): raw ASCII texts give the prepared ones' features
        self.ascii_words = bool(self.vectorizers) and all(v.table is not None for v in self.vectorizers)
        self.order: list[int] | None = None  # set by the model: its classes' columns

    def _terms(self, text: str, spans: TextSpans | None) -> tuple[np.ndarray, np.ndarray]:
        """One text's features as (columns, values), the vectorizers' columns side by side (the text given
        as `spans` of one row when they are not None)."""
        parts = [vectorizer.terms(text, spans) for vectorizer in self.vectorizers]
        if len(parts) == 1:
            return parts[0]
        offsets = np.cumsum([0, *(vectorizer.size for vectorizer in self.vectorizers[:-1])])
        return (
            np.concatenate([columns + offset for (columns, _), offset in zip(parts, offsets, strict=True)]),
            np.concatenate([values for _, values in parts]),
        )

    @staticmethod
    def _vectorizers(union) -> list | None:
        if not isinstance(union, FeatureUnion) or union.transformer_weights:
            return None
        parts = [part for _, part in union.transformer_list]
        if not parts or any(
            type(part) is not TfidfVectorizer or part.norm not in ("l2", None) for part in parts
        ):
            return None
        return [_Vectorizer(part) for part in parts]

    def transform(self, texts: list[str], spans: TextSpans | None = None):
        """Features of the texts (those `spans` gives, of their bytes: `ascii_words` models only)."""
        if self.vectorizers is None:
            return self.pipeline[:-1].transform(texts)
        parts = [vectorizer.transform(texts, spans) for vectorizer in self.vectorizers]
        return parts[0] if len(parts) == 1 else sp.hstack(parts, format="csr")

    def predict_proba(self, texts: list[str], spans: TextSpans | None = None) -> np.ndarray:
        if self.vectorizers is not None and self.scores is not None and len(texts) <= SMALL_BATCH:
            given = spans.given if spans is not None else np.zeros(len(texts), dtype=bool)
            one = [spans.rows(n, n + 1) if given[n] else None for n in range(len(texts))]
            return self.scores.of_terms([self._terms(text, one[n]) for n, text in enumerate(texts)])
        features = self.transform(texts, spans)
        if self.scores is None:
            return self.pipeline.steps[-1][1].predict_proba(features)
        return self.scores(features)


class _Vectorizer:
    """One fitted TfidfVectorizer's transform (counts, sublinear tf, idf, l2), as scikit-learn computes it."""

    def __init__(self, vectorizer: TfidfVectorizer):
        self.vocabulary = vectorizer.vocabulary_
        default = _default_words(vectorizer)
        bigrams = default and vectorizer.ngram_range[1] == 2
        self.analyze = (_word_terms if bigrams else _word_tokens) if default else vectorizer.build_analyzer()
        self.table = WordTable(self.vocabulary) if default else None  # ASCII texts: counted in numpy
        self.size = len(self.vocabulary)
        self.dtype = vectorizer.dtype
        self.binary, self.sublinear, self.norm = vectorizer.binary, vectorizer.sublinear_tf, vectorizer.norm
        self.idf = vectorizer.idf_ if vectorizer.use_idf else None

    def transform(self, texts: list[str], spans: TextSpans | None = None):
        matrix = self._counts(texts, spans)
        self._weigh(matrix.data, matrix.indices)
        if self.norm == "l2":
            inplace_csr_row_normalize_l2(matrix)
        return matrix

    def terms(self, text: str, spans: TextSpans | None = None) -> tuple[np.ndarray, np.ndarray]:
        """One text's row of `transform` as (columns, values) (the text given as `spans` when not None)."""
        if spans is not None:
            _, columns, counts = self.table.span_counts(spans)
        elif self.table is not None and text.isascii():
            _, columns, counts = self.table.counts([text])
        else:
            found = self._term_counts(text)
            columns = np.fromiter(found.keys(), dtype=np.intp, count=len(found))
            counts = np.fromiter(found.values(), dtype=np.intp, count=len(found))
        values = counts.astype(self.dtype)
        self._weigh(values, columns)
        if self.norm == "l2" and len(values):
            norm = np.sqrt(np.dot(values.astype(np.float64), values.astype(np.float64)))  # as scikit-learn
            if norm:
                values = (values / norm).astype(self.dtype)
        return columns, values

    def _weigh(self, values: np.ndarray, columns: np.ndarray) -> None:
        """Counts to tf-idf weights, in place: binary, sublinear tf, idf."""
        if self.binary:
            values.fill(1)
        if self.sublinear:
            np.log(values, values)
            values += 1.0
        if self.idf is not None:
            values *= self.idf[columns]

    def _counts(self, texts: list[str], spans: TextSpans | None = None) -> sp.csr_array:
        """Term counts, a row per text: ASCII texts counted together by the compiled word table when the
        analyzer is the default one (texts given as `spans` likewise, from their bytes), any other text one
        by one."""
        if self.table is None:
            return self._matrix(*self._counted(texts), len(texts))
        strings = range(len(texts)) if spans is None else np.flatnonzero(~spans.given).tolist()
        by_table = [number for number in strings if texts[number].isascii()]
        if len(by_table) == len(texts):
            return self._matrix(*self.table.counts(texts), len(texts))
        one_by_one = [number for number in strings if not texts[number].isascii()]
        parts = [
            self._matrix(*self.table.counts([texts[n] for n in by_table]), len(by_table)),
            self._matrix(*self._counted([texts[n] for n in one_by_one]), len(one_by_one)),
        ]
        by_spans = [] if spans is None else np.flatnonzero(spans.given).tolist()
        if by_spans:
            parts.append(self._matrix(*self.table.span_counts(spans.take(by_spans)), len(by_spans)))
        order = np.argsort(np.asarray(by_table + one_by_one + by_spans))  # back to the texts' order
        return sp.vstack(parts, format="csr")[order]

    def _term_counts(self, text: str) -> Counter:
        """Column -> count of the text's terms that are in the vocabulary."""
        found = Counter(map(self.vocabulary.get, self.analyze(text)))
        found.pop(None, None)  # terms outside the vocabulary
        return found

    def _counted(self, texts: list[str]) -> tuple[list, list, list]:
        columns, counts, indptr = [], [], [0]
        for one in texts:
            found = self._term_counts(one)
            columns.extend(found)
            counts.extend(found.values())
            indptr.append(len(columns))
        return indptr, columns, counts

    def _matrix(self, indptr, columns, counts, rows: int) -> sp.csr_array:
        matrix = sp.csr_array(
            (
                np.asarray(counts, dtype=np.intc),
                np.asarray(columns, dtype=np.int32),
                np.asarray(indptr, dtype=np.int32),
            ),
            shape=(rows, self.size),
            dtype=self.dtype,
        )
        matrix.sort_indices()
        return matrix


DEFAULT_TOKENS = r"(?u)\b\w\w+\b"
WORD_RUNS = re.compile(r"\w\w+")  # the same tokens: greedy runs of 2+ word characters, without \b tests


def _default_words(vectorizer: TfidfVectorizer) -> bool:
    """The default word analyzer: lower case, default token pattern, words or words and bigrams, no stop
    words."""
    return (
        vectorizer.analyzer == "word"
        and vectorizer.token_pattern == DEFAULT_TOKENS
        and vectorizer.tokenizer is None
        and vectorizer.preprocessor is None
        and vectorizer.strip_accents is None
        and vectorizer.stop_words is None
        and vectorizer.lowercase
        and tuple(vectorizer.ngram_range) in ((1, 1), (1, 2))
    )


def _word_tokens(text: str) -> list[str]:
    """The default analyzer's tokens, faster (ASCII texts never come here: the word table counts them)."""
    return WORD_RUNS.findall(text.lower())


def _word_terms(text: str) -> list[str]:
    """The default analyzer's words and bigrams (scikit-learn pairs consecutive tokens, in or out of the
    vocabulary)."""
    tokens = _word_tokens(text)
    return [*tokens, *map(" ".join, zip(tokens[:-1], tokens[1:], strict=True))]


@dataclass(frozen=True)
class LinearScores:
    """Probabilities from linear margins: features @ weight + intercept, then `finish` (calibration)."""

    weight: np.ndarray  # features x margins, float64
    intercept: np.ndarray
    finish: Callable[[np.ndarray], np.ndarray]  # margins (texts x margins) -> probabilities

    def __call__(self, features) -> np.ndarray:
        return self.finish(features @ self.weight + self.intercept)

    def of_terms(self, terms: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
        """Probabilities of texts given as (columns, tf-idf values): rows of the weight gathered, no sparse
        matrix (scipy's construction and product are most of a single text's time otherwise)."""
        margins = np.empty((len(terms), len(self.intercept)))
        for row, (columns, values) in enumerate(terms):
            margins[row] = values.astype(np.float64) @ self.weight[columns] + self.intercept
        return self.finish(margins)


def _calibrated_svms(model) -> LinearScores | None:
    """Sigmoid-calibrated multiclass LinearSVCs (CalibratedClassifierCV): one product for all folds."""
    if not isinstance(model, CalibratedClassifierCV) or model.method != "sigmoid" or len(model.classes_) < 3:
        return None
    folds = model.calibrated_classifiers_
    classes = list(model.classes_)
    weights, intercepts, slopes, offsets, columns = [], [], [], [], []
    for fold in folds:
        svm = fold.estimator
        if not isinstance(svm, LinearSVC) or len(fold.calibrators) != len(svm.classes_):
            return None
        if not all(type(c) is _SigmoidCalibration for c in fold.calibrators):
            return None
        weights.append(svm.coef_.T)
        intercepts.append(np.broadcast_to(svm.intercept_, (len(svm.classes_),)))
        slopes += [c.a_ for c in fold.calibrators]
        offsets += [c.b_ for c in fold.calibrators]
        columns.append([classes.index(name) for name in svm.classes_])
    weight = np.ascontiguousarray(np.hstack(weights), dtype=np.float64)
    intercept, slope, offset = np.concatenate(intercepts), np.asarray(slopes), np.asarray(offsets)
    widths = [len(c) for c in columns]
    same_columns = all(c == list(range(len(classes))) for c in columns)
    starts = np.cumsum([0, *widths])

    def finish(margins: np.ndarray) -> np.ndarray:
        sigmoid = expit(-(slope * margins + offset))
        if same_columns:  # every fold saw every class (the usual case): all folds at once
            proba = sigmoid.reshape(margins.shape[0], len(folds), len(classes))
            denominator = proba.sum(axis=2, keepdims=True)
            proba = np.divide(
                proba, denominator, out=np.full_like(proba, 1 / len(classes)), where=denominator != 0
            )
            proba[(proba > 1.0) & (proba <= 1.0 + 1e-5)] = 1.0  # as scikit-learn
            return proba.sum(axis=1) / len(folds)
        mean = np.zeros((margins.shape[0], len(classes)))
        for number, fold_columns in enumerate(columns):
            proba = np.zeros_like(mean)
            proba[:, fold_columns] = sigmoid[:, starts[number] : starts[number + 1]]
            denominator = proba.sum(axis=1)[:, np.newaxis]
            proba = np.divide(
                proba, denominator, out=np.full_like(proba, 1 / len(classes)), where=denominator != 0
            )
            proba[(proba > 1.0) & (proba <= 1.0 + 1e-5)] = 1.0  # as scikit-learn
            mean += proba
        return mean / len(folds)

    return LinearScores(weight, intercept, finish)


def _softmax_scores(model) -> LinearScores | None:
    if not isinstance(model, SoftmaxScores) or not isinstance(model.estimator, LinearSVC):
        return None
    if len(model.classes_) < 3:
        return None

    def finish(scores: np.ndarray) -> np.ndarray:
        scores = np.exp(4 * (scores - scores.max(axis=1, keepdims=True)))
        return scores / scores.sum(axis=1, keepdims=True)

    weight = np.ascontiguousarray(model.estimator.coef_.T, dtype=np.float64)
    return LinearScores(weight, model.estimator.intercept_, finish)


def _one_svm(model) -> LinearScores | None:
    if not isinstance(model, OneSVM) or not isinstance(model.estimator_, LinearSVC):
        return None

    def finish(margins: np.ndarray) -> np.ndarray:
        return model.probabilities(margin_columns(margins[:, 0] if margins.shape[1] == 1 else margins))

    weight = np.ascontiguousarray(model.estimator_.coef_.T, dtype=np.float64)
    return LinearScores(weight, np.asarray(model.estimator_.intercept_, dtype=np.float64), finish)
