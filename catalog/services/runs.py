"""Catalog runs: one task per category (a task each, so several workers share a rebuild), progress, cancel.

Each category task writes its category in one transaction and then records itself as done on the run row
(locked), so the last one to finish closes the run; a redelivered task finds its category done and returns.
"""

from __future__ import annotations

import time

from django.db import transaction
from django.utils import timezone

from catalog.errors import CatalogError
from catalog.models import CatalogRun, Offer
from catalog.services.attach import category_attach
from catalog.services.build import category_build
from core import dispatch

FINISHED = (CatalogRun.Status.SUCCEEDED, CatalogRun.Status.FAILED, CatalogRun.Status.CANCELLED)


def categories_with_offers(category_ids: list[int] | None = None) -> list[int]:
    rows = Offer.objects.filter(category__isnull=False)
    if category_ids:
        rows = rows.filter(category_id__in=category_ids)
    return sorted(set(rows.values_list("category_id", flat=True).distinct()))


def catalog_run_create(
    *, user, mode: str = CatalogRun.Mode.FULL, category_ids: list[int] | None = None
) -> CatalogRun:
    """Record a run over the categories in scope (every category with offers when none are named)."""
    if mode not in CatalogRun.Mode.values:
        raise CatalogError(f"Unknown run mode {mode!r}; choose full or incremental.")
    categories = categories_with_offers(category_ids)
    if not categories:
        raise CatalogError("No categorised offers in scope: import offers (with categories) first.")
    running = CatalogRun.objects.filter(status__in=[CatalogRun.Status.QUEUED, CatalogRun.Status.RUNNING])
    if running.exists():
        raise CatalogError(f"Catalog run #{running.first().id} is still going; wait for it or cancel it.")
    return CatalogRun.objects.create(mode=mode, categories=categories, created_by=user)


def catalog_run_enqueue(*, user, mode: str = CatalogRun.Mode.FULL, category_ids=None) -> CatalogRun:
    """Create a run and hand its categories to the workers once the transaction commits: one task per
    category, so idle workers (on any machine) take the next category."""
    run = catalog_run_create(user=user, mode=mode, category_ids=category_ids)
    for category in run.categories:
        dispatch.enqueue("catalog.tasks.catalog_category_task", run.id, category)
    return run


def catalog_run_inline(*, user, mode: str = CatalogRun.Mode.FULL, category_ids=None) -> CatalogRun:
    """The same run in this process, category after category (`catalog_build --inline`, the bench)."""
    run = catalog_run_create(user=user, mode=mode, category_ids=category_ids)
    for category in run.categories:
        run_category(run.id, category)
    run.refresh_from_db()
    return run


def run_category(run_id: int, category_id: int) -> None:
    """Build (or attach new offers in) one category of a run, then record it done."""
    run = CatalogRun.objects.get(pk=run_id)
    if run.status in FINISHED or category_id in run.done_categories:
        return
    if run.cancel_requested:
        _record(run_id, category_id, None)
        return
    CatalogRun.objects.filter(pk=run_id, status=CatalogRun.Status.QUEUED).update(
        status=CatalogRun.Status.RUNNING
    )
    CatalogRun.objects.filter(pk=run_id).update(stage=f"category {category_id}")
    started, cpu = time.perf_counter(), time.process_time()
    try:
        if run.mode == CatalogRun.Mode.INCREMENTAL:
            figures = category_attach(category_id=category_id, user=run.created_by).as_dict()
        else:
            figures = category_build(category_id=category_id, user=run.created_by).as_dict()
    except Exception as error:
        _record(run_id, category_id, {"error": f"{type(error).__name__}: {error}"})
        raise
    figures["seconds"] = round(time.perf_counter() - started, 2)
    figures["cpu_seconds"] = round(time.process_time() - cpu, 2)
    _record(run_id, category_id, figures)


def _record(run_id: int, category_id: int, figures: dict | None) -> None:
    with transaction.atomic():
        run = CatalogRun.objects.select_for_update().get(pk=run_id)
        if category_id in run.done_categories:
            return
        run.done_categories = [*run.done_categories, category_id]
        if figures is not None:
            run.figures = {**run.figures, str(category_id): figures}
        run.progress = len(run.done_categories) / max(len(run.categories), 1)
        if len(run.done_categories) >= len(run.categories):
            run.finished_at = timezone.now()
            failed = [f for f in run.figures.values() if "error" in f]
            if run.cancel_requested:
                run.status, run.stage = CatalogRun.Status.CANCELLED, "cancelled"
            elif failed:
                run.status, run.stage = CatalogRun.Status.FAILED, "failed"
                run.message = "; ".join(f["error"] for f in failed)[:2000]
            else:
                run.status, run.stage = CatalogRun.Status.SUCCEEDED, "done"
        run.save()


def catalog_run_cancel(*, run: CatalogRun) -> None:
    """Categories not started yet are skipped; a category being written finishes (its write is atomic)."""
    if run.status in FINISHED:
        raise CatalogError(f"Run #{run.id} already finished ({run.status}).")
    CatalogRun.objects.filter(pk=run.pk).update(cancel_requested=True, stage="cancelling")


def run_totals(run: CatalogRun) -> dict:
    keys = ("offers", "groups", "published", "in_review", "attached")
    figures = [f for f in run.figures.values() if "error" not in f]
    return {key: sum(f.get(key, 0) for f in figures) for key in keys}
