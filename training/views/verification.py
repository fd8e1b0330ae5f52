"""Verification pages: category health, confusion, doubted labels, review queue, merge / exclude, retrain."""

from functools import wraps
from urllib.parse import urlencode

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import F
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from core import roles
from core.errors import ApplicationError
from core.paging import capped_count
from core.params import number_param
from labeling.models import Category, Content, Dataset
from labeling.selectors import dataset_or_404
from labeling.services.claims import claim_held, claim_next, claim_release, claims_expire
from training import figures
from training.models import OutOfFoldPrediction, TrainingRun
from training.selectors import dataset_champion_run
from training.selectors import verification as checks
from training.services.verification import category_exclude, category_merge, dataset_retrain, review_decide

PAGE_SIZE = 50
REVIEW_COUNT_CAP = 1_000  # counted per shown item: past it the page says 1,000+


def _run(request, dataset: Dataset) -> TrainingRun | None:
    """The run named by ?run=, else the champion (None: nothing to verify against yet)."""
    run_id = number_param(request.GET, "run")
    if run_id is None:
        run_id = number_param(request.POST, "run")
    if run_id is not None:
        return get_object_or_404(TrainingRun.objects.select_related("version"), pk=run_id, dataset=dataset)
    return dataset_champion_run(dataset)


def against_a_run(view):
    """Page decorator: pass the dataset and the run to verify against (`?run=`, else the champion); without
    either, show how to get a champion."""

    @wraps(view)
    def wrapped(request, dataset_id: int):
        dataset = dataset_or_404(dataset_id)
        run = _run(request, dataset)
        if run is None:
            return render(request, "training/no_champion.html", {"dataset": dataset})
        return view(request, dataset, run)

    return wrapped


def _doubted_url(dataset: Dataset, run: TrainingRun, **filters) -> str:
    query = urlencode({"run": run.id, **{k: v for k, v in filters.items() if v is not None}})
    return f"{reverse('training:doubted', args=[dataset.id])}?{query}"


@roles.role_required(roles.ANNOTATOR)
@against_a_run
def health_page(request, dataset: Dataset, run: TrainingRun):
    """Every category against the champion: examples, misclassified, accuracy, held-out P/R/F1, flagged."""
    rows = checks.category_health(run)
    urls = [_doubted_url(dataset, run, given=row.category.id, misclassified=1) for row in rows]
    previous = checks.previous_champion(dataset) if run == dataset_champion_run(dataset) else None
    context = {
        "dataset": dataset,
        "run": run,
        "rows": list(zip(rows, urls, strict=True)),
        "figure": figures.health_figure(rows, urls),
        "previous": previous,
        "changes": checks.runs_category_changes(checks.category_health(previous), rows) if previous else [],
        "can_manage": roles.request_has_role(request, roles.MANAGER),
    }
    return render(request, "training/health.html", context)


@roles.role_required(roles.ANNOTATOR)
@against_a_run
def confusion_page(request, dataset: Dataset, run: TrainingRun):
    """Heatmap of given against predicted category (out of fold), small or large; cells list examples."""
    large = request.GET.get("level") == "large"
    normalised = request.GET.get("normalised") == "1"
    confusion = checks.run_confusion_oof(run, level=Category.Level.LARGE if large else Category.Level.SMALL)
    prefix = "large_" if large else ""
    urls = [
        [
            _doubted_url(dataset, run, **{f"{prefix}given": a.id, f"{prefix}predicted": b.id})
            for b in confusion.labels
        ]
        for a in confusion.labels
    ]
    context = {
        "dataset": dataset,
        "run": run,
        "large": large,
        "normalised": normalised,
        "figure": figures.confusion_figure(confusion, urls, normalised=normalised),
        "pairs": [
            (
                a,
                b,
                n,
                share,
                _doubted_url(dataset, run, **{f"{prefix}given": a.id, f"{prefix}predicted": b.id}),
            )
            for a, b, n, share in confusion.pairs()
        ],
    }
    return render(request, "training/confusion.html", context)


FILTER_LABELS = {  # what the filter chips read
    "given_id": "given",
    "predicted_id": "predicted",
    "given__parent_id": "given (large)",
    "predicted__parent_id": "predicted (large)",
}


@roles.role_required(roles.ANNOTATOR)
@against_a_run
def doubted_page(request, dataset: Dataset, run: TrainingRun):
    """Examples ranked by how likely their label is wrong (optionally one category or one confusion cell)."""
    get = request.GET
    rows = checks.suspicious_predictions(run, only_doubted=get.get("all") != "1")
    filters = {
        "given_id": number_param(get, "given"),
        "predicted_id": number_param(get, "predicted"),
        "given__parent_id": number_param(get, "large_given"),
        "predicted__parent_id": number_param(get, "large_predicted"),
    }
    rows = rows.filter(**{name: value for name, value in filters.items() if value is not None})
    if get.get("misclassified") == "1":
        rows = rows.exclude(predicted_id=F("given_id"))
    page = Paginator(rows, PAGE_SIZE).get_page(get.get("page"))
    names = Category.objects.in_bulk({c for r in page for c, _ in r.top})
    context = {
        "dataset": dataset,
        "run": run,
        "page": page,
        "names": names,
        "query": urlencode({k: v for k, v in get.items() if k != "page"}),
        "filtered": {
            FILTER_LABELS[name]: Category.objects.filter(pk=value).first()
            for name, value in filters.items()
            if value is not None
        },
    }
    return render(request, "training/doubted.html", context)


def _skipped(request, run: TrainingRun) -> list[int]:
    """Contents this person skipped in this run's review (kept in the session; a skip lets the claim go)."""
    key = f"doubted-skipped:{run.id}"
    skipped = request.session.get(key, [])
    skip = number_param(request.GET, "skip")
    if skip and skip not in skipped:
        skipped = [*skipped, skip][-500:]
        request.session[key] = skipped
        claim_release(dataset=run.dataset, content_id=skip, user=request.user)
    return skipped


def _review_item(
    run: TrainingRun, user, content_id: int | None, skipped: list[int]
) -> OutOfFoldPrediction | None:
    """The item asked for, else the one this user holds, else claim the next doubted one."""
    if content_id:
        return checks.review_queue(run, user).filter(content_id=content_id).first()
    claims_expire()
    queue_name = f"doubted:{run.id}"
    queue = checks.review_queue(run, user).exclude(content_id__in=skipped)
    held = claim_held(dataset=run.dataset, user=user, queue=queue_name)
    item = queue.filter(content_id__in=held.values("content_id")).first()
    if item is not None:
        return item
    claimed = claim_next(
        dataset=run.dataset,
        user=user,
        queue=queue_name,
        candidates=queue.values_list("content_id", flat=True)[:20],
        still_queued=lambda content_id: queue.filter(content_id=content_id).exists(),
    )
    return queue.filter(content_id=claimed).first() if claimed else None


@roles.role_required(roles.ANNOTATOR)
@against_a_run
def review_page(request, dataset: Dataset, run: TrainingRun):
    """One doubted example at a time: keep the label (K), take a prediction (P, 1-5), exclude (X), skip."""
    if request.method == "POST":
        return _review_decide(request, dataset, run)
    item = _review_item(run, request.user, number_param(request.GET, "content"), _skipped(request, run))
    context = {
        "dataset": dataset,
        "run": run,
        "item": item,
        "left": capped_count(checks.review_queue(run, request.user), REVIEW_COUNT_CAP),
        "count_cap": REVIEW_COUNT_CAP,
    }
    if item:
        names = Category.objects.select_related("parent").in_bulk([c for c, _ in item.top])
        context["choices"] = [(names[c], p) for c, p in item.top if c in names]
        context["categories"] = Category.objects.filter(
            taxonomy=dataset.taxonomy, level=Category.Level.SMALL, status=Category.Status.ACTIVE
        ).select_related("parent")
    return render(request, "training/review.html", context)


def _review_decide(request, dataset: Dataset, run: TrainingRun):
    content = get_object_or_404(Content, pk=number_param(request.POST, "content", required=True))
    category_id = number_param(request.POST, "category")
    category = None if category_id is None else Category.objects.filter(pk=category_id).first()
    try:
        review = review_decide(
            run=run,
            content=content,
            decision=request.POST.get("decision", ""),
            user=request.user,
            category=category,
        )
        messages.success(request, f"{review.get_decision_display().capitalize()}: {content.title[:60]}")
    except ApplicationError as error:
        messages.error(request, str(error))
    return redirect(f"{reverse('training:review', args=[dataset.id])}?run={run.id}")


@roles.role_required(roles.ANNOTATOR)
@against_a_run
def fixes_page(request, dataset: Dataset, run: TrainingRun):
    """Merge and exclude suggestions with their evidence; managers act on them here."""
    health = checks.category_health(run)
    context = {
        "dataset": dataset,
        "run": run,
        "merges": checks.merge_suggestions(checks.run_confusion_oof(run)),
        "excludes": checks.exclude_suggestions(health, dataset.min_examples_per_category),
        "categories": [row.category for row in sorted(health, key=lambda r: r.category.path)],
        "can_manage": roles.request_has_role(request, roles.MANAGER),
    }
    return render(request, "training/fixes.html", context)


def _category(dataset: Dataset, data, name: str) -> Category:
    return get_object_or_404(Category, pk=number_param(data, name, required=True), taxonomy=dataset.taxonomy)


def _after_fix(request, dataset: Dataset, action) -> object:
    try:
        changeset = action()
        messages.success(
            request,
            f"{changeset.reason} (changeset #{changeset.id}, {changeset.relabelled} relabelled, "
            f"{changeset.status_changed} status changes). Retrain to see the effect.",
        )
    except ApplicationError as error:
        messages.error(request, str(error))
    return redirect("training:fixes", dataset.id)


@require_POST
@roles.role_required(roles.MANAGER)
def category_merge_view(request, dataset_id: int):
    dataset = dataset_or_404(dataset_id)
    source, target = (
        _category(dataset, request.POST, "source"),
        _category(dataset, request.POST, "target"),
    )
    reason = request.POST.get("reason", "")
    return _after_fix(
        request,
        dataset,
        lambda: category_merge(
            dataset=dataset, source=source, target=target, user=request.user, reason=reason
        ),
    )


@require_POST
@roles.role_required(roles.MANAGER)
def category_exclude_view(request, dataset_id: int):
    dataset = dataset_or_404(dataset_id)
    category = _category(dataset, request.POST, "category")
    reason = request.POST.get("reason", "")
    return _after_fix(
        request,
        dataset,
        lambda: category_exclude(dataset=dataset, category=category, user=request.user, reason=reason),
    )


@require_POST
@roles.role_required(roles.MANAGER)
def retrain_view(request, dataset_id: int):
    dataset = dataset_or_404(dataset_id)
    try:
        run = dataset_retrain(dataset=dataset, user=request.user)
    except ApplicationError as error:
        messages.error(request, str(error))
        return redirect("training:health", dataset.id)
    return redirect("training:run", run.id)
