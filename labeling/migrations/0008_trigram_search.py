from django.db import migrations

TRIGRAM_SQL = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS content_title_trgm ON labeling_content USING gin (title gin_trgm_ops)",
]


def add_trigram_indexes(apps, schema_editor):
    """Substring search of titles over 500k contents on PostgreSQL. Bodies are not indexed: a trigram index
    on long bodies slows every import several times over; body search is opt-in and scans."""
    if schema_editor.connection.vendor != "postgresql":
        return
    for statement in TRIGRAM_SQL:
        schema_editor.execute(statement)


def drop_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS content_title_trgm")


class Migration(migrations.Migration):
    dependencies = [("labeling", "0007_queue_claim")]
    operations = [migrations.RunPython(add_trigram_indexes, drop_trigram_indexes)]
