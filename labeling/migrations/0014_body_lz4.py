from django.db import migrations, transaction
from django.db.utils import DatabaseError

TABLES = ("labeling_content", "labeling_historicalcontent")


def compress_bodies_with_lz4(apps, schema_editor):
    """Bodies over 2 kB are compressed as they are stored, in the content and its history row: lz4 does that
    several times faster than PostgreSQL's default pglz (same size here), which imports feel. Only new values
    use it; a server built without lz4 keeps pglz."""
    if schema_editor.connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic():
            for table in TABLES:
                schema_editor.execute(f"ALTER TABLE {table} ALTER COLUMN body SET COMPRESSION lz4")
    except DatabaseError:
        pass


def back(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for table in TABLES:
            schema_editor.execute(f"ALTER TABLE {table} ALTER COLUMN body SET COMPRESSION default")


class Migration(migrations.Migration):
    dependencies = [("labeling", "0013_lean_history")]
    operations = [migrations.RunPython(compress_bodies_with_lz4, back)]
