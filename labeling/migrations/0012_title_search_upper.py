from django.db import migrations


def use_upper_title_index(apps, schema_editor):
    """Django's icontains compares UPPER(title): index that expression, not the plain column."""
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS content_title_trgm")
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS content_title_upper_trgm ON labeling_content "
        "USING gin ((UPPER(title)) gin_trgm_ops)"
    )


def back(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS content_title_upper_trgm")


class Migration(migrations.Migration):
    dependencies = [("labeling", "0011_example_recent_first")]
    operations = [migrations.RunPython(use_upper_title_index, back)]
