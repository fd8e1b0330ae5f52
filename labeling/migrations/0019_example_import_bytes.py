"""An upload's bytes move to their own table (ExampleImportBytes), so updating an import's status or preview
never rewrites them (SQLite rewrites a whole row on any update); PostgreSQL keeps them uncompressed (STORAGE
EXTERNAL), so the import jobs read them a slice at a time (labeling/services/uploads.py) without
decompressing everything before each slice."""

import django.db.models.deletion
from django.db import migrations, models


def copy_bytes(apps, schema_editor):
    upload_model = apps.get_model("labeling", "ExampleImport")
    bytes_model = apps.get_model("labeling", "ExampleImportBytes")
    for pk in upload_model.objects.values_list("pk", flat=True):
        data = upload_model.objects.filter(pk=pk).values_list("data", flat=True).get()
        bytes_model.objects.create(upload_id=pk, data=data)


def copy_back(apps, schema_editor):
    upload_model = apps.get_model("labeling", "ExampleImport")
    for row in apps.get_model("labeling", "ExampleImportBytes").objects.all():
        upload_model.objects.filter(pk=row.upload_id).update(data=row.data)


def uncompressed(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE labeling_exampleimportbytes ALTER COLUMN data SET STORAGE EXTERNAL")


class Migration(migrations.Migration):
    dependencies = [("labeling", "0018_example_note_max_length")]
    operations = [
        migrations.CreateModel(
            name="ExampleImportBytes",
            fields=[
                (
                    "upload",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="bytes",
                        serialize=False,
                        to="labeling.exampleimport",
                    ),
                ),
                ("data", models.BinaryField()),
            ],
        ),
        migrations.RunPython(uncompressed, migrations.RunPython.noop),
        migrations.RunPython(copy_bytes, copy_back),
        migrations.AlterField(model_name="exampleimport", name="data", field=models.BinaryField(default=b"")),
        migrations.RemoveField(model_name="exampleimport", name="data"),
    ]
