"""Requirement verdicts and the champion: automatic promotion, promotion by hand, demotion."""

from django.db import transaction

from labeling.models import Category
from training.errors import TrainingError
from training.models import Champion, ChampionChange, ModelRequirement, TrainingRun
from training.selectors import dataset_requirement
from training.services.artifacts import artifact_verified

MB = 1024 * 1024


def _verdict(label: str, value, threshold, passed: bool) -> dict:
    return {"requirement": label, "value": value, "threshold": threshold, "passed": bool(passed)}


def run_verdicts(run: TrainingRun, requirement: ModelRequirement) -> list[dict]:
    """One verdict per requirement set (per important category for the recall requirement)."""
    verdicts = []
    if requirement.min_accuracy is not None:
        verdicts.append(
            _verdict(
                "accuracy", run.accuracy, requirement.min_accuracy, run.accuracy >= requirement.min_accuracy
            )
        )
    if requirement.min_macro_f1 is not None:
        verdicts.append(
            _verdict(
                "macro-F1", run.macro_f1, requirement.min_macro_f1, run.macro_f1 >= requirement.min_macro_f1
            )
        )
    if requirement.min_important_recall is not None:
        per_category = run.metrics.get("per_category", {})
        important = Category.objects.filter(taxonomy_id=run.dataset.taxonomy_id, level=2, is_important=True)
        for category in important.order_by("name"):
            recall = per_category.get(str(category.id), {}).get("recall")
            passed = recall is not None and recall >= requirement.min_important_recall
            verdicts.append(
                _verdict(f"recall of {category.name}", recall, requirement.min_important_recall, passed)
            )
    limits = (
        ("training seconds", run.train_seconds, requirement.max_train_seconds),
        ("latency p99 ms", run.latency_p99_ms, requirement.max_latency_p99_ms),
        ("model MB", run.model_bytes / MB if run.model_bytes is not None else None, requirement.max_model_mb),
    )
    for label, value, limit in limits:
        if limit is not None:
            verdicts.append(_verdict(label, value, limit, value is not None and value <= limit))
    return verdicts


def _set_champion(run: TrainingRun | None, *, dataset, action: str, user, reason: str) -> ChampionChange:
    current = Champion.objects.select_for_update().filter(dataset=dataset).first()
    previous = current.run if current else None
    if run is None:
        if current:
            current.delete()
    elif current:
        current.run = run
        current.save()
    else:
        Champion.objects.create(dataset=dataset, run=run)
    return ChampionChange.objects.create(
        dataset=dataset, action=action, run=run, previous_run=previous, user=user, reason=reason
    )


def champion_consider(run: TrainingRun) -> ChampionChange | None:
    """Promote a finished run automatically when it meets every requirement and beats the champion."""
    requirement = dataset_requirement(run.dataset)
    if not requirement.auto_promote or not run.meets_requirements:
        return None
    metric = requirement.primary_metric
    current = (
        Champion.objects.select_for_update(of=("self",))
        .filter(dataset=run.dataset)
        .select_related("run")
        .first()
    )
    if current and (current.run.metric(metric) or 0) >= (run.metric(metric) or 0):
        return None
    before = f"{current.run.metric(metric):.4f} of run #{current.run_id}" if current else "no champion"
    reason = f"meets every requirement; {metric} {run.metric(metric):.4f} beats {before}"
    return _set_champion(
        run, dataset=run.dataset, action=ChampionChange.Action.AUTO_PROMOTE, user=None, reason=reason
    )


@transaction.atomic
def champion_promote(*, run: TrainingRun, user, reason: str) -> ChampionChange:
    """Make `run` the champion by hand (also how an earlier champion is restored)."""
    run = TrainingRun.objects.select_for_update().get(pk=run.pk)
    if run.status != TrainingRun.Status.SUCCEEDED:
        raise TrainingError(
            f"Run #{run.id} is {run.status}: only a finished, successful run can be champion."
        )
    if not reason.strip():
        raise TrainingError("Say why this run should be the champion.")
    if not artifact_verified(run):
        raise TrainingError(
            f"The model files of run #{run.id} are missing or changed on disk; retrain instead."
        )
    current = Champion.objects.filter(dataset=run.dataset).first()
    if current and current.run_id == run.id:
        raise TrainingError(f"Run #{run.id} already is the champion.")
    return _set_champion(
        run, dataset=run.dataset, action=ChampionChange.Action.PROMOTE, user=user, reason=reason.strip()
    )


@transaction.atomic
def champion_demote(*, dataset, user, reason: str) -> ChampionChange:
    """Remove the champion; the one it replaced (if its model is still there) takes its place again."""
    current = Champion.objects.select_for_update().filter(dataset=dataset).first()
    if current is None:
        raise TrainingError("This dataset has no champion to demote.")
    if not reason.strip():
        raise TrainingError("Say why the champion is demoted.")
    # The promotion that first made it champion says whom it replaced; a demote that brought it back names
    # the run demoted then as `previous_run`, which must not come back now.
    promoted = ChampionChange.objects.filter(dataset=dataset, run=current.run).exclude(
        action=ChampionChange.Action.DEMOTE
    )
    last = promoted.first()
    earlier = last.previous_run if last else None
    if earlier is not None and not artifact_verified(earlier):
        earlier = None
    return _set_champion(
        earlier, dataset=dataset, action=ChampionChange.Action.DEMOTE, user=user, reason=reason.strip()
    )
