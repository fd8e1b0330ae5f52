"""Classification with a dataset's ensemble: model votes and rules decided, answers explained and logged."""

import hashlib
import random
from dataclasses import dataclass

import numpy as np
import orjson
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.errors import ApplicationError
from labeling.models import Category, Dataset
from training import answers_json
from training.algorithms.text import document
from training.algorithms.word_counts import TextSpans
from training.ensemble import Decisions, MemberScores, Rule, decide
from training.errors import TrainingConflict
from training.models import PredictionLog
from training.services.prediction_log import prediction_log_write
from training.serving import LoadedEnsemble, ensemble_for

MAX_BATCH = 1000
MAX_CHARS = 100_000
VOTE_CLASSES = 10  # classes of each model's vote that reach the decision
JSON_FROM = 16  # texts from which `classify_json` writes the JSON from the arrays (fewer: through the dicts)


@dataclass(frozen=True)
class TextToClassify:
    text: str
    title: str = ""
    source: str = ""


def _members(ensemble: LoadedEnsemble, documents: list[str], spans: TextSpans | None) -> list[MemberScores]:
    """Each model's probabilities for all the texts at once."""
    return [
        MemberScores(
            member.name, member.weight, member.categories, member.model.predict_proba(documents, spans)
        )
        for member in ensemble.members
    ]


def span_chars(ensemble: LoadedEnsemble) -> int:
    """The longest text (title + body, characters) the ensemble may be given as bytes (`TextSpans`); 0 when
    it must see strings (a model that reads strings only, rules that match the text)."""
    if ensemble.rules or not ensemble.members:
        return 0
    return min(MAX_CHARS, *(member.model.span_chars() for member in ensemble.members))


def _fired(ensemble: LoadedEnsemble, items: list[TextToClassify]) -> list[list[Rule]]:
    if not ensemble.rules:
        return [[] for _ in items]
    return [
        [rule.rule for rule in ensemble.rules if rule.fires(f"{item.title}\n{item.text}", item.source)]
        for item in items
    ]


def _first(order: np.ndarray, chosen: np.ndarray, k: int) -> tuple[np.ndarray, list[int]]:
    """Per row, the first k entries of `order` whose `chosen` (in that order) is true, and their number."""
    positions = np.argsort(~chosen, axis=1, kind="stable")[:, :k]
    rows = np.arange(len(order))[:, np.newaxis]
    return order[rows, positions], np.minimum(chosen.sum(axis=1), k).tolist()


@dataclass(frozen=True)
class _Layout:
    """What answers need to know of a decision's columns: which are categories of the taxonomy, and the
    large category of each (kept per ensemble and set of columns)."""

    known: np.ndarray  # per column: its category is in the taxonomy
    large_ids: np.ndarray  # the large categories (ascending ids)
    large_column: np.ndarray  # per column: the index of its large category in `large_ids`
    children: np.ndarray  # columns x large categories: true where the column is a child of it
    keys: np.ndarray  # per column: its category id as JSON (answers_json)
    heads: np.ndarray  # per column: its answer entry's JSON up to the score (answers_json.category_heads)
    large_heads: np.ndarray  # the same per large category


MAX_LAYOUTS = 64  # per ensemble: the models' columns, plus those that rules add


def _layout(ensemble: LoadedEnsemble, ids: np.ndarray) -> _Layout:
    layout = ensemble.layouts.get(key := ids.tobytes())
    if layout is None:
        labels = ensemble.labels
        known = np.array([c in labels for c in ids.tolist()], dtype=bool)
        large_of_column = np.array([labels[c][2] if c in labels else -1 for c in ids.tolist()])
        large_ids, large_column = np.unique(large_of_column, return_inverse=True)
        children = (large_column[:, np.newaxis] == np.arange(len(large_ids))) & known[:, np.newaxis]
        keys = answers_json.objects(answers_json.dumped(ids.tolist()))
        heads = answers_json.category_heads(labels, ids.tolist())
        large_heads = answers_json.category_heads(labels, large_ids.tolist())
        layout = _Layout(known, large_ids, large_column, children, keys, heads, large_heads)
        if len(ensemble.layouts) < MAX_LAYOUTS:
            ensemble.layouts[key] = layout
    return layout


def _top(ensemble: LoadedEnsemble, decisions: Decisions, k: int) -> tuple:
    """Each text's top-k small categories (columns of the decision, categories of the taxonomy only), their
    count, the shares of the total score, and the layout of the decision's columns."""
    layout = _layout(ensemble, decisions.ids)
    voted = decisions.present & layout.known
    rows = np.arange(len(decisions))[:, np.newaxis]
    small, small_counts = _first(decisions.ranked, voted[rows, decisions.ranked], k)
    if 0 in small_counts:
        raise TrainingConflict("The models answer with categories the taxonomy no longer has: retrain them.")
    shares = decisions.scores / decisions.totals[:, np.newaxis]
    return small, small_counts, shares, layout, voted


def _answers(ensemble: LoadedEnsemble, decisions: Decisions, k: int) -> list[dict]:
    """Each text's top-k small categories (its ranking, categories of the taxonomy only) and top-k large
    ones, with the explanation."""
    labels = ensemble.labels  # plain tuples read at load: no model attribute or path property per answer
    small, small_counts, shares, layout, voted = _top(ensemble, decisions, k)
    rows = np.arange(len(decisions))[:, np.newaxis]
    large, large_summed, large_counts = _large(layout, voted, shares, small[:, 0], k)
    large, large_shares = layout.large_ids[large].tolist(), np.round(large_summed, 4).tolist()
    small_ids, small_shares = decisions.ids[small].tolist(), np.round(shares[rows, small], 4).tolist()
    answers = []
    for number, explanation in enumerate(decisions.explanations()):
        top = _categories_json(labels, small_ids[number], small_shares[number], small_counts[number])
        if explanation["rules"]:
            explanation["rules"] = _rules_shown(labels, explanation["rules"])
        answers.append(
            {
                "category": dict(top[0]),
                "top": top,
                "large": _categories_json(labels, large[number], large_shares[number], large_counts[number]),
                "explanation": explanation,
            }
        )
    return answers


def _rules_shown(labels: dict, rules: list[dict]) -> list[dict]:
    """An explanation's fired rules with the path of the category each names."""
    return [r | {"category_path": labels[r["category"]][1] if r["category"] in labels else ""} for r in rules]


def _large(layout: _Layout, voted: np.ndarray, shares: np.ndarray, winners: np.ndarray, k: int) -> tuple:
    """Each text's top-k large categories (indexes into the layout's `large_ids`), the shares of their voted
    small categories summed, and their number; the winner's large category first."""
    summed = (shares * voted) @ layout.children
    rank = np.where(voted @ layout.children, -summed, np.inf)
    rows = np.arange(len(shares))[:, np.newaxis]
    rank[rows[:, 0], layout.large_column[winners]] = -np.inf
    by_rank = np.argsort(rank, axis=1, kind="stable")
    large, counts = _first(by_rank, rank[rows, by_rank] < np.inf, k)
    return large, summed[rows, large], counts


def _categories_json(labels: dict, categories: list[int], shares: list[float], count: int) -> list[dict]:
    return [
        {"id": category, "name": name, "path": path, "score": share}
        for category, (name, path, _), share in zip(
            categories[:count], map(labels.__getitem__, categories[:count]), shares[:count], strict=True
        )
    ]


def _check(items: list[TextToClassify]) -> None:
    if not items:
        raise ApplicationError("Send at least one text.")
    if len(items) > MAX_BATCH:
        raise ApplicationError(f"At most {MAX_BATCH} texts per request, not {len(items)}.")
    for number, item in enumerate(items, 1):
        if not (item.text or "").strip() and not (item.title or "").strip():
            raise ApplicationError(f"Text {number} is empty.")
        if len(item.text or "") + len(item.title or "") > MAX_CHARS:
            raise ApplicationError(f"Text {number} is longer than {MAX_CHARS} characters.")


def classify(
    *, dataset: Dataset, items: list[TextToClassify], k: int = 3, user=None, log: bool = True
) -> list[dict]:
    """Answers in the order of `items`, each with top-k small and large categories and its explanation;
    logged unless `log` is false."""
    ensemble = _serving(dataset, items)
    answers = ensemble_answers(ensemble, items, k)
    if log:
        categories = [answer["category"] for answer in answers]
        ids = _log(
            dataset,
            ensemble,
            items,
            [category["id"] for category in categories],
            [category["score"] for category in categories],
            [answer["explanation"] for answer in answers],
            user,
        )
        for answer, row_id in zip(answers, ids, strict=True):
            answer["prediction_id"] = row_id
    return answers


def classify_json(*, dataset: Dataset, items: list[TextToClassify], k: int = 3, user=None) -> bytes:
    """`classify()`'s answers, logged, as the API's JSON `{"results": [...]}` (the same bytes as orjson
    writes for them): for a batch, written from the decision's arrays without the answers' dicts."""
    if len(items) < JSON_FROM:
        return orjson.dumps({"results": classify(dataset=dataset, items=items, k=k, user=user)})
    ensemble = _serving(dataset, items)
    decisions = _decisions(ensemble, items)
    small, small_counts, shares, layout, voted = _top(ensemble, decisions, k)
    large, large_summed, large_counts = _large(layout, voted, shares, small[:, 0], k)
    rows = np.arange(len(decisions))[:, np.newaxis]
    small_shares = shares[rows, small]
    rules = [
        orjson.dumps(_rules_shown(ensemble.labels, decisions.rules_explained(number))) if fired else b"[]"
        for number, fired in enumerate(decisions.fired)
    ]
    explanations = answers_json.explanations_json(decisions, layout.keys, rules)
    categories = decisions.ids[small[:, 0]].tolist()
    scores = np.round(small_shares[:, 0], 4).tolist()
    return answers_json.answers_json(
        heads=layout.heads,
        small=small,
        small_scores=answers_json.floats(small_shares),
        small_counts=small_counts,
        large_heads=layout.large_heads,
        large=large,
        large_scores=answers_json.floats(large_summed),
        large_counts=large_counts,
        explanations=explanations,
        prediction_ids=_log(dataset, ensemble, items, categories, scores, explanations, user),
    )


def _serving(dataset: Dataset, items: list[TextToClassify]) -> LoadedEnsemble:
    """The dataset's ensemble, once the texts are checked."""
    _check(items)
    ensemble = ensemble_for(dataset)
    if not ensemble.members and not ensemble.rules:
        raise TrainingConflict(
            f"Dataset {dataset.name} has no champion and no rules yet: train a model first."
        )
    return ensemble


def _decisions(
    ensemble: LoadedEnsemble, items: list[TextToClassify], spans: TextSpans | None = None
) -> Decisions:
    documents = [document(item.title, item.text) for item in items]
    config = ensemble.config
    return decide(
        _members(ensemble, documents, spans),
        _fired(ensemble, items),
        rule_weight=config.rule_weight,
        unanimous_models_win=config.unanimous_models_win,
        min_models=config.min_models_for_unanimity,
        vote_classes=VOTE_CLASSES,
    )


def ensemble_answers(ensemble: LoadedEnsemble, items: list[TextToClassify], k: int) -> list[dict]:
    """`classify`'s answers from an ensemble already loaded (no database)."""
    return _answers(ensemble, _decisions(ensemble, items), k)


def ensemble_top(
    ensemble: LoadedEnsemble, items: list[TextToClassify], k: int, spans: TextSpans | None = None
) -> list[tuple[list, list]]:
    """Only the answers' top-k small categories, as (ids, scores) per text, without explanations or large
    categories (bulk classification: the same figures as `ensemble_answers`' `top`, at a fraction of the
    cost). The texts `spans` gives are read from their bytes (up to `span_chars(ensemble)` long)."""
    decisions = _decisions(ensemble, items, spans)
    small, counts, shares, _, _ = _top(ensemble, decisions, k)
    rows = np.arange(len(decisions))[:, np.newaxis]
    ids, scores = decisions.ids[small].tolist(), np.round(shares[rows, small], 4).tolist()
    return [(ids[n][:count], scores[n][:count]) for n, count in enumerate(counts)]


def _log(
    dataset: Dataset,
    ensemble: LoadedEnsemble,
    items,
    categories: list,
    scores: list,
    explanations: list,
    user,
) -> list[int | None]:
    """Each answer logged (a PREDICTION_LOG_SAMPLE share of them), given its category id, score and
    explanation (a dict, or its JSON); each answer's row id, None where not logged."""
    share = settings.PREDICTION_LOG_SAMPLE
    logged = range(len(items)) if share >= 1 else [n for n in range(len(items)) if random.random() < share]
    now, cut, sha1 = timezone.now(), settings.PREDICTION_LOG_EXCERPT, hashlib.sha1
    dataset_id, champion_id, version = dataset.id, ensemble.champion_id, ensemble.config.version
    user_id = user.pk if user and user.is_authenticated else None
    chosen = items if share >= 1 else [items[number] for number in logged]
    texts = [f"{item.title}\n{item.text}" if item.title else item.text for item in chosen]
    rows = [
        (
            dataset_id,
            now,
            sha1(text.encode("utf-8")).hexdigest(),
            text[:cut],
            categories[number],
            scores[number],
            explanations[number],
            champion_id,
            version,
            user_id,
        )
        for number, text in zip(logged, texts, strict=True)
    ]
    ids: list[int | None] = [None] * len(items)
    for number, row_id in zip(logged, prediction_log_write(rows), strict=True):
        ids[number] = row_id
    return ids


@transaction.atomic
def prediction_feedback(
    *, prediction: PredictionLog, user, correct: bool, right_category: Category | None = None
):
    """A reviewer says whether a logged answer was right (and, when wrong, what was)."""
    if right_category is not None:
        if right_category.taxonomy_id != prediction.dataset.taxonomy_id or right_category.is_large:
            raise ApplicationError("The right category must be a small category of the dataset's taxonomy.")
        correct = right_category.id == prediction.category_id
    elif not correct:
        raise ApplicationError("Say which category was right when the answer was wrong.")
    prediction.correct = correct
    prediction.right_category = right_category or prediction.category
    prediction.reviewed_by, prediction.reviewed_at = user, timezone.now()
    prediction.save(update_fields=["correct", "right_category", "reviewed_by", "reviewed_at"])
    return prediction
