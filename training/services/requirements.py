"""Model requirements of a dataset, edited by category managers (history-tracked)."""

from django.db import transaction

from training.errors import TrainingError
from training.models import ModelRequirement
from training.selectors import dataset_requirement

SHARES = ("min_accuracy", "min_macro_f1", "min_important_recall")
LIMITS = ("max_train_seconds", "max_latency_p99_ms", "max_model_mb")


@transaction.atomic
def requirement_update(*, dataset, user, values: dict) -> ModelRequirement:
    """Set the requirements (None clears one); shares lie in [0, 1], limits are positive."""
    requirement = dataset_requirement(dataset)
    for name in SHARES:
        if values.get(name) is not None and not 0 <= values[name] <= 1:
            raise TrainingError(f"{name.replace('_', ' ')} is a share between 0 and 1, not {values[name]}.")
    for name in LIMITS:
        if values.get(name) is not None and values[name] <= 0:
            raise TrainingError(f"{name.replace('_', ' ')} must be positive, not {values[name]}.")
    metric = values.get("primary_metric", requirement.primary_metric)
    if metric not in ModelRequirement.Metric.values:
        raise TrainingError(f"The primary metric is one of {', '.join(ModelRequirement.Metric.values)}.")
    for name in (*SHARES, *LIMITS, "primary_metric", "auto_promote"):
        if name in values:
            setattr(requirement, name, values[name])
    requirement.updated_by = user
    requirement._change_reason = "requirements edited"
    requirement.save()
    return requirement
