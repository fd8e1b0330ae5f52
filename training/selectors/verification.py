"""Reads for label verification: category health, confusion, suspicious labels, suggestions, comparisons."""

from dataclasses import dataclass, field

import numpy as np
from django.db.models import Count, Exists, F, OuterRef, Q

from labeling.models import IN_TRAINING_SET, Category, Example
from labeling.services.claims import claimed_by_others
from training.models import ChampionChange, LabelReview, OutOfFoldPrediction, TrainingRun

GOOD, FAIR = 0.9, 0.7  # training-set accuracy (out of fold) of a healthy / tolerable category
LOW_F1 = 0.5


@dataclass
class CategoryHealth:
    category: Category
    examples: int = 0
    misclassified: int = 0
    likely_errors: int = 0
    precision: float | None = None
    recall: float | None = None
    f1: float | None = None
    support: int = 0
    real_accuracy: float | None = None
    real_reviews: int = 0
    flagged: int = 0
    below_minimum: bool = False

    @property
    def training_accuracy(self) -> float | None:
        return 1 - self.misclassified / self.examples if self.examples else None

    @property
    def health(self) -> str:
        accuracy = self.training_accuracy
        if accuracy is None:
            return "unknown"
        return "good" if accuracy >= GOOD else "fair" if accuracy >= FAIR else "poor"


def real_prediction_accuracy(dataset) -> dict[int, tuple[float, int]]:
    """Per predicted category: share of reviewed API answers that were right, and how many were reviewed."""
    from training.models import PredictionLog

    reviewed = (
        PredictionLog.objects.filter(dataset=dataset, correct__isnull=False)
        .values("category_id")
        .annotate(n=Count("id"), right=Count("id", filter=Q(correct=True)))
    )
    return {row["category_id"]: (row["right"] / row["n"], row["n"]) for row in reviewed}


def category_health(run: TrainingRun) -> list[CategoryHealth]:
    """Every active small category against the run's out-of-fold predictions, worst first."""
    dataset = run.dataset
    rows = {
        category: CategoryHealth(category)
        for category in Category.objects.filter(
            taxonomy_id=dataset.taxonomy_id, level=Category.Level.SMALL, status=Category.Status.ACTIVE
        ).select_related("parent")
    }
    by_id = {category.id: row for category, row in rows.items()}
    counts = (
        OutOfFoldPrediction.objects.filter(run=run)
        .values("given_id")
        .annotate(
            n=Count("id"),
            wrong=Count("id", filter=~Q(predicted_id=F("given_id"))),
            likely=Count("id", filter=Q(likely_error=True)),
        )
    )
    for count in counts:
        row = by_id.get(count["given_id"])
        if row:
            row.examples, row.misclassified, row.likely_errors = count["n"], count["wrong"], count["likely"]
    for key, figures in run.metrics.get("per_category", {}).items():
        row = by_id.get(int(key))
        if row:
            row.precision, row.recall, row.f1 = figures["precision"], figures["recall"], figures["f1"]
            row.support = figures["support"]
    flagged = Example.objects.filter(dataset=dataset, status=Example.Status.NEEDS_REVIEW)
    for count in flagged.values("category_id").annotate(n=Count("id")):
        if count["category_id"] in by_id:
            by_id[count["category_id"]].flagged = count["n"]
    for category_id, (accuracy, reviews) in real_prediction_accuracy(dataset).items():
        if category_id in by_id:
            by_id[category_id].real_accuracy, by_id[category_id].real_reviews = accuracy, reviews
    for row in by_id.values():
        row.below_minimum = row.examples < dataset.min_examples_per_category
    unknown = 2.0
    return sorted(
        by_id.values(),
        key=lambda r: (
            r.training_accuracy if r.training_accuracy is not None else unknown,
            -r.examples,
            r.category.path,
        ),
    )


@dataclass
class Confusion:
    labels: list[Category]
    counts: np.ndarray  # rows: given, columns: predicted

    @property
    def normalised(self) -> np.ndarray:
        totals = self.counts.sum(axis=1, keepdims=True)
        return np.divide(self.counts, totals, out=np.zeros(self.counts.shape), where=totals > 0)

    def pairs(self, limit: int = 15) -> list[tuple[Category, Category, int, float]]:
        """The most confused (given, predicted) pairs: count and share of the given category's examples."""
        off = self.counts.copy()
        np.fill_diagonal(off, 0)
        order = np.dstack(np.unravel_index(np.argsort(-off, axis=None), off.shape))[0][:limit]
        share = self.normalised
        return [
            (self.labels[a], self.labels[b], int(off[a, b]), float(share[a, b]))
            for a, b in order
            if off[a, b]
        ]


def run_confusion_oof(run: TrainingRun, *, level: int = Category.Level.SMALL) -> Confusion:
    """Confusion of the out-of-fold predictions (every example), at small- or large-category level."""
    cells = (
        OutOfFoldPrediction.objects.filter(run=run)
        .values_list("given_id", "predicted_id")
        .annotate(n=Count("id"))
    )
    cells = list(cells.order_by())
    categories = Category.objects.select_related("parent").in_bulk({c for a, b, _ in cells for c in (a, b)})

    def key(category_id: int) -> Category:
        category = categories[category_id]
        return category.parent if level == Category.Level.LARGE and category.parent else category

    labels = sorted({key(c) for a, b, _ in cells for c in (a, b)}, key=lambda c: c.path)
    index = {category.id: i for i, category in enumerate(labels)}
    counts = np.zeros((len(labels), len(labels)), dtype=np.int64)
    for given, predicted, n in cells:
        counts[index[key(given).id], index[key(predicted).id]] += n
    return Confusion(labels, counts)


@dataclass
class MergeSuggestion:
    first: Category
    second: Category
    confused: int  # examples of either predicted as the other
    share: float  # of the smaller category


@dataclass
class ExcludeSuggestion:
    category: Category
    reasons: list[str] = field(default_factory=list)


def merge_suggestions(confusion: Confusion, *, limit: int = 10) -> list[MergeSuggestion]:
    """Pairs holding the most confusion mass, relative to the smaller of the two."""
    sizes = confusion.counts.sum(axis=1)
    found = []
    for a in range(len(confusion.labels)):
        for b in range(a + 1, len(confusion.labels)):
            mass = int(confusion.counts[a, b] + confusion.counts[b, a])
            smaller = min(sizes[a], sizes[b])
            if mass and smaller:
                found.append(MergeSuggestion(confusion.labels[a], confusion.labels[b], mass, mass / smaller))
    return sorted(found, key=lambda s: (-s.share, -s.confused))[:limit]


def exclude_suggestions(health: list[CategoryHealth], minimum: int) -> list[ExcludeSuggestion]:
    """Categories below the minimum or with a low held-out F1: to exclude, or to merge into a neighbour."""
    found = []
    for row in health:
        suggestion = ExcludeSuggestion(row.category)
        if row.below_minimum:
            suggestion.reasons.append(f"{row.examples} examples, below the minimum of {minimum}")
        if row.f1 is not None and row.support and row.f1 < LOW_F1:
            suggestion.reasons.append(f"held-out F1 {row.f1:.2f}")
        if suggestion.reasons:
            found.append(suggestion)
    return found


def _reviewed_since(run: TrainingRun):
    return LabelReview.objects.filter(
        dataset_id=run.dataset_id, content_id=OuterRef("content_id"), created_at__gte=run.version.created_at
    )


def suspicious_predictions(run: TrainingRun, *, given=None, predicted=None, only_doubted: bool = True):
    """Out-of-fold predictions, most suspicious label first, with the example as it is now."""
    rows = OutOfFoldPrediction.objects.filter(run=run).select_related("content", "given", "predicted")
    if given is not None:
        rows = rows.filter(given=given)
    if predicted is not None:
        rows = rows.filter(predicted=predicted)
    if only_doubted:
        rows = rows.filter(Q(likely_error=True) | Q(label_quality__lt=0))
    return rows.annotate(reviewed=Exists(_reviewed_since(run))).order_by("label_quality", "id")


def review_queue(run: TrainingRun, user):
    """The doubted examples nobody reviewed since the run's version, still labelled as the run saw them."""
    current = Example.objects.filter(
        dataset_id=run.dataset_id,
        content_id=OuterRef("content_id"),
        category_id=OuterRef("given_id"),
        status__in=IN_TRAINING_SET,
    )
    claimed = claimed_by_others(run.dataset_id, user, "content_id")
    return (
        suspicious_predictions(run)
        .filter(Exists(current))
        .exclude(Exists(_reviewed_since(run)))
        .exclude(claimed)
    )


@dataclass
class CategoryChange:
    category: Category
    before_f1: float | None
    after_f1: float | None
    before_misclassified: int | None
    after_misclassified: int | None

    @property
    def f1_change(self) -> float | None:
        if self.before_f1 is None or self.after_f1 is None:
            return None
        return self.after_f1 - self.before_f1


def previous_champion(dataset) -> TrainingRun | None:
    """The champion before the current one (what the last promotion replaced)."""
    change = (
        ChampionChange.objects.filter(dataset=dataset)
        .exclude(run=None)
        .select_related("previous_run")
        .first()
    )
    return change.previous_run if change else None


def runs_category_changes(before: list[CategoryHealth], after: list[CategoryHealth]) -> list[CategoryChange]:
    """How each category's held-out F1 and out-of-fold misclassifications moved between two runs (their
    `category_health` rows)."""
    old = {row.category.id: row for row in before}
    new = {row.category.id: row for row in after}
    changes = []
    for category_id, row in new.items():
        was = old.get(category_id)
        changes.append(
            CategoryChange(
                row.category,
                was.f1 if was else None,
                row.f1,
                was.misclassified if was and was.examples else None,
                row.misclassified if row.examples else None,
            )
        )
    return sorted(changes, key=lambda c: c.f1_change if c.f1_change is not None else 0)
