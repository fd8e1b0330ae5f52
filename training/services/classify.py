"""Classification with a dataset's ensemble: model votes and rules decided, answers explained and logged."""

import hashlib
import random
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.db import connections, transaction
from django.utils import timezone

from labeling.errors import LabelingError
from labeling.models import Category, Dataset
from training.algorithms.text import document
from training.ensemble import ModelVote, decide
from training.errors import TrainingError
from training.models import PredictionLog
from training.serving import LoadedEnsemble, ensemble_for

MAX_BATCH = 1000
MAX_CHARS = 100_000
VOTE_CLASSES = 10  # classes of each model's vote that reach the decision


@dataclass(frozen=True)
class TextToClassify:
    text: str
    title: str = ""
    source: str = ""


def _votes(ensemble: LoadedEnsemble, documents: list[str]) -> list[list[ModelVote]]:
    per_text: list[list[ModelVote]] = [[] for _ in documents]
    for member in ensemble.members:
        probabilities = member.model.predict_proba(documents)
        best = np.argsort(-probabilities, axis=1)[:, :VOTE_CLASSES]
        classes = [int(name) for name in member.model.classes]
        for i, columns in enumerate(best):
            chosen = {classes[j]: float(probabilities[i, j]) for j in columns}
            per_text[i].append(ModelVote(member.name, member.weight, chosen))
    return per_text


def _category_json(category: Category, score: float) -> dict:
    return {"id": category.id, "name": category.name, "path": category.path, "score": round(score, 4)}


def _answer(ensemble: LoadedEnsemble, decision, k: int) -> dict:
    known = ensemble.categories
    small = [(known[c], s) for c, s in decision.ranking if c in known]
    large: dict[int, float] = {}
    for category, score in small:
        parent = category.parent or category
        large[parent.id] = large.get(parent.id, 0.0) + score
    large_ranked = sorted(large.items(), key=lambda kv: -kv[1])
    winner_parent = (known[decision.winner].parent or known[decision.winner]).id
    large_ranked.sort(key=lambda kv: kv[0] != winner_parent)  # the winner's large category first
    explanation = dict(decision.explanation)
    names = {c.id: c.path for c, _ in small}
    explanation["rules"] = [r | {"category_path": names.get(r["category"], "")} for r in explanation["rules"]]
    return {
        "category": _category_json(*small[0]),
        "top": [_category_json(c, s) for c, s in small[:k]],
        "large": [_category_json(known[c], s) for c, s in large_ranked[:k]],
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
    votes = _votes(ensemble, documents)
    config = ensemble.config
    answers = []
    for item, text_votes in zip(items, votes, strict=True):
        fired = [
            rule.rule for rule in ensemble.rules if rule.fires(f"{item.title}\n{item.text}", item.source)
        ]
        decision = decide(
            text_votes,
            fired,
            rule_weight=config.rule_weight,
            unanimous_models_win=config.unanimous_models_win,
            min_models=config.min_models_for_unanimity,
        )
        answers.append(_answer(ensemble, decision, k))
    _log(dataset, ensemble, items, answers, user)
    return answers


def _log(dataset: Dataset, ensemble: LoadedEnsemble, items, answers: list[dict], user) -> None:
    share = settings.PREDICTION_LOG_SAMPLE
    rows = []
    for item, answer in zip(items, answers, strict=True):
        if share < 1 and random.random() >= share:
            answer["prediction_id"] = None
            continue
        text = f"{item.title}\n{item.text}" if item.title else item.text
        rows.append(
            PredictionLog(
                dataset=dataset,
                input_hash=hashlib.sha1(text.encode("utf-8")).hexdigest(),
                excerpt=text[: settings.PREDICTION_LOG_EXCERPT],
                category_id=answer["category"]["id"],
                score=answer["category"]["score"],
                explanation=answer["explanation"],
                champion_run_id=ensemble.champion_id,
                ensemble_version=ensemble.config.version,
                requested_by=user if user and user.is_authenticated else None,
            )
        )
        answer["_row"] = rows[-1]
    _insert(rows)
    for answer in answers:
        row = answer.pop("_row", None)
        if row is not None:
            answer["prediction_id"] = row.id


def _insert(rows: list[PredictionLog]) -> None:
    """Write the log rows (their ids set), as bulk_create would, in one round trip for one answer and two for
    a batch. Django's bulk_create costs three round trips (BEGIN, INSERT, COMMIT), and on PostgreSQL writes
    a batch as arrays whose every text psycopg escapes in Python: more time than the answers themselves."""
    if not rows:
        return
    db = connections[PredictionLog.objects.db]  # the connection itself: each access through the proxy costs
    if db.vendor != "postgresql":
        PredictionLog.objects.bulk_create(rows)
        return
    fields = [f for f in PredictionLog._meta.concrete_fields if not f.primary_key]
    table, quote = PredictionLog._meta.db_table, db.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    values = [[f.get_db_prep_save(f.pre_save(row, True), db) for f in fields] for row in rows]
    with db.cursor() as cursor:
        if len(rows) == 1:
            placeholders = ", ".join(["%s"] * len(fields))
            cursor.execute(f"INSERT INTO {table} ({columns}) VALUES ({placeholders}) RETURNING id", values[0])
            rows[0].id = cursor.fetchone()[0]
            return
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, len(rows)]
        )
        ids = [found for (found,) in cursor.fetchall()]
        with cursor.cursor.copy(f"COPY {table} (id, {columns}) FROM STDIN") as copy:
            for row, row_id, row_values in zip(rows, ids, values, strict=True):
                copy.write_row([row_id, *row_values])
                row.id = row_id


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
