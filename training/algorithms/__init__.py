"""The algorithms a training run can use, by name. Pure Python: no Django in this package."""

import json
from pathlib import Path

from training.algorithms.base import META_FILE, FitError, ParameterError, TextClassifier
from training.algorithms.fasttext_supervised import FastTextClassifier
from training.algorithms.linear import TfidfLinearSVC, TfidfLogReg

ALGORITHMS: dict[str, type[TextClassifier]] = {
    cls.name: cls for cls in (TfidfLinearSVC, TfidfLogReg, FastTextClassifier)
}
DEFAULT_ALGORITHM = TfidfLinearSVC.name


def algorithm_class(name: str) -> type[TextClassifier]:
    try:
        return ALGORITHMS[name]
    except KeyError:
        raise ParameterError(f"Unknown algorithm {name!r}; choose one of {', '.join(ALGORITHMS)}.") from None


def model_load(folder: Path) -> TextClassifier:
    """A saved model, whatever its algorithm (named in its meta file)."""
    meta = json.loads((folder / META_FILE).read_text())
    return algorithm_class(meta["algorithm"]).load_from(folder, meta)


def parse_assignments(pairs: list[str]) -> dict[str, str]:
    """`["epoch=50", "lr=0.5"]` -> {"epoch": "50", "lr": "0.5"} (values are checked by the algorithm)."""
    params = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise ParameterError(f"Parameters are written name=value, not {pair!r}.")
        params[name.strip()] = value.strip()
    return params


__all__ = [
    "ALGORITHMS",
    "DEFAULT_ALGORITHM",
    "FitError",
    "ParameterError",
    "TextClassifier",
    "algorithm_class",
    "model_load",
]
