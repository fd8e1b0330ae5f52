"""Indexing the words of content bodies for body search (PostgreSQL), in the background.

Contents wait in ContentWordsPending (a trigger adds them when they are written); `content_words_index`
computes their words a batch at a time. Safe to run twice, or in two workers at once: each takes the
pending rows it locks and skips those another holds.
"""

from django.db import connection, transaction

from core import dispatch

BATCH = 2000


def _index_batch(size: int) -> int:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT content_id FROM labeling_contentwordspending ORDER BY content_id LIMIT %s "
            "FOR UPDATE SKIP LOCKED",
            [size],
        )
        ids = [row[0] for row in cursor.fetchall()]
        if not ids:
            return 0
        # FOR SHARE waits for a write of the same content in progress and reads its new body; a write
        # after it marks the content pending again.
        cursor.execute(
            "INSERT INTO labeling_contentwords (content_id, words) "
            "SELECT id, to_tsvector('simple', body) FROM labeling_content WHERE id = ANY(%s) FOR SHARE "
            "ON CONFLICT (content_id) DO UPDATE SET words = EXCLUDED.words",
            [ids],
        )
        cursor.execute("DELETE FROM labeling_contentwordspending WHERE content_id = ANY(%s)", [ids])
        return len(ids)


def content_words_index(*, batch: int = BATCH, limit: int | None = None) -> int:
    """Index pending contents' words, `batch` per transaction, until none is left (or `limit` were done);
    returns how many were indexed. Does nothing on SQLite."""
    if connection.vendor != "postgresql":
        return 0
    done = 0
    while limit is None or done < limit:
        indexed = _index_batch(batch if limit is None else min(batch, limit - done))
        if not indexed:
            break
        done += indexed
    return done


def content_words_refresh_later() -> None:
    """Have a worker index the pending contents once this transaction commits."""
    if connection.vendor != "postgresql":
        return
    dispatch.enqueue(
        "labeling.tasks.content_words_index_task", robust=True
    )  # a lost run: the next catches up
