"""Inserting many history-tracked rows at once, with their history rows.

On PostgreSQL rows and their history rows go in through COPY, both from the same values: for 100k rows that
is seconds, where Django's multi-row INSERT spends most of its time building parameters. SQLite
(the embedded default) uses `bulk_create_with_history`.
"""

from collections.abc import Iterable, Sequence

from django.db import connection, models
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from core.history import HISTORY_COLUMNS, history_stamp, history_tracked

Row = models.Model | dict  # an unsaved instance, or its field values by attname (cheaper to build)


def reserve_ids(model: type[models.Model], count: int) -> list[int]:
    """Take `count` ids from the table's sequence, so rows can be copied with their ids known.

    A sequence may hand out blocks: with INCREMENT BY n each nextval() owns the n ids from the value it
    returns (another writer's nextval() starts past them), so `count` ids cost count / n calls. Ids past
    `count` in the last block are left unused."""
    with connection.cursor() as cursor:
        # One round trip: the sequence and its increment looked up once, the blocks' starts as one array.
        cursor.execute(
            "WITH serial AS (SELECT pg_get_serial_sequence(%s, 'id')::regclass AS sequence), "
            "step AS (SELECT sequence, seqincrement AS size "
            "FROM serial JOIN pg_sequence ON seqrelid = sequence) "
            "SELECT size, array_agg(nextval(sequence)) FROM step, "
            "generate_series(1, ceil(%s::numeric / size)::int) GROUP BY size",
            [model._meta.db_table, count],
        )
        size, starts = cursor.fetchone()
    return [start + offset for start in starts for offset in range(size)][:count]


def _values(model: type[models.Model], rows: Sequence[dict]) -> list[list]:
    """Each row's values in column order: a missing one gets its default; auto_now(_add) fields get one
    timestamp for the whole batch, as pre_save would give each row its own."""
    now = timezone.now()
    stamped, defaults = set(), {}
    for field in model._meta.concrete_fields:
        defaults[field.attname] = field.get_default()
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            stamped.add(field.attname)
    return [
        [now if name in stamped else row.get(name, default) for name, default in defaults.items()]
        for row in rows
    ]


# (table, columns): their type oids, read once per process (a deploy that changes them restarts it)
_column_types: dict[tuple, list] = {}


def copy_rows(table: str, columns: list[str], rows: Iterable[list], *, sent_as: dict | None = None) -> None:
    """Rows by binary COPY. `sent_as` names the type whose binary form a column's values are sent in, where
    it differs from the column's own (a `json` column's binary form is its text: bytes already written as JSON
    go as `bytea`, as they are, without a dumper per value)."""
    quoted = ", ".join(connection.ops.quote_name(column) for column in columns)
    with connection.cursor() as cursor:
        types = _column_types.get(key := (table, tuple(columns)))
        if types is None:
            cursor.execute(f"SELECT {quoted} FROM {table} LIMIT 0")
            types = _column_types[key] = [column.type_code for column in cursor.description]
        if sent_as:
            types = [sent_as.get(column, oid) for column, oid in zip(columns, types, strict=True)]
        # Binary COPY: values are sent as they are, without the text format's escaping of every body.
        with cursor.cursor.copy(f"COPY {table} ({quoted}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(types)
            for values in rows:
                copy.write_row(values)


def copy_lines(table: str, columns: list[str], lines: Iterable[str], *, chunk: int = 20_000) -> None:
    """COPY in the text format: each line one row, values tab-separated (`copy_text` for free text).

    For many narrow rows built from arrays: one formatted string per row costs a fraction of
    psycopg's per-value binary dumping (which also serialises every JSON value with json.dumps)."""
    quoted = ", ".join(connection.ops.quote_name(column) for column in columns)
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
        batch: list[str] = []
        for line in lines:
            batch.append(line)
            if len(batch) >= chunk:
                copy.write("".join(batch))
                batch.clear()
        if batch:
            copy.write("".join(batch))


def copy_text(value: str) -> str:
    """A text value as COPY's text format needs it (backslash, tab and line ends escaped)."""
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _history_rows(model: type[models.Model], rows: list[list], *, user, reason: str, changeset) -> tuple:
    """The history table's columns and one '+' row per copied row, from the same values: no second
    read of the rows (their bodies) on the server, no array of ids to send."""
    position = {field.attname: index for index, field in enumerate(model._meta.concrete_fields)}
    tracked = history_tracked(model)
    picks = [position[field.attname] for field in tracked]
    extra = history_stamp("+", user=user, reason=reason, changeset=changeset)
    columns = [field.column for field in tracked] + list(HISTORY_COLUMNS)
    return columns, ([row[index] for index in picks] + extra for row in rows)


def insert_with_history(
    model: type[models.Model], rows: Sequence[Row], *, user, reason: str, changeset=None
) -> list[int]:
    """Insert `rows` and one '+' history row each, naming the user, reason and changeset; returns their ids
    (in order; instances get their pk set)."""
    if not rows:
        return []
    if connection.vendor != "postgresql":
        instances = [row if isinstance(row, models.Model) else model(**row) for row in rows]
        attrs = {"changeset_id": changeset.id} if changeset else None
        bulk_create_with_history(
            instances,
            model,
            batch_size=2000,
            default_user=user,
            default_change_reason=reason,
            custom_historical_attrs=attrs,
        )
        return [instance.pk for instance in instances]
    ids = reserve_ids(model, len(rows))
    values = [row.__dict__ if isinstance(row, models.Model) else row for row in rows]
    pk = model._meta.pk.attname
    for row, new_id in zip(values, ids, strict=True):
        row[pk] = new_id
    copied = _values(model, values)
    copy_rows(model._meta.db_table, [field.column for field in model._meta.concrete_fields], copied)
    columns, history = _history_rows(model, copied, user=user, reason=reason, changeset=changeset)
    copy_rows(model.history.model._meta.db_table, columns, history)
    return ids
