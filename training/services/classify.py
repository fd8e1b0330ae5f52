"""Classification with a dataset's ensemble: model votes and rules decided, answers explained and logged."""

import hashlib
import random
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from labeling.errors import LabelingError
from labeling.models import Category, Dataset
from training.algorithms.text import document
from training.ensemble import MemberScores, Rule, decide
from training.errors import TrainingError
from training.models import PredictionLog
from training.services.prediction_log import prediction_log_write
from training.serving import LoadedEnsemble, ensemble_for

MAX_BATCH = 1000
MAX_CHARS = 100_000
VOTE_CLASSES = 10  # classes of each model's vote that reach the decision


@dataclass(frozen=True)
class TextToClassify:
    text: str
    title: str = ""
    source: str = ""


def _members(ensemble: LoadedEnsemble, documents: list[str]) -> list[MemberScores]:
    """Each model's probabilities for all the texts at once."""
    return [
        MemberScores(member.name, member.weight, member.categories, member.model.predict_proba(documents))
        for member in ensemble.members
    ]


def _fired(ensemble: LoadedEnsemble, items: list[TextToClassify]) -> list[list[Rule]]:
    if not ensemble.rules:
        return [[] for _ in items]
    return [
        [rule.rule for rule in ensemble.rules if rule.fires(f"{item.title}\n{item.text}", item.source)]
        for item in items
    ]


def _category_json(labels: dict, category: int, score: float) -> dict:
    name, path, _ = labels[category]
    return {"id": category, "name": name, "path": path, "score": round(score, 4)}


def _answer(ensemble: LoadedEnsemble, decision, k: int) -> dict:
    labels = ensemble.labels  # plain tuples read at load: no model attribute or path property per answer
    small = [(c, s) for c, s in decision.ranking if c in labels]
    large: dict[int, float] = {}
    for category, score in small:
        parent = labels[category][2]
        large[parent] = large.get(parent, 0.0) + score
    large_ranked = sorted(large.items(), key=lambda kv: -kv[1])
    winner_parent = labels[decision.winner][2]
    large_ranked.sort(key=lambda kv: kv[0] != winner_parent)  # the winner's large category first
    explanation = dict(decision.explanation)
    explanation["rules"] = [
        r | {"category_path": labels[r["category"]][1] if r["category"] in labels else ""}
        for r in explanation["rules"]
    ]
    return {
        "category": _category_json(labels, *small[0]),
        "top": [_category_json(labels, c, s) for c, s in small[:k]],
        "large": [_category_json(labels, c, s) for c, s in large_ranked[:k]],
        "explanation": explanation,
    }


def _check(items: list[TextToClassify]) -> None:
    if not items:
        raise LabelingError("Send at least one text.")
    if len(items) > MAX_BATCH:
        raise LabelingError(f"At most {MAX_BATCH} texts per request, not {len(items)}.")
    for number, item in enumerate(items, 1):
        if not (item.text or "").strip() and not (item.title or "").strip():
            raise LabelingError(f"Text {number} is empty.")
        if len(item.text or "") + len(item.title or "") > MAX_CHARS:
            raise LabelingError(f"Text {number} is longer than {MAX_CHARS} characters.")


def classify(*, dataset: Dataset, items: list[TextToClassify], k: int = 3, user=None) -> list[dict]:
    """Answers in the order of `items`, each with top-k small and large categories and its explanation."""
    _check(items)
    ensemble = ensemble_for(dataset)
    if not ensemble.members and not ensemble.rules:
        raise TrainingError(f"Dataset {dataset.name} has no champion and no rules yet: train a model first.")
    documents = [document(item.title, item.text) for item in items]
    config = ensemble.config
    decisions = decide(
        _members(ensemble, documents),
        _fired(ensemble, items),
        rule_weight=config.rule_weight,
        unanimous_models_win=config.unanimous_models_win,
        min_models=config.min_models_for_unanimity,
        vote_classes=VOTE_CLASSES,
    )
    answers = [_answer(ensemble, decision, k) for decision in decisions]
    _log(dataset, ensemble, items, answers, user)
    return answers


def _log(dataset: Dataset, ensemble: LoadedEnsemble, items, answers: list[dict], user) -> None:
    share = settings.PREDICTION_LOG_SAMPLE
    now, cut = timezone.now(), settings.PREDICTION_LOG_EXCERPT
    user_id = user.pk if user and user.is_authenticated else None
    rows, logged = [], []
    for item, answer in zip(items, answers, strict=True):
        if share < 1 and random.random() >= share:
            answer["prediction_id"] = None
            continue
        text = f"{item.title}\n{item.text}" if item.title else item.text
        category = answer["category"]
        rows.append(
            (
                dataset.id,
                now,
                hashlib.sha1(text.encode("utf-8")).hexdigest(),
                text[:cut],
                category["id"],
                category["score"],
                answer["explanation"],
                ensemble.champion_id,
                ensemble.config.version,
                user_id,
            )
        )
        logged.append(answer)
    for answer, row_id in zip(logged, prediction_log_write(rows), strict=True):
        answer["prediction_id"] = row_id


@transaction.atomic
def prediction_feedback(
    *, prediction: PredictionLog, user, correct: bool, right_category: Category | None = None
):
    """A reviewer says whether a logged answer was right (and, when wrong, what was)."""
    if right_category is not None:
        if right_category.taxonomy_id != prediction.dataset.taxonomy_id or right_category.is_large:
            raise LabelingError("The right category must be a small category of the dataset's taxonomy.")
        correct = right_category.id == prediction.category_id
    elif not correct:
        raise LabelingError("Say which category was right when the answer was wrong.")
    prediction.correct = correct
    prediction.right_category = right_category or prediction.category
    prediction.reviewed_by, prediction.reviewed_at = user, timezone.now()
    prediction.save(update_fields=["correct", "right_category", "reviewed_by", "reviewed_at"])
    return prediction
