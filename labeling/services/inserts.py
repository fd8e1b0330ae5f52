"""Inserting many history-tracked rows at once, with their history rows.

On PostgreSQL rows go in through COPY and their history through one INSERT ... SELECT per chunk: for 100k
rows that is seconds, where Django's multi-row INSERT spends most of its time building parameters. SQLite
(the embedded default) uses `bulk_create_with_history`.
"""

from collections.abc import Sequence

from django.db import connection, models
from simple_history.utils import bulk_create_with_history

from labeling.services.history import history_insert_select


def _reserve_ids(model: type[models.Model], count: int) -> list[int]:
    """Take `count` ids from the table's sequence, so rows can be copied with their ids known."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [model._meta.db_table, count],
        )
        return [row[0] for row in cursor.fetchall()]


def _copy_rows(model: type[models.Model], objs: Sequence[models.Model]) -> None:
    fields = model._meta.concrete_fields
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {model._meta.db_table} ({columns}) FROM STDIN") as copy,
    ):
        for obj in objs:
            # pre_save fills auto_now fields; plain values (ints, text, aware datetimes) need no conversion
            copy.write_row([f.pre_save(obj, True) for f in fields])


def insert_with_history(
    model: type[models.Model], objs: Sequence[models.Model], *, user, reason: str, changeset=None
) -> None:
    """Insert `objs` (their pk is set) and one '+' history row each, naming the user, reason and changeset."""
    if not objs:
        return
    if connection.vendor != "postgresql":
        attrs = {"changeset_id": changeset.id} if changeset else None
        bulk_create_with_history(
            list(objs),
            model,
            batch_size=2000,
            default_user=user,
            default_change_reason=reason,
            custom_historical_attrs=attrs,
        )
        return
    for obj, pk in zip(objs, _reserve_ids(model, len(objs)), strict=True):
        obj.pk = pk
    _copy_rows(model, objs)
    history_insert_select(
        model, [obj.pk for obj in objs], user=user, reason=reason, changeset=changeset, history_type="+"
    )
