"""Acting on what the champion doubts: review decisions, merging and excluding categories, retraining."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from core.errors import ApplicationError
from core.history import save_with_history
from labeling.models import IN_TRAINING_SET, Category, Changeset, Content, Dataset, Example
from labeling.services.bulk import examples_apply
from labeling.services.claims import claim_check, claim_release
from labeling.services.locks import dataset_lock_exclusive, dataset_lock_shared
from labeling.services.versions import changeset_apply, changeset_open
from training.models import LabelReview, TrainingRun
from training.selectors import dataset_champion_run

SESSION = timedelta(hours=2)


def _review_session(dataset: Dataset, run: TrainingRun, user) -> Changeset:
    """The user's open review changeset for this run (one per sitting), or a new one after a version."""
    recent = Changeset.objects.filter(
        dataset=dataset,
        kind=Changeset.Kind.REVIEW,
        user=user,
        details__run=run.id,
        created_at__gte=timezone.now() - SESSION,
    ).first()
    return recent or changeset_open(
        dataset=dataset,
        kind=Changeset.Kind.REVIEW,
        user=user,
        reason=f"label review of examples run #{run.id} doubted",
        details={"run": run.id},
    )


def _small_category(dataset: Dataset, category: Category | None) -> Category:
    if category is None or category.taxonomy_id != dataset.taxonomy_id or category.is_large:
        raise ApplicationError("Choose a small category of this dataset's taxonomy.")
    if category.status != Category.Status.ACTIVE:
        raise ApplicationError(f"{category.path} is {category.status}; choose an active category.")
    return category


@transaction.atomic
def review_decide(
    *, run: TrainingRun, content: Content, decision: str, user, category: Category | None = None
) -> LabelReview:
    """Keep, relabel or exclude a doubted example; the change joins the user's review changeset."""
    dataset = run.dataset
    claim_check(dataset=dataset, content_id=content.id, user=user)
    changeset = _review_session(dataset, run, user)  # first: it may commit a version (the exclusive lock)
    dataset_lock_shared(dataset.id)
    example = Example.objects.select_for_update().filter(dataset=dataset, content=content).first()
    if example is None or example.status not in IN_TRAINING_SET:
        raise ApplicationError("This example left the training set meanwhile; take the next one.")
    if decision not in LabelReview.Decision.values:
        raise ApplicationError(f"Unknown decision {decision!r}.")
    given = example.category
    if decision == LabelReview.Decision.RELABEL:
        category = _small_category(dataset, category)
        if category.id == given.id:
            decision, category = LabelReview.Decision.KEEP, None
    target = {
        LabelReview.Decision.KEEP: (given.id, Example.Status.ACTIVE),
        LabelReview.Decision.RELABEL: (category.id if category else None, Example.Status.ACTIVE),
        LabelReview.Decision.EXCLUDE: (given.id, Example.Status.EXCLUDED),
    }[decision]
    counts = examples_apply(
        dataset=dataset, targets={content.id: target}, changeset=changeset, user=user, reason=changeset.reason
    )
    changeset.relabelled += counts.relabelled
    changeset.status_changed += counts.status_changed
    changeset.save(update_fields=["relabelled", "status_changed"])
    claim_release(dataset=dataset, content_id=content.id)
    return LabelReview.objects.create(
        dataset=dataset,
        run=run,
        content=content,
        decision=decision,
        given=given,
        chosen=category,
        changeset=changeset,
        user=user,
    )


def _still_used_elsewhere(category: Category, dataset: Dataset) -> bool:
    return (
        Example.objects.filter(category=category, status__in=IN_TRAINING_SET)
        .exclude(dataset=dataset)
        .exists()
    )


def _retire(changeset: Changeset, category: Category, *, status: str, into, user) -> None:
    """Mark the category merged/excluded (recorded in the changeset's details), unless another dataset still
    trains on it."""
    retired = not _still_used_elsewhere(category, changeset.dataset)
    if retired:
        category.status, category.merged_into = status, into
        save_with_history(category, user=user, reason=changeset.reason, changeset=changeset)
    changeset.details["category_retired"] = retired
    changeset.save(update_fields=["details"])


@transaction.atomic
def category_merge(*, dataset: Dataset, source: Category, target: Category, user, reason: str) -> Changeset:
    """Relabel every example of `source` as `target` (one changeset after a version); `source` is merged."""
    source, target = _small_category(dataset, source), _small_category(dataset, target)
    if source.id == target.id:
        raise ApplicationError("Merge a category into another one.")
    dataset_lock_exclusive(dataset.id)  # the examples read below are the ones merged: no save in between
    rows = Example.objects.filter(dataset=dataset, category=source).exclude(status=Example.Status.REMOVED)
    changeset = changeset_open(
        dataset=dataset,
        kind=Changeset.Kind.MERGE,
        user=user,
        reason=f"merge {source.path} into {target.path}: {reason.strip()}" if reason.strip() else "",
        details={"source": source.id, "target": target.id},
    )
    changeset_apply(
        changeset, {c: (target.id, s) for c, s in rows.values_list("content_id", "status")}, user=user
    )
    _retire(changeset, source, status=Category.Status.MERGED, into=target, user=user)
    return changeset


@transaction.atomic
def category_exclude(*, dataset: Dataset, category: Category, user, reason: str) -> Changeset:
    """Take every example of `category` out of the training set (status excluded), as one changeset."""
    category = _small_category(dataset, category)
    dataset_lock_exclusive(dataset.id)
    rows = Example.objects.filter(dataset=dataset, category=category, status__in=IN_TRAINING_SET)
    changeset = changeset_open(
        dataset=dataset,
        kind=Changeset.Kind.EXCLUDE,
        user=user,
        reason=f"exclude {category.path}: {reason.strip()}" if reason.strip() else "",
        details={"category": category.id},
    )
    targets = {
        content: (category.id, Example.Status.EXCLUDED)
        for content in rows.values_list("content_id", flat=True)
    }
    changeset_apply(changeset, targets, user=user)
    _retire(changeset, category, status=Category.Status.EXCLUDED, into=None, user=user)
    return changeset


def dataset_retrain(*, dataset: Dataset, user) -> TrainingRun:
    """One click after a fix: train again like the champion (the default algorithm without one)."""
    from training.services.runs import run_start

    champion = dataset_champion_run(dataset)
    if champion is None:
        return run_start(dataset=dataset, user=user, algorithm="tfidf-svm")
    return run_start(
        dataset=dataset,
        user=user,
        algorithm=champion.algorithm,
        params=champion.params,
        folds=champion.folds or 5,
    )
