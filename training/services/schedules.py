"""Retraining schedules: a nightly run and a "retrain when dirty" check, as django-celery-beat tasks."""

import json

from django.conf import settings
from django.db import transaction
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from core.history import save_with_history
from labeling.selectors.versions import dataset_dirty
from training.errors import TrainingError
from training.models import RetrainSchedule, TrainingRun
from training.selectors import dataset_champion_run


def _task_name(schedule: RetrainSchedule, kind: str) -> str:
    return f"bunryu: {kind} retraining of dataset {schedule.dataset_id}"


def _sync_task(name: str, *, task: str, args: list, enabled: bool, **when) -> None:
    if not enabled:
        PeriodicTask.objects.filter(name=name).delete()
        return
    PeriodicTask.objects.update_or_create(
        name=name,
        defaults={
            "task": task,
            "args": json.dumps(args),
            "enabled": True,
            "interval": None,
            "crontab": None,
            **when,
        },
    )


@transaction.atomic
def schedule_save(*, dataset, user, values: dict) -> RetrainSchedule:
    """Create or change a dataset's retraining schedule and the beat tasks that carry it out."""
    schedule = RetrainSchedule.objects.filter(dataset=dataset).first() or RetrainSchedule(dataset=dataset)
    if values.get("algorithm", schedule.algorithm) != schedule.algorithm and "params" not in values:
        values = values | {"params": {}}  # the old algorithm's parameters mean nothing to the new one
    for name, value in values.items():
        setattr(schedule, name, value)
    from training.algorithms import ParameterError, algorithm_class  # scikit-learn & co.: not at start-up

    try:
        algorithm_class(schedule.algorithm).parse_params(schedule.params or {})
    except ParameterError as error:
        raise TrainingError(str(error)) from None
    if schedule.nightly_hour is not None and not 0 <= schedule.nightly_hour <= 23:
        raise TrainingError("The nightly hour is between 0 and 23.")
    if schedule.check_minutes < 1:
        raise TrainingError("The dirty-check runs at least every minute.")
    schedule._change_reason = f"schedule edited by {user}"
    schedule.save()
    nightly = schedule.enabled and schedule.nightly_hour is not None
    crontab = (
        CrontabSchedule.objects.get_or_create(
            minute="0", hour=str(schedule.nightly_hour or 0), timezone=settings.TIME_ZONE
        )[0]
        if nightly
        else None
    )
    _sync_task(
        _task_name(schedule, "nightly"),
        task="training.tasks.scheduled_training_task",
        args=[dataset.id, "nightly"],
        enabled=nightly,
        crontab=crontab,
    )
    dirty = schedule.enabled and schedule.dirty_threshold is not None
    interval = (
        IntervalSchedule.objects.get_or_create(every=schedule.check_minutes, period=IntervalSchedule.MINUTES)[
            0
        ]
        if dirty
        else None
    )
    _sync_task(
        _task_name(schedule, "dirty"),
        task="training.tasks.scheduled_training_task",
        args=[dataset.id, "dirty"],
        enabled=dirty,
        interval=interval,
    )
    return schedule


def changes_since_champion(dataset) -> int:
    """Examples changed (added, relabelled, status, text, removed) since the champion's version."""
    champion = dataset_champion_run(dataset)
    check = dataset_dirty(dataset, since=champion.version if champion else None)
    return check.changes


def scheduled_training(*, dataset, reason: str) -> TrainingRun | None:
    """Start the scheduled run when due: never beside a queued or running one; "dirty" past its threshold.

    The nightly and the dirty-check tasks may fire at once: the schedule's row is locked while one of them
    checks for an active run and starts its own, so the other sees that run and starts nothing."""
    with transaction.atomic():
        schedule = RetrainSchedule.objects.select_for_update().filter(dataset=dataset, enabled=True).first()
        if schedule is None:
            return None
        if TrainingRun.objects.filter(
            dataset=dataset, status__in=(TrainingRun.Status.QUEUED, TrainingRun.Status.RUNNING)
        ).exists():
            return None
        if reason == "dirty" and (
            schedule.dirty_threshold is None or changes_since_champion(dataset) < schedule.dirty_threshold
        ):
            return None
        # Imported here: the training stack (numpy, scikit-learn) is not for every command's start-up.
        from training.services.runs import run_start

        run = run_start(
            dataset=dataset,
            user=None,
            algorithm=schedule.algorithm,
            params=schedule.params,
            source=TrainingRun.Source.SCHEDULE,
        )
        schedule.last_started_run = run
        save_with_history(
            schedule, user=None, reason=f"{reason} run #{run.id} started", update_fields=["last_started_run"]
        )
    return run
