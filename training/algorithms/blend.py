"""A blend: the average of two models' calibrated probabilities (a TF-IDF SVM and a second, different model).

Two models that err on different texts (word TF-IDF against character n-grams, logistic regression or
fastText) are right more often together than either alone; each keeps its own vocabulary and file.
"""

from pathlib import Path

import numpy as np

from training.algorithms.base import Param, Progress, TextClassifier
from training.algorithms.fasttext_supervised import FastTextClassifier
from training.algorithms.linear import TfidfLinearSVC, TfidfLogReg

FIRST, SECOND = "first", "second"
# The second model, by choice: its class and the parameters it gets on top of its defaults.
SECOND_MODELS = {
    "char-svm": (TfidfLinearSVC, {"word_ngrams": 1, "char_ngrams": 5}),
    "tfidf-logreg": (TfidfLogReg, {}),
    "fasttext": (FastTextClassifier, {}),
}


class BlendClassifier(TextClassifier):
    name = "blend"
    description = "average of a TF-IDF SVM's and a second model's probabilities (char n-grams by default)"
    own_params = {
        "C": Param(0.5, "the word TF-IDF SVM's inverse regularisation strength", 0.001, 10_000.0),
        "word_ngrams": Param(1, "the word TF-IDF SVM's longest word n-gram", 1, 4),
        "second": Param("char-svm", "the second model", choices=tuple(SECOND_MODELS)),
        "weight": Param(0.5, "share of the word TF-IDF SVM in the average", 0.0, 1.0),
    }

    def __init__(self, params: dict | None = None):
        super().__init__(params)
        self.members: list[TextClassifier] = []

    def prepare(self, texts: list[str]) -> list[str]:
        return list(texts)  # each member prepares the raw texts itself (morphemes must not run twice)

    def _member_params(self) -> list[tuple[type[TextClassifier], dict]]:
        p = self.params
        common = {"max_chars": p["max_chars"], "morphemes": p["morphemes"]}
        second_class, second_params = SECOND_MODELS[p["second"]]
        return [
            (TfidfLinearSVC, common | {"C": p["C"], "word_ngrams": p["word_ngrams"]}),
            (second_class, common | second_params),
        ]

    def _fit(self, texts: list[str], labels: list[str], progress: Progress) -> None:
        self.members = []
        for done, (cls, params) in enumerate(self._member_params()):
            self.members.append(cls(params).fit(texts, labels))
            progress((done + 1) / 2)
        self.fitted_params = {SECOND: self.members[1].fitted_params} if self.members[1].fitted_params else {}

    def _predict_proba(self, texts: list[str]) -> np.ndarray:
        first, second = (self._in_own_order(member, texts) for member in self.members)
        weight = self.params["weight"]
        return weight * first + (1 - weight) * second

    def _in_own_order(self, member: TextClassifier, texts: list[str]) -> np.ndarray:
        """A member's probabilities with columns in the blend's `classes` (both saw the same labels)."""
        column = {name: j for j, name in enumerate(member.classes)}
        return member.predict_proba(texts)[:, [column[name] for name in self.classes]]

    def _save(self, folder: Path) -> None:
        for sub, member in zip((FIRST, SECOND), self.members, strict=True):
            member.save(folder / sub)

    def _load(self, folder: Path) -> None:
        from training.algorithms import model_load  # the registry imports this module

        self.members = [model_load(folder / sub) for sub in (FIRST, SECOND)]
