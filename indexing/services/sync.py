"""Writing documents, draining the outbox (real time) and pulling by modified_at (batch windows)."""

import logging
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.db.models import F, Max, Min
from django.utils import timezone

from indexing.documents import DEFINITIONS, snapshot
from indexing.engine import Action, BulkResult, EngineError
from indexing.models import DeadLetter, DocVersion, IndexEvent, IndexState, SyncMinute
from indexing.services.engine import engine_get

logger = logging.getLogger(__name__)


def created_indexes() -> list[str]:
    """The logical indexes created on this site (`search_index create`): the ones changes are captured for."""
    names = IndexState.objects.exclude(live="").order_by("name").values_list("name", flat=True)
    return [name for name in names if name in DEFINITIONS]


def write_targets(name: str) -> list[str]:
    """The physical indexes a change goes to: the live one and, during a rebuild, the one being built."""
    state = IndexState.objects.filter(name=name).values_list("live", "building").first()
    return [index for index in state or () if index]


def documents_actions(*, name: str, ids: list[int]) -> list[Action]:
    """The engine actions that make these documents equal to the database now: index what exists (with its
    version), delete what is gone."""
    built = DEFINITIONS[name].build(ids)
    missing = [pk for pk in ids if pk not in built]
    versions = dict(
        DocVersion.objects.filter(target=name, doc_id__in=missing).values_list("doc_id", "version")
    )
    return [
        Action(pk, built[pk][0], built[pk][1]) if pk in built else Action(pk, versions.get(pk, 0))
        for pk in ids
    ]


def actions_send(indices: list[str], actions: list[Action]) -> BulkResult:
    """Send actions to every index, in bulks of INDEXING_BATCH_SIZE. Engine only: no database here (the
    rebuild sends from worker threads)."""
    engine = engine_get()
    total = BulkResult()
    for start in range(0, len(actions), settings.INDEXING_BATCH_SIZE):
        chunk = actions[start : start + settings.INDEXING_BATCH_SIZE]
        for index in indices:
            result = engine.bulk(index, chunk)
            total.written += result.written
            total.stale += result.stale
            total.errors.update(result.errors)
    return total


def documents_write(*, name: str, ids: list[int], indices: list[str] | None = None) -> BulkResult:
    """Re-read these documents from the database and index them (deleting the ones that are gone) into every
    write target, each with its version. Raises EngineError when the engine cannot be reached."""
    indices = write_targets(name) if indices is None else indices
    if not indices or not ids:
        return BulkResult()
    total = BulkResult()
    for start in range(0, len(ids), settings.INDEXING_BATCH_SIZE):
        result = actions_send(
            indices, documents_actions(name=name, ids=ids[start : start + settings.INDEXING_BATCH_SIZE])
        )
        total.written += result.written
        total.stale += result.stale
        total.errors.update(result.errors)
    if total.errors:
        dead_letter(name, total.errors)
    return total


def dead_letter(name: str, errors: dict[int, str]) -> None:
    for doc_id, error in errors.items():
        letter, created = DeadLetter.objects.get_or_create(
            target=name, doc_id=doc_id, defaults={"error": error}
        )
        if not created:
            DeadLetter.objects.filter(pk=letter.pk).update(
                error=error, attempts=F("attempts") + 1, updated_at=timezone.now()
            )
    logger.warning("indexing %s: %d documents refused by the engine", name, len(errors))


def dead_letters_retry(*, name: str, ids: list[int] | None = None) -> int:
    """Put dead-lettered documents back into the outbox; the drainer writes them again."""
    letters = DeadLetter.objects.filter(target=name)
    if ids is not None:
        letters = letters.filter(doc_id__in=ids)
    with transaction.atomic():
        doc_ids = list(letters.values_list("doc_id", flat=True))
        IndexEvent.objects.bulk_create([IndexEvent(target=name, doc_id=pk) for pk in doc_ids])
        letters.delete()
    return len(doc_ids)


def _record_minute(name: str, events: int, result: BulkResult, oldest: datetime) -> None:
    now = timezone.now()
    lag_ms = int((now - oldest).total_seconds() * 1000)
    minute = now.replace(second=0, microsecond=0)
    row, _ = SyncMinute.objects.get_or_create(target=name, minute=minute)
    SyncMinute.objects.filter(pk=row.pk).update(
        events=F("events") + events,
        written=F("written") + result.written,
        stale=F("stale") + result.stale,
        errors=F("errors") + len(result.errors),
    )
    SyncMinute.objects.filter(pk=row.pk, lag_max_ms__lt=lag_ms).update(lag_max_ms=lag_ms)


def outbox_drain_once(*, name: str = "contents", limit: int | None = None) -> int:
    """Take up to `limit` outbox events no other drainer holds, coalesce their ids, write the documents and
    delete the events, in one transaction: a drainer that dies (or an engine that fails) mid-batch leaves
    the events for the next one. Returns how many events it handled."""
    limit = limit or settings.INDEXING_BATCH_SIZE * 4
    with snapshot():
        events = IndexEvent.objects.filter(target=name).order_by("id")[:limit]
        if connection.vendor == "postgresql":
            events = events.select_for_update(skip_locked=True)
        taken = list(events.values_list("id", "doc_id", "created_at"))
        if not taken:
            return 0
        ids = sorted({doc_id for _, doc_id, _ in taken})
        result = documents_write(name=name, ids=ids)
        IndexEvent.objects.filter(id__in=[event_id for event_id, _, _ in taken]).delete()
        _record_minute(name, len(taken), result, min(created for _, _, created in taken))
    return len(taken)


def outbox_drain(*, name: str | None = None, seconds: float = 0, idle_sleep: float = 0.2) -> int:
    """Drain one index's outbox (every created index's when `name` is None) until it is empty (seconds=0)
    or, as the long-running worker loop, for `seconds`: then a failure (engine down, database restarting)
    is logged and retried with backoff until the time is up."""
    handled = 0
    deadline = time.monotonic() + seconds
    backoff = idle_sleep
    names = None
    while True:
        try:
            names = names or ([name] if name else created_indexes())
            count = sum(outbox_drain_once(name=each) for each in names)
        except (EngineError, DatabaseError) as error:
            if not seconds or time.monotonic() >= deadline:
                raise
            logger.warning("indexing: drain failed, retrying in %.1f s: %s", backoff, error)
            connection.close()  # a connection broken by a database restart is replaced on the next query
            time.sleep(backoff)
            backoff = min(backoff * 2, 10.0)
            continue
        backoff = idle_sleep
        handled += count
        if count:
            continue
        if time.monotonic() >= deadline:
            return handled
        names = None  # an index created meanwhile is drained from the next round
        time.sleep(idle_sleep)


def sync_since(*, name: str = "contents", since: datetime, until: datetime | None = None) -> BulkResult:
    """Write every document that changed in [since, until) (default: until now)."""
    until = until or timezone.now()
    return documents_write(name=name, ids=sorted(DEFINITIONS[name].changed(since, until)))


def batch_sync(*, name: str = "contents") -> dict:
    """The batch path, a safety net beside the outbox: pull what changed by modified_at in hopping windows of
    INDEXING_BATCH_WINDOW seconds, each starting INDEXING_BATCH_OVERLAP before the checkpoint (a row written
    late with an earlier timestamp is caught by the next window), ending INDEXING_CLOCK_SKEW before now."""
    state = IndexState.objects.filter(name=name).first()
    if state is None or not state.live:
        return {}
    window = timedelta(seconds=settings.INDEXING_BATCH_WINDOW)
    overlap = timedelta(seconds=settings.INDEXING_BATCH_OVERLAP)
    end_limit = timezone.now() - timedelta(seconds=settings.INDEXING_CLOCK_SKEW)
    start = (state.batch_checkpoint or state.rebuild_started_at or end_limit - window) - overlap
    windows = []
    while start < end_limit:
        end = min(start + window + overlap, end_limit)
        result = sync_since(name=name, since=start, until=end)
        windows.append({"since": start.isoformat(), "until": end.isoformat(), "written": result.written})
        IndexState.objects.filter(pk=state.pk).update(
            batch_checkpoint=end, batch_last_window=windows[-1], updated_at=timezone.now()
        )
        start = end - overlap
        if end >= end_limit:
            break
    return {"windows": windows}


def outbox_figures(name: str = "contents") -> dict:
    """Pending events and the age of the oldest one (the lag)."""
    pending = IndexEvent.objects.filter(target=name).aggregate(oldest=Min("created_at"), newest=Max("id"))
    count = IndexEvent.objects.filter(target=name).count()
    oldest = pending["oldest"]
    lag = (timezone.now() - oldest).total_seconds() if oldest else 0.0
    return {"pending": count, "lag_seconds": round(max(lag, 0.0), 3)}
