"""Reads of the training app: the examples of a version, runs and their comparison."""

from dataclasses import dataclass

from django.db import connection

from labeling.models import IN_TRAINING_SET, Content, DatasetVersion
from labeling.selectors.versions import VERSION_SQL
from training.models import Champion, ModelRequirement, TrainingRun

VERSION_TEXTS_SQL = f"""
SELECT s.content_id, s.category_id, s.text_hash, c.text_hash, c.title, c.body
FROM ({VERSION_SQL}) s JOIN labeling_content c ON c.id = s.content_id
WHERE s.status IN ({", ".join(["%s"] * len(IN_TRAINING_SET))})
ORDER BY s.content_id
"""


@dataclass
class TrainingData:
    content_ids: list[int]
    category_ids: list[int]
    titles: list[str]
    bodies: list[str]
    texts_changed_since: int  # contents edited after the version whose old text came from history


def version_training_data(version: DatasetVersion) -> TrainingData:
    """The examples of a version that are in the training set, with their text as it was at that version."""
    data = TrainingData([], [], [], [], 0)
    with connection.cursor() as cursor:
        cursor.execute(VERSION_TEXTS_SQL, [version.dataset_id, version.number, *IN_TRAINING_SET])
        for content_id, category_id, version_hash, current_hash, title, body in cursor.fetchall():
            if version_hash != current_hash:
                title, body = _text_with_hash(content_id, version_hash, (title, body))
                data.texts_changed_since += 1
            data.content_ids.append(content_id)
            data.category_ids.append(category_id)
            data.titles.append(title)
            data.bodies.append(body)
    return data


def _text_with_hash(content_id: int, text_hash: str, current: tuple[str, str]) -> tuple[str, str]:
    """A content's title and body when its text hash was `text_hash` (the current text if history lost it)."""
    old = (
        Content.history.filter(id=content_id, text_hash=text_hash)
        .order_by("-history_date")
        .values_list("title", "body")
        .first()
    )
    return old or current


def dataset_requirement(dataset) -> ModelRequirement:
    requirement, _ = ModelRequirement.objects.get_or_create(dataset=dataset)
    return requirement


def dataset_champion_run(dataset) -> TrainingRun | None:
    champion = Champion.objects.filter(dataset=dataset).select_related("run__version").first()
    return champion.run if champion else None


def dataset_runs(dataset, *, limit: int = 50) -> list[TrainingRun]:
    return list(
        TrainingRun.objects.filter(dataset=dataset)
        .select_related("version", "created_by")
        .defer("metrics")
        .order_by("-created_at")[:limit]
    )


SUMMARY_FIELDS = (
    "id",
    "algorithm",
    "params",
    "fitted_params",
    "folds",
    "holdout_share",
    "status",
    "stage",
    "progress",
    "message",
    "example_count",
    "holdout_count",
    "accuracy",
    "macro_f1",
    "train_seconds",
    "kfold_seconds",
    "model_bytes",
    "latency_p50_ms",
    "latency_p99_ms",
    "artifact_sha256",
    "verdicts",
    "meets_requirements",
)


def run_summary(run: TrainingRun) -> dict:
    """A run as plain data (command-line JSON, API): its figures, verdicts and whether it is the champion."""
    summary = {name: getattr(run, name) for name in SUMMARY_FIELDS}
    champion = Champion.objects.filter(dataset_id=run.dataset_id).values_list("run_id", flat=True).first()
    return summary | {
        "dataset": run.dataset.name,
        "version": run.version.number,
        "created_at": run.created_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "champion": champion == run.id,
    }
