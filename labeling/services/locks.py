"""Who may write a dataset's examples at the same time: single saves share, bulk operations exclude.

A save (queue, API, review) takes the dataset's lock shared; a bulk operation (version commit, rollback,
revert, import, merge, exclude, bulk relabel) takes it exclusively. So a bulk operation sees no save commit
while it reads and writes, and every statement of a version reads one state. PostgreSQL advisory locks held
to the end of the transaction (no row is locked: the dataset row stays free for other updates); on SQLite
every write transaction already runs alone (BEGIN IMMEDIATE), so there is nothing to take.
"""

from django.db import connection

DATASET_LOCKS = 0x6275  # the advisory lock space of datasets ("bu"): (DATASET_LOCKS, dataset id)


def _advisory(function: str, dataset_id: int) -> None:
    if connection.vendor != "postgresql":
        return
    if not connection.in_atomic_block:
        raise RuntimeError("A dataset lock is held to the end of a transaction: take it inside one.")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}(%s, %s)", [DATASET_LOCKS, dataset_id])


def dataset_lock_shared(dataset_id: int) -> None:
    """Taken by a single save: waits while a bulk operation runs on the dataset, never for another save."""
    _advisory("pg_advisory_xact_lock_shared", dataset_id)


def dataset_lock_exclusive(dataset_id: int) -> None:
    """Taken by a bulk operation: waits for the saves in progress, and holds new ones until it commits."""
    _advisory("pg_advisory_xact_lock", dataset_id)
