"""The one small interface every algorithm implements: fit / predict_proba / save / load, no Django inside."""

import json
import math
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from training.algorithms import text

if TYPE_CHECKING:
    from training.algorithms.word_counts import TextSpans

META_FILE = "meta.json"


class ParameterError(ValueError):
    """A parameter the algorithm does not know, or a value out of its range."""


@dataclass(frozen=True)
class Param:
    default: Any
    help: str
    low: float | None = None
    high: float | None = None
    choices: tuple = ()

    def parse(self, name: str, raw: Any) -> Any:
        """Turn a value (often a string from a form or the command line) into the parameter's type."""
        kind = type(self.default)
        try:
            if kind is bool:
                value = (
                    raw if isinstance(raw, bool) else str(raw).strip().lower() in ("1", "true", "yes", "on")
                )
            else:
                value = kind(raw)
        except (TypeError, ValueError):
            raise ParameterError(f"{name} must be a {kind.__name__}, not {raw!r}.") from None
        if kind is float and not math.isfinite(value):  # nan passes every bound below; JSON cannot store it
            raise ParameterError(f"{name} must be a finite number, not {raw!r}.")
        if self.choices and value not in self.choices:
            raise ParameterError(f"{name} must be one of {', '.join(map(str, self.choices))}, not {value!r}.")
        if self.low is not None and value < self.low or self.high is not None and value > self.high:
            raise ParameterError(f"{name} must be between {self.low:g} and {self.high:g}, not {value!r}.")
        return value


COMMON_PARAMS = {
    "max_chars": Param(text.DEFAULT_MAX_CHARS, "characters of each text kept", 100, 1_000_000),
    "morphemes": Param(False, "split Korean into morphemes (kiwipiepy) before training"),
}


class FitError(ValueError):
    """Training could not produce a model from this data with these parameters (the message says why)."""


Progress = Callable[[float], None]


class TextClassifier(ABC):
    """A text classifier over string labels; `classes` orders the columns of `predict_proba`."""

    name: ClassVar[str]
    description: ClassVar[str]
    own_params: ClassVar[dict[str, Param]] = {}

    def __init__(self, params: dict | None = None):
        self.params = self.parse_params(params or {})
        self.classes: list[str] = []
        self.fitted_params: dict = {}

    @classmethod
    def param_specs(cls) -> dict[str, Param]:
        return COMMON_PARAMS | cls.own_params

    @classmethod
    def parse_params(cls, params: dict) -> dict:
        """Defaults overlaid with `params`, each checked; unknown names are refused."""
        specs = cls.param_specs()
        unknown = sorted(set(params) - set(specs))
        if unknown:
            raise ParameterError(
                f"{cls.name} has no parameter {', '.join(unknown)}; it knows {', '.join(sorted(specs))}."
            )
        return {
            name: spec.parse(name, params[name]) if name in params else spec.default
            for name, spec in specs.items()
        }

    def prepare(self, texts: list[str]) -> list[str]:
        return text.prepare(texts, max_chars=self.params["max_chars"], use_morphemes=self.params["morphemes"])

    def _prepare_to_predict(self, texts: list[str]) -> list[str]:
        """What `_predict_proba` receives: the prepared texts (a model may skip steps that change nothing
        for it)."""
        return self.prepare(texts)

    def fit(
        self, texts: list[str], labels: list[str], *, progress: Progress | None = None
    ) -> "TextClassifier":
        if len(set(labels)) < 2:
            raise FitError("Training needs examples of at least two categories.")
        self.classes = sorted(set(labels))
        self._fit(self.prepare(texts), labels, progress or (lambda share: None))
        return self

    def span_chars(self) -> int:
        """The longest text (characters) `predict_proba` may be given as bytes (`TextSpans`); 0: none."""
        return 0

    def predict_proba(self, texts: list[str], spans: "TextSpans | None" = None) -> np.ndarray:
        """Rows of probabilities (summing to 1) over `classes`; with `spans`, the texts it gives are read
        from their bytes (their strings unused: models whose `span_chars` is not 0 only)."""
        if not texts:
            return np.zeros((0, len(self.classes)), dtype=np.float32)
        prepared = self._prepare_to_predict(texts)
        scores = self._predict_proba(prepared) if spans is None else self._predict_proba(prepared, spans)
        scores = np.asarray(scores, dtype=np.float32)
        totals = scores.sum(axis=1, keepdims=True)
        return np.divide(scores, totals, out=np.full_like(scores, 1 / len(self.classes)), where=totals > 0)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        meta = {
            "algorithm": self.name,
            "params": self.params,
            "classes": self.classes,
            "fitted": self.fitted_params,
        }
        self._save(folder)
        (folder / META_FILE).write_text(json.dumps(meta, ensure_ascii=False, indent=1))

    @classmethod
    def load_from(cls, folder: Path, meta: dict) -> "TextClassifier":
        model = cls(meta["params"])
        model.classes, model.fitted_params = meta["classes"], meta.get("fitted", {})
        model._load(folder)
        return model

    @abstractmethod
    def _fit(self, texts: list[str], labels: list[str], progress: Progress) -> None: ...

    @abstractmethod
    def _predict_proba(self, texts: list[str]) -> np.ndarray: ...

    @abstractmethod
    def _save(self, folder: Path) -> None: ...

    @abstractmethod
    def _load(self, folder: Path) -> None: ...
