"""Writes behind the classification API: rule mappings, the ensemble configuration, trying a rule out."""

from dataclasses import dataclass

from django.db import transaction

from core.errors import ApplicationError
from core.history import save_with_history
from labeling.models import Category, Content, Dataset
from labeling.services.queue import dataset_pool
from training.ensemble import Rule, RuleError, rule_compile
from training.models import EnsembleConfig, RuleMapping, TrainingRun
from training.serving import ensemble_config

TRY_CONTENTS = 1000


def _rule(values: dict) -> Rule:
    category = values.get("category")
    return Rule(
        name=values.get("name", "test"),
        kind=values.get("kind", ""),
        pattern=values.get("pattern", ""),
        category=category.id if category else 0,
        weight=values.get("weight", 1.0),
        priority=values.get("priority", 0),
    )


@transaction.atomic
def rule_save(*, dataset: Dataset, user, values: dict, rule: RuleMapping | None = None) -> RuleMapping:
    """Create or change a rule; its pattern is checked first (a rule that cannot run is never saved)."""
    category = values.get("category")
    if category is None or category.taxonomy_id != dataset.taxonomy_id or category.is_large:
        raise ApplicationError("A rule points at a small category of the dataset's taxonomy.")
    try:
        rule_compile(_rule(values))
    except RuleError as error:
        raise ApplicationError(str(error)) from None
    if not values.get("name", "").strip():
        raise ApplicationError("Name the rule.")
    clash = RuleMapping.objects.filter(dataset=dataset, name=values["name"].strip())
    if clash.exclude(pk=rule.pk if rule else None).exists():
        raise ApplicationError(f"Dataset {dataset.name} already has a rule named {values['name']!r}.")
    rule = rule or RuleMapping(dataset=dataset)
    for name, value in values.items():
        setattr(rule, name, value.strip() if isinstance(value, str) else value)
    save_with_history(rule, user=user, reason="rule edited" if rule.pk else "rule created")
    return rule


@dataclass
class RuleTrial:
    texts: list[tuple[str, bool]]  # each text given, and whether the rule fires on it
    contents_checked: int
    contents_fired: list[Content]
    fired_count: int


def rule_try(*, dataset: Dataset, values: dict, texts: list[str]) -> RuleTrial:
    """What a rule (saved or not) would do to the given texts and to the dataset's 1,000 newest contents."""
    try:
        compiled = rule_compile(_rule(values))
    except RuleError as error:
        raise ApplicationError(str(error)) from None
    given = [(text, compiled.fires(text)) for text in texts if text.strip()]
    newest = list(dataset_pool(dataset).order_by("-modified_at", "-id")[:TRY_CONTENTS])
    fired = [c for c in newest if compiled.fires(f"{c.title}\n{c.body}", c.source)]
    return RuleTrial(given, len(newest), fired[:20], len(fired))


@transaction.atomic
def ensemble_save(*, dataset: Dataset, user, values: dict, runs: list[TrainingRun]) -> EnsembleConfig:
    """Change which models vote and how; the version goes up so answers say which configuration made them."""
    for run in runs:
        if run.dataset_id != dataset.id or run.status != TrainingRun.Status.SUCCEEDED:
            raise ApplicationError(f"Run #{run.id} is not a successful run of {dataset.name}.")
    for name in ("champion_weight", "run_weight", "rule_weight"):
        if name in values and values[name] < 0:
            raise ApplicationError(f"{name.replace('_', ' ')} cannot be negative.")
    config = EnsembleConfig.objects.select_for_update().get(pk=ensemble_config(dataset).pk)
    if not values.get("include_champion", config.include_champion) and not runs:
        raise ApplicationError("Choose at least one model: the champion or other runs.")
    for name, value in values.items():
        setattr(config, name, value)
    config.version += 1
    config.updated_by = user
    save_with_history(config, user=user, reason=f"ensemble v{config.version}")
    config.runs.set(runs)
    return config


def small_categories(dataset: Dataset):
    return Category.objects.filter(
        taxonomy=dataset.taxonomy, level=Category.Level.SMALL, status=Category.Status.ACTIVE
    ).select_related("parent")
