"""Celery tasks of the catalog: thin wrappers that take ids and call services."""

from celery import shared_task


@shared_task(acks_late=True, soft_time_limit=3000, time_limit=3300)
def catalog_category_task(run_id: int, category_id: int) -> None:
    """One category of a catalog run (safe to run twice: a done category returns at once)."""
    from catalog.services.runs import run_category

    run_category(run_id, category_id)


@shared_task(soft_time_limit=60, time_limit=90)
def catalog_daily_task(mode: str = "incremental") -> int | None:
    """The beat schedule's run: attach new offers (or rebuild); skipped while another run is going."""
    from catalog.errors import CatalogError
    from catalog.services.runs import catalog_run_enqueue

    try:
        return catalog_run_enqueue(user=None, mode=mode).id
    except CatalogError:
        return None
