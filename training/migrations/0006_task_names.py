# Tasks end in _task: beat rows written before (the retraining schedules) name the new task.

from django.db import migrations
from django.utils import timezone

RENAMED = {
    "training.tasks.scheduled_training": "training.tasks.scheduled_training_task",
    "training.tasks.training_runs_reap": "training.tasks.training_runs_reap_task",
}


def rename(apps, schema_editor, renamed=RENAMED):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    changed = 0
    for old, new in renamed.items():
        changed += PeriodicTask.objects.filter(task=old).update(task=new)
    if changed:  # a running beat reloads its schedule when this stamp moves
        apps.get_model("django_celery_beat", "PeriodicTasks").objects.update_or_create(
            ident=1, defaults={"last_update": timezone.now()}
        )


def rename_back(apps, schema_editor):
    rename(apps, schema_editor, {new: old for old, new in RENAMED.items()})


class Migration(migrations.Migration):
    dependencies = [
        ("training", "0005_prediction_log_id_blocks"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(rename, rename_back)]
