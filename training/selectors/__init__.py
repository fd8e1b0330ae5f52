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
    "refit_all",
    "served_rows",
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


@dataclass
class RunRow:
    run: TrainingRun
    verdicts: list[dict | None]  # aligned with the comparison's requirement columns
    is_champion: bool


def runs_comparison(dataset, runs: list[TrainingRun]) -> tuple[list[str], list[RunRow]]:
    """Runs side by side: one column per requirement any of them was judged on, a pass/fail cell per run."""
    champion = Champion.objects.filter(dataset=dataset).values_list("run_id", flat=True).first()
    columns: list[str] = []
    for run in runs:
        for verdict in run.verdicts:
            if verdict["requirement"] not in columns:
                columns.append(verdict["requirement"])
    rows = []
    for run in runs:
        by_name = {verdict["requirement"]: verdict for verdict in run.verdicts}
        rows.append(RunRow(run, [by_name.get(name) for name in columns], run.id == champion))
    return columns, rows


@dataclass
class CategoryFigures:
    category: object
    precision: float
    recall: float
    f1: float
    support: int


def run_category_figures(run: TrainingRun) -> list[CategoryFigures]:
    """Held-out precision / recall / F1 / support of every category, worst F1 first."""
    from labeling.models import Category

    per_category = run.metrics.get("per_category", {})
    categories = Category.objects.select_related("parent").in_bulk([int(key) for key in per_category])
    rows = [
        CategoryFigures(categories.get(int(key)), row["precision"], row["recall"], row["f1"], row["support"])
        for key, row in per_category.items()
    ]
    return sorted(rows, key=lambda row: (row.f1, -row.support))


def run_confusion(run: TrainingRun) -> tuple[list, list[list[int]]]:
    """The held-out confusion matrix with category objects as labels (rows: given, columns: predicted)."""
    from labeling.models import Category

    confusion = run.metrics.get("confusion") or {"labels": [], "matrix": []}
    categories = Category.objects.in_bulk([int(label) for label in confusion["labels"]])
    return [categories.get(int(label)) for label in confusion["labels"]], confusion["matrix"]
