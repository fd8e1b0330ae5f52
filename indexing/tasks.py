"""Celery tasks of the indexing pipeline: thin, each a no-op while SEARCH_URL is unset."""

from celery import shared_task

from indexing import services


@shared_task(acks_late=True, soft_time_limit=120, time_limit=180)
def outbox_drain_task(seconds: float = 55) -> int:
    """The real-time path: drain the outbox for `seconds` (beat starts one every minute)."""
    if not services.indexing_enabled():
        return 0
    return services.outbox_drain(seconds=seconds)


@shared_task(acks_late=True, soft_time_limit=1800, time_limit=1900)
def batch_sync_task() -> dict:
    if not services.indexing_enabled():
        return {}
    return {name: services.batch_sync(name=name) for name in services.created_indexes()}


@shared_task(acks_late=True, soft_time_limit=1800, time_limit=1900)
def drift_repair_task(force: bool = False) -> dict:
    if not services.indexing_enabled():
        return {}
    found = {}
    for name in services.created_indexes():
        services.previous_drop(name=name)
        found[name] = services.drift_repair(name=name, force=force)
    return found
