"""Writing history rows: for single saves (user and reason attached) and for set-based updates."""

from collections.abc import Callable, Iterable, Sequence

from django.db import connection, models
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

CHUNK = 5000


def save_with_history(instance: models.Model, *, user, reason: str, changeset=None, **save_kwargs) -> None:
    """Save `instance` so its history row names `user`, `reason` and the changeset, if any."""
    instance._history_user = user
    instance._change_reason = reason
    instance._history_changeset_id = changeset.id if changeset else None
    try:
        instance.save(**save_kwargs)
    finally:
        del instance._history_user, instance._change_reason, instance._history_changeset_id


def link_history_to_changeset(sender, instance, history_instance, **kwargs) -> None:
    """pre_create_historical_record receiver: carry the changeset from the instance to its history row."""
    changeset_id = getattr(instance, "_history_changeset_id", None)
    if changeset_id and hasattr(history_instance, "changeset_id"):
        history_instance.changeset_id = changeset_id


def chunked(ids: Iterable[int], size: int = CHUNK):
    ids = list(ids)
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def ids_condition(ids: list[int]) -> tuple[str, list]:
    """`id` among `ids`: one array parameter on PostgreSQL (thousands of placeholders cost the driver
    more time than the query), an IN list on SQLite."""
    if connection.vendor == "postgresql":
        return "id = ANY(%s)", [list(ids)]
    return f"id IN ({', '.join(['%s'] * len(ids))})", list(ids)


HISTORY_COLUMNS = ("history_date", "history_change_reason", "history_type", "history_user_id", "changeset_id")


def history_tracked(model: type[models.Model]) -> list:
    """The history table's fields that copy the model's own columns, in the history table's order."""
    own = {field.attname for field in model._meta.concrete_fields}
    return [field for field in model.history.model._meta.concrete_fields if field.attname in own]


def history_stamp(history_type: str, *, user, reason: str, changeset) -> list:
    """The values of HISTORY_COLUMNS for history rows written now."""
    user_id, changeset_id = (user.pk if user else None), (changeset.id if changeset else None)
    return [timezone.now(), reason, history_type, user_id, changeset_id]


def history_insert_select(
    model: type[models.Model], ids: Iterable[int], *, user, reason: str, changeset=None, history_type="~"
) -> int:
    """Write one history row per id from the rows' current values, in one INSERT ... SELECT per chunk.

    The set-based companion of `.update()`: call it right after updating those rows (history_type "-":
    right before deleting them, see `delete_with_history`).
    """
    history = model.history.model
    quoted = ", ".join(connection.ops.quote_name(f.column) for f in history_tracked(model))
    extra = ", ".join(HISTORY_COLUMNS)
    values = history_stamp(history_type, user=user, reason=reason, changeset=changeset)
    written = 0
    with connection.cursor() as cursor:
        for chunk in chunked(ids, 50_000 if connection.vendor == "postgresql" else CHUNK):
            where, params = ids_condition(chunk)
            cursor.execute(
                f"INSERT INTO {history._meta.db_table} ({quoted}, {extra}) "
                f"SELECT {quoted}, {', '.join(['%s'] * len(HISTORY_COLUMNS))} FROM {model._meta.db_table} "
                f"WHERE {where}",
                [*values, *params],
            )
            written += cursor.rowcount
    return written


def delete_with_history(
    model: type[models.Model], ids: Iterable[int], *, user, reason: str, changeset=None
) -> int:
    """Delete rows by id, set-based, after writing their '-' history rows (the values they had).

    For models nothing cascades from (a cascade would delete rows without history); returns the rows deleted.
    """
    ids = list(ids)
    history_insert_select(model, ids, user=user, reason=reason, changeset=changeset, history_type="-")
    deleted = 0
    with connection.cursor() as cursor:
        for chunk in chunked(ids, 50_000 if connection.vendor == "postgresql" else CHUNK):
            where, params = ids_condition(chunk)
            cursor.execute(f"DELETE FROM {model._meta.db_table} WHERE {where}", params)
            deleted += cursor.rowcount
    return deleted


UPDATE_CHUNK = 20_000


def update_with_history(
    model: type[models.Model],
    fields: Sequence[str],
    rows: Sequence[Sequence],
    *,
    user,
    reason: str,
    progress: Callable[[int, int], None] | None = None,
) -> None:
    """Set `fields` (attnames) of many rows, `rows` = (id, *values) each, with one '~' history row each.

    PostgreSQL: one `UPDATE ... FROM unnest(arrays)` per chunk, then the history rows by INSERT ... SELECT
    (Django's bulk_update builds a CASE expression per row and field: for thousands of rows that costs more
    than the rest of the write). SQLite (the embedded default): `bulk_update_with_history`.
    `progress(done, total)` is called before each chunk."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        _update_small(model, fields, rows, user=user, reason=reason)
        return
    meta = {field.attname: field for field in model._meta.concrete_fields}
    casts = [f"%s::{model._meta.pk.db_type(connection)}[]"]
    casts += [f"%s::{meta[name].db_type(connection)}[]" for name in fields]
    columns = [connection.ops.quote_name(meta[name].column) for name in fields]
    json_fields = [
        index for index, name in enumerate(fields, start=1) if isinstance(meta[name], models.JSONField)
    ]
    sql = (
        f"UPDATE {model._meta.db_table} AS o SET "
        f"{', '.join(f'{column} = c.{column}' for column in columns)} "
        f"FROM unnest({', '.join(casts)}) AS c(id, {', '.join(columns)}) WHERE o.id = c.id"
    )
    with connection.cursor() as cursor:
        for start in range(0, len(rows), UPDATE_CHUNK):
            if progress is not None:
                progress(start, len(rows))
            arrays = [list(column) for column in zip(*rows[start : start + UPDATE_CHUNK], strict=True)]
            for index in json_fields:
                arrays[index] = [connection.ops.adapt_json_value(value, None) for value in arrays[index]]
            cursor.execute(sql, arrays)
    history_insert_select(model, [row[0] for row in rows], user=user, reason=reason)


def _update_small(model, fields: Sequence[str], rows: Sequence[Sequence], *, user, reason: str) -> None:
    instances = model.objects.in_bulk([row[0] for row in rows])
    for pk, *values in rows:
        for name, value in zip(fields, values, strict=True):
            setattr(instances[pk], name, value)
    bulk_update_with_history(
        list(instances.values()), model, list(fields), batch_size=500, default_user=user,
        default_change_reason=reason,
    )  # fmt: skip
