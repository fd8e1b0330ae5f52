"""The prediction log's ids come in blocks of 1,000 (see core.inserts.reserve_ids): a batch's
rows take one nextval() instead of 1,000 (~7 ms of PostgreSQL CPU per 1,000 answers).

Going to blocks needs nothing else: the next value is past every id handed out so far. Going back, the
sequence first moves past the last block handed out."""

from django.db import migrations

BLOCK = 1000


def _sequence(schema_editor) -> str:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_serial_sequence('training_predictionlog', 'id')")
        return cursor.fetchone()[0]


def _blocks(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":  # SQLite has no sequences
        schema_editor.execute(f"ALTER SEQUENCE {_sequence(schema_editor)} INCREMENT BY {BLOCK}")


def _single_ids(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        sequence = _sequence(schema_editor)
        schema_editor.execute(f"SELECT setval('{sequence}', (SELECT last_value FROM {sequence}) + {BLOCK - 1})")
        schema_editor.execute(f"ALTER SEQUENCE {sequence} INCREMENT BY 1")


class Migration(migrations.Migration):
    dependencies = [("training", "0004_lean_prediction_log")]

    operations = [migrations.RunPython(_blocks, _single_ids)]
