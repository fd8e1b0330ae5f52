# Job moves to the core app (core.0001_initial takes it into its state). The rows stay: the table is renamed.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("labeling", "0016_content_words"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.AlterModelTable(name="job", table="core_job")],
            state_operations=[migrations.DeleteModel(name="Job")],
        ),
    ]
