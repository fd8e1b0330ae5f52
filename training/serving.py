"""Models in memory: each worker process loads a dataset's ensemble once and swaps it when it changes.

The current ensemble's key (champion run, ensemble version, rules stamp) is checked at most once a second per
dataset; when it changed, one thread loads the new models while the others keep answering with the old ones,
then the new ensemble replaces the old in one assignment. No request fails or waits on a swap.
"""

import gc
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from django.db.models import Count, Max

from labeling.models import Category, Dataset
from training.ensemble import CompiledRule, Rule, rule_compile
from training.errors import TrainingConflict, TrainingError
from training.models import Champion, EnsembleConfig, RuleMapping, TrainingRun
from training.services.artifacts import artifact_verified

if TYPE_CHECKING:
    from training.algorithms import TextClassifier

CHECK_SECONDS = 1.0
log = logging.getLogger(__name__)


@dataclass
class Member:
    run: TrainingRun
    name: str
    weight: float
    model: "TextClassifier"
    categories: np.ndarray  # the category id of each column of the model's probabilities


@dataclass
class LoadedEnsemble:
    key: tuple
    dataset_id: int
    config: EnsembleConfig
    champion_id: int | None
    members: list[Member]
    rules: list[CompiledRule]
    labels: dict[int, tuple[str, str, int]] = field(default_factory=dict)  # id: name, path, large category id
    layouts: dict = field(default_factory=dict)  # answers' view of a decision's columns (services.classify)


_loaded: dict[int, LoadedEnsemble] = {}
_datasets: dict[int, tuple[float, Dataset]] = {}
_checked_at: dict[int, float] = {}
_locks: dict[int, threading.Lock] = {}
_locks_guard = threading.Lock()


def served_dataset(dataset_id: int) -> Dataset | None:
    """The dataset (with its taxonomy), read at most once a second per process; None when there is none."""
    now = time.monotonic()
    found = _datasets.get(dataset_id)
    if found and now - found[0] < CHECK_SECONDS:
        return found[1]
    dataset = Dataset.objects.select_related("taxonomy").filter(pk=dataset_id).first()
    if dataset is None:
        _datasets.pop(dataset_id, None)  # unknown ids are not kept: requests cannot fill the memory
    else:
        _datasets[dataset_id] = (now, dataset)
    return dataset


def ensemble_config(dataset: Dataset) -> EnsembleConfig:
    config, _ = EnsembleConfig.objects.get_or_create(dataset=dataset)
    return config


def current_key(dataset: Dataset) -> tuple:
    """What the ensemble is made of now; a change of any part means reloading."""
    champion = Champion.objects.filter(dataset=dataset).values_list("run_id", flat=True).first()
    # A dataset without a configuration gets one at version 1 when it is loaded: count it as 1 already.
    version = EnsembleConfig.objects.filter(dataset=dataset).values_list("version", flat=True).first() or 1
    rules = RuleMapping.objects.filter(dataset=dataset).aggregate(n=Count("id"), at=Max("updated_at"))
    return champion, version, rules["n"], rules["at"]


def _load_member(run: TrainingRun, name: str, weight: float) -> Member:
    if not artifact_verified(run):
        raise TrainingConflict(
            f"The model files of run #{run.id} are missing or damaged; retrain or promote another run."
        )
    from training.algorithms import model_load  # scikit-learn, numba, fastText: imported when first needed

    model = model_load(Path(run.artifact_path))
    return Member(run, name, weight, model, np.array([int(name) for name in model.classes], dtype=np.int64))


def _load(dataset: Dataset, key: tuple) -> LoadedEnsemble:
    config = ensemble_config(dataset)
    members = []
    champion_id = key[0]
    if config.include_champion and champion_id:
        champion = TrainingRun.objects.get(pk=champion_id)
        members.append(_load_member(champion, f"run #{champion.id} (champion)", config.champion_weight))
    for run in config.runs.exclude(pk=champion_id).filter(status=TrainingRun.Status.SUCCEEDED).order_by("id"):
        members.append(_load_member(run, f"run #{run.id}", config.run_weight))
    rules = [
        rule_compile(Rule(r.name, r.kind, r.pattern, r.category_id, r.weight, r.priority))
        for r in RuleMapping.objects.filter(dataset=dataset, enabled=True)
    ]
    categories = Category.objects.filter(taxonomy_id=dataset.taxonomy_id).select_related("parent")
    labels = {c.id: (c.name, c.path, c.parent_id or c.id) for c in categories}
    return LoadedEnsemble(key, dataset.id, config, champion_id, members, rules, labels)


def _lock_for(dataset_id: int) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(dataset_id, threading.Lock())


def ensemble_for(dataset: Dataset) -> LoadedEnsemble:
    """The dataset's ensemble as loaded in this process, reloaded when its parts changed."""
    cached = _loaded.get(dataset.id)
    now = time.monotonic()
    if cached and now - _checked_at.get(dataset.id, 0) < CHECK_SECONDS:
        return cached
    key = current_key(dataset)
    _checked_at[dataset.id] = now
    if cached and cached.key == key:
        return cached
    lock = _lock_for(dataset.id)
    if cached and not lock.acquire(blocking=False):
        return cached  # another thread is loading the new one; keep answering with the old
    if not cached:
        lock.acquire()
    try:
        current = _loaded.get(dataset.id)
        if current and current.key == key:
            return current
        try:
            loaded = _load(dataset, key)
        except TrainingError:
            if cached is None:
                raise
            log.exception("dataset %s: keeping the loaded ensemble, the new one failed to load", dataset.id)
            return cached
        _loaded[dataset.id] = loaded
        replaced, cached, current = cached is not None, None, None  # this thread's references dropped
        _settle(replaced=replaced)
        return loaded
    finally:
        lock.release()


def _settle(*, replaced: bool) -> None:
    """Keep the loaded models out of the garbage collector's full collections, as admin_site/wsgi.py does with
    what the site imported: they live until the next swap, and a model is ~100k objects (vocabulary,
    estimators) that every full collection walked, one every few busy requests. A replaced model is freed by
    reference counting once no request holds it; after a swap one full collection also frees any cycles
    among the objects of earlier ones."""
    if replaced:
        gc.unfreeze()
        gc.collect()
    gc.freeze()


def forget_all() -> None:
    """Drop every loaded ensemble (tests; a worker reloads on its next request)."""
    _loaded.clear()
    _checked_at.clear()
    _datasets.clear()
