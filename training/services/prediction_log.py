"""The prediction log's rows written cheaply: one COPY per batch, and with PostgreSQL after the answer.

With PREDICTION_LOG_BUFFER_SECONDS > 0 (PostgreSQL only) an answer's row id comes from ids this process
reserved from the table's sequence (a thousand at a time), and a thread writes the buffered rows with one
COPY at most that many seconds later: no round trip to the database in the request, one statement for many
answers. Every answer is still logged; a row is readable (feedback on it possible) once written, and a
process killed outright loses the rows of its last fraction of a second. With 0 (and on SQLite) the request
writes its rows itself.
"""

import atexit
import logging
import os
import threading

import orjson
from django.conf import settings
from django.db import connection, connections

from core.inserts import copy_rows, reserve_ids
from training.models import PredictionLog

log = logging.getLogger(__name__)

COLUMNS = (
    "dataset_id",
    "created_at",
    "input_hash",
    "excerpt",
    "category_id",
    "score",
    "explanation",
    "champion_run_id",
    "ensemble_version",
    "requested_by_id",
)
RESERVE = 10_000  # ids taken from the sequence at once (ten blocks: one round trip per 10,000 answers)
FLUSH_ROWS = 2000  # a buffer this full is written without waiting


class _Buffer:
    """This process's reserved ids and rows waiting to be written, and the thread that writes them."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.lock = threading.Lock()
        self.write_lock = threading.Lock()
        self.ids: list[int] = []  # reserved ids; those before `taken` are handed out already
        self.taken = 0
        self.rows: list[tuple] = []
        self.wake = threading.Event()
        self.stop = threading.Event()
        self.thread: threading.Thread | None = None


_buffer = _Buffer()


def prediction_log_write(rows: list[tuple]) -> list[int]:
    """Log rows (values in COLUMNS order, explanation a dict or its JSON as bytes); their ids, in order."""
    if not rows:
        return []
    if connection.vendor != "postgresql":
        logs = [PredictionLog(**dict(zip(COLUMNS, _parsed(row), strict=True))) for row in rows]
        return [log.id for log in PredictionLog.objects.bulk_create(logs)]
    if settings.PREDICTION_LOG_BUFFER_SECONDS <= 0:  # written by the request
        ids = reserve_ids(PredictionLog, len(rows))
        _copy([(row_id, *row) for row_id, row in zip(ids, rows, strict=True)])
        return ids
    buffer = _current_buffer()
    ids = _reserve(buffer, len(rows))
    with buffer.lock:
        buffer.rows.extend((row_id, *row) for row_id, row in zip(ids, rows, strict=True))
        full = len(buffer.rows) >= FLUSH_ROWS
        if buffer.thread is None:
            buffer.thread = threading.Thread(target=_write, args=(buffer,), daemon=True)
            buffer.thread.start()
    if full:
        buffer.wake.set()
    return ids


def prediction_log_flush() -> int:
    """Write this process's buffered rows now; how many were written."""
    buffer = _current_buffer()
    with buffer.write_lock:
        with buffer.lock:
            rows, buffer.rows = buffer.rows, []
        if rows:
            _copy(rows)
    return len(rows)


def _current_buffer() -> _Buffer:
    global _buffer
    if _buffer.pid != os.getpid():  # a forked child: the parent's ids and thread are not its own
        _buffer = _Buffer()
    return _buffer


def _reserve(buffer: _Buffer, count: int) -> list[int]:
    with buffer.lock:
        if len(buffer.ids) - buffer.taken >= count:
            return _take(buffer, count)
    fresh = reserve_ids(PredictionLog, max(count, RESERVE))
    with buffer.lock:
        buffer.ids, buffer.taken = buffer.ids[buffer.taken :] + fresh, 0
        return _take(buffer, count)


def _take(buffer: _Buffer, count: int) -> list[int]:
    """The next `count` reserved ids (without copying the rest: a single answer takes one of thousands)."""
    start = buffer.taken
    buffer.taken += count
    return buffer.ids[start : start + count]


def prediction_log_stop() -> None:
    """Write what is buffered and end the writer thread (it closes its connection); a new row starts one."""
    buffer = _current_buffer()
    thread = buffer.thread
    if thread is not None:
        buffer.stop.set()
        buffer.wake.set()
        thread.join()
        buffer.thread = None
        buffer.stop.clear()
    prediction_log_flush()


def _write(buffer: _Buffer) -> None:
    while not buffer.stop.is_set():
        buffer.wake.wait(settings.PREDICTION_LOG_BUFFER_SECONDS)
        buffer.wake.clear()
        try:
            prediction_log_flush()
        except Exception:  # the thread must live on; the rows are lost and said so
            log.exception("prediction log: buffered rows could not be written")
            connections.close_all()  # this thread's own connection, perhaps broken: reopened next time
    connections.close_all()


def _parsed(row: tuple) -> tuple:
    explanation = row[6]
    return row if isinstance(explanation, dict) else (*row[:6], orjson.loads(explanation), *row[7:])


def _adapted(row: tuple) -> tuple:
    """A row with its id first, its explanation as JSON text (bytes), as orjson writes it."""
    explanation = row[7]
    return row if isinstance(explanation, bytes) else (*row[:7], orjson.dumps(explanation), *row[8:])


def _copy(rows: list[tuple]) -> None:
    """Rows with their ids first, in one COPY (the explanation's JSON sent as it is written)."""
    copy_rows(
        PredictionLog._meta.db_table,
        ["id", *COLUMNS],
        map(_adapted, rows),
        sent_as={"explanation": "bytea"},
    )


@atexit.register
def _flush_at_exit() -> None:
    if _buffer.pid == os.getpid() and (_buffer.rows or _buffer.thread):
        try:
            prediction_log_stop()
        except Exception:
            log.exception("prediction log: buffered rows could not be written at exit")
