"""PostgreSQL keeps an upload's bytes uncompressed (STORAGE EXTERNAL), so the import jobs can read them a
slice at a time (labeling/services/uploads.py) without decompressing everything before each slice."""

from django.db import migrations


def uncompressed(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE labeling_exampleimport ALTER COLUMN data SET STORAGE EXTERNAL")


def compressed(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE labeling_exampleimport ALTER COLUMN data SET STORAGE EXTENDED")


class Migration(migrations.Migration):
    dependencies = [("labeling", "0018_example_note_max_length")]
    operations = [migrations.RunPython(uncompressed, compressed)]
