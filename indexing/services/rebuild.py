"""Creating an index and full recovery: a new physical index built newest-first in id chunks, checkpointed and
resumable, with the changes made meanwhile replayed into it, then an atomic alias swap."""

import logging
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.pauses import pause_point
from indexing.documents import DEFINITIONS
from indexing.models import DocVersion, IndexState
from indexing.services.engine import engine_get, index_body, physical_name, search_alias
from indexing.services.sync import actions_send, dead_letter, documents_actions, documents_write

logger = logging.getLogger(__name__)

REBUILD_CHUNK = 2000  # ids per chunk: a fixed number of rows, so a large category cannot make one chunk huge
RECENT = timedelta(days=1)  # rows modified this recently go first
REPLAY_MARGIN = timedelta(seconds=60)
SENDERS = 2  # bulk requests in flight during a rebuild


def index_create(*, name: str = "contents") -> IndexState:
    """Create the logical index if it has none yet: an empty physical index behind the alias. From then on the
    capture triggers fill the outbox. Existing rows get in by `index_rebuild`."""
    engine = engine_get()
    with transaction.atomic():
        state, _ = IndexState.objects.select_for_update().get_or_create(name=name)
        if state.live and engine.index_exists(state.live):
            return state
        physical = physical_name(name)
        engine.index_create(physical, index_body(name))
        engine.alias_swap(search_alias(name), physical)
        state.live = physical
        state.save()
    return state


def _chunk_ids(model, below: int, size: int) -> list[int]:
    return list(model.objects.filter(id__lt=below).order_by("-id").values_list("id", flat=True)[:size])


def _start(name: str, state: IndexState) -> None:
    definition = DEFINITIONS[name]
    engine = engine_get()
    physical = physical_name(name)
    engine.index_create(physical, index_body(name))
    top = definition.model.objects.order_by("-id").values_list("id", flat=True).first() or 0
    state.building = physical
    state.rebuild_cursor = top + 1
    state.rebuild_started_at = timezone.now()
    state.rebuild_total = definition.model.objects.count()
    state.rebuild_done = 0
    state.save()
    # With no live index (lost, or the first build), readers get the new one at once and see the most
    # recent rows first, as they land.
    if not state.live or not engine.index_exists(state.live):
        engine.alias_swap(search_alias(name), physical)
        state.live = physical
        state.save(update_fields=["live"])
    documents_write(name=name, ids=definition.recent(timezone.now() - RECENT), indices=[physical])


def _chunks_write(name: str, state: IndexState, chunk: int, progress) -> None:
    """The id chunks, highest first. This thread reads the database and builds the next chunk while two
    others send the previous ones to the engine; the checkpoint moves only past chunks the engine took."""
    model = DEFINITIONS[name].model
    in_flight: deque = deque()

    def settle(future, ids) -> None:
        result = (
            future.result()
        )  # an EngineError stops the rebuild here; --resume goes on from the checkpoint
        if result.errors:
            dead_letter(name, result.errors)
        state.rebuild_cursor = ids[-1]
        state.rebuild_done += len(ids)
        state.save(update_fields=["rebuild_cursor", "rebuild_done", "updated_at"])
        if progress:
            progress(state.rebuild_done, state.rebuild_total)
        pause_point("rebuild-chunk-done")

    cursor = state.rebuild_cursor or 0
    with ThreadPoolExecutor(max_workers=SENDERS) as senders:
        try:
            while cursor > 0:
                ids = _chunk_ids(model, cursor, chunk)
                if not ids:
                    break
                actions = documents_actions(name=name, ids=ids)
                in_flight.append((senders.submit(actions_send, [state.building], actions), ids))
                cursor = ids[-1]
                while len(in_flight) >= SENDERS:
                    settle(*in_flight.popleft())
            while in_flight:
                settle(*in_flight.popleft())
        finally:
            for future, _ in in_flight:
                future.cancel()


def index_rebuild(
    *, name: str = "contents", resume: bool = False, chunk: int = REBUILD_CHUNK, progress=None
) -> dict:
    """Build a new physical index from the database, newest first, and swap the alias to it. With `resume`, go
    on from the last checkpoint of an interrupted rebuild. Returns figures of the run."""
    engine = engine_get()
    with transaction.atomic():
        state, _ = IndexState.objects.select_for_update().get_or_create(name=name)
    if not (resume and state.building and engine.index_exists(state.building)):
        if state.building:
            engine.index_delete(state.building)
        _start(name, state)
    started = timezone.now()
    building = state.building
    _chunks_write(name, state, chunk, progress)
    # The drainer wrote every change to both indexes since the rebuild began; replay what changed since then
    # anyway (a drainer that read the targets just before the rebuild registered may have missed it).
    replay = DocVersion.objects.filter(target=name, changed_at__gte=state.rebuild_started_at - REPLAY_MARGIN)
    replayed = documents_write(
        name=name, ids=list(replay.values_list("doc_id", flat=True)), indices=[building]
    )
    engine.refresh(building)
    with transaction.atomic():
        state = IndexState.objects.select_for_update().get(pk=state.pk)
        old = state.live if state.live != building else ""
        engine.alias_swap(search_alias(name), building)
        if state.previous and state.previous != old:
            engine.index_delete(state.previous)
        state.previous = old
        state.previous_drop_after = timezone.now() + timedelta(hours=settings.INDEXING_KEEP_PREVIOUS_HOURS)
        state.live, state.building, state.rebuild_cursor = building, "", None
        state.save()
    seconds = (timezone.now() - started).total_seconds()
    logger.info(
        "indexing %s: rebuilt %s (%d documents) in %.1f s", name, building, state.rebuild_done, seconds
    )
    return {
        "index": building,
        "documents": state.rebuild_done,
        "replayed": replayed.written,
        "seconds": seconds,
    }


def previous_drop(*, name: str = "contents", force: bool = False) -> str:
    """Delete the index kept from before the last rebuild once its time is up."""
    state = IndexState.objects.filter(name=name).first()
    if not state or not state.previous:
        return ""
    if not force and state.previous_drop_after and state.previous_drop_after > timezone.now():
        return ""
    engine_get().index_delete(state.previous)
    dropped, state.previous = state.previous, ""
    state.save(update_fields=["previous", "updated_at"])
    return dropped
