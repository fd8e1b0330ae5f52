"""Training runs, their out-of-fold predictions, model requirements and the champion of each dataset."""

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from labeling.models import Category, Content, Dataset, DatasetVersion


class TrainingRun(models.Model):
    """One model trained on one dataset version, evaluated and judged against the dataset's requirements."""

    class Status(models.TextChoices):
        QUEUED = "queued", "queued"
        RUNNING = "running", "running"
        SUCCEEDED = "succeeded", "succeeded"
        FAILED = "failed", "failed"
        CANCELLED = "cancelled", "cancelled"

    FINISHED = (Status.SUCCEEDED, Status.FAILED, Status.CANCELLED)

    class Source(models.TextChoices):
        PAGE = "page", "page"
        COMMAND = "command", "command line"
        SCHEDULE = "schedule", "schedule"
        API = "api", "API"

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="training_runs")
    version = models.ForeignKey(DatasetVersion, on_delete=models.PROTECT, related_name="training_runs")
    algorithm = models.CharField(max_length=40)
    params = models.JSONField(default=dict, help_text="every parameter, defaults included")
    fitted_params = models.JSONField(default=dict, blank=True, help_text="what autotune chose")
    folds = models.PositiveSmallIntegerField(default=5)
    holdout_share = models.FloatField(default=0.2)
    refit_all = models.BooleanField(
        default=True, help_text="after evaluation, fit the served model on every row of the version"
    )
    seed = models.PositiveIntegerField(default=42)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.PAGE)

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    stage = models.CharField(max_length=60, blank=True)
    progress = models.FloatField(default=0.0)
    message = models.TextField(blank=True)
    cancel_requested = models.BooleanField(default=False)
    worker = models.CharField(max_length=200, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    example_count = models.PositiveIntegerField(default=0)
    holdout_count = models.PositiveIntegerField(default=0)
    accuracy = models.FloatField(null=True, blank=True)
    macro_f1 = models.FloatField(null=True, blank=True)
    metrics = models.JSONField(default=dict, blank=True, help_text="per category (by id) and confusion")
    train_seconds = models.FloatField(null=True, blank=True, help_text="final fit only")
    refit_seconds = models.FloatField(null=True, blank=True, help_text="the fit on every row, when refitted")
    served_rows = models.PositiveIntegerField(null=True, blank=True, help_text="rows the saved model saw")
    kfold_seconds = models.FloatField(null=True, blank=True)
    model_bytes = models.BigIntegerField(null=True, blank=True)
    latency_p50_ms = models.FloatField(null=True, blank=True)
    latency_p99_ms = models.FloatField(null=True, blank=True)
    artifact_path = models.CharField(max_length=500, blank=True)
    artifact_sha256 = models.CharField(max_length=64, blank=True)
    verdicts = models.JSONField(default=list, blank=True)
    meets_requirements = models.BooleanField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["dataset", "-created_at"], name="run_recent_first")]

    def __str__(self) -> str:
        return f"run #{self.id} {self.algorithm} on {self.dataset} v{self.version.number}"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED

    def metric(self, name: str) -> float | None:
        return {"accuracy": self.accuracy, "macro_f1": self.macro_f1}.get(name)


class OutOfFoldPrediction(models.Model):
    """What a model trained without an example predicted for it (k-fold): the input of label verification."""

    run = models.ForeignKey(TrainingRun, on_delete=models.CASCADE, related_name="out_of_fold")
    content = models.ForeignKey(Content, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    given = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    predicted = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    given_probability = models.FloatField()
    predicted_probability = models.FloatField()
    in_holdout = models.BooleanField(default=False)
    label_quality = models.FloatField(
        default=0.0, help_text="p(given) - max p(other): the lower, the more likely the label is wrong"
    )
    likely_error = models.BooleanField(
        default=False, help_text="confident learning counts it as a label issue"
    )
    top = models.JSONField(default=list, help_text="[[category id, probability], ...] best first, up to 5")

    class Meta:
        indexes = [
            models.Index(fields=["run", "given", "predicted"], name="oof_by_cell"),
            models.Index(fields=["run", "content"], name="oof_by_content"),
            models.Index(fields=["run", "label_quality"], name="oof_most_suspicious"),
        ]

    def __str__(self) -> str:
        return f"run #{self.run_id}: content {self.content_id} {self.given_id} -> {self.predicted_id}"


class ModelRequirement(models.Model):
    """What a model must meet before it may become a dataset's champion; blank = no requirement."""

    class Metric(models.TextChoices):
        ACCURACY = "accuracy", "accuracy"
        MACRO_F1 = "macro_f1", "macro-F1"

    dataset = models.OneToOneField(Dataset, on_delete=models.CASCADE, related_name="requirement")
    primary_metric = models.CharField(max_length=10, choices=Metric.choices, default=Metric.ACCURACY)
    auto_promote = models.BooleanField(
        default=True, help_text="promote a run that meets every requirement and beats the champion"
    )
    min_accuracy = models.FloatField(null=True, blank=True)
    min_macro_f1 = models.FloatField(null=True, blank=True)
    min_important_recall = models.FloatField(
        null=True, blank=True, help_text="held-out recall every important category must reach"
    )
    max_train_seconds = models.FloatField(null=True, blank=True)
    max_latency_p99_ms = models.FloatField(null=True, blank=True)
    max_model_mb = models.FloatField(null=True, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    def __str__(self) -> str:
        return f"requirements of {self.dataset}"


class Champion(models.Model):
    """The run whose model serves a dataset now."""

    dataset = models.OneToOneField(Dataset, on_delete=models.CASCADE, related_name="champion")
    run = models.ForeignKey(TrainingRun, on_delete=models.PROTECT, related_name="+")
    since = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"champion of {self.dataset}: run #{self.run_id}"


class ChampionChange(models.Model):
    """Every change of champion: automatic promotion, promotion by hand (or restoring), demotion."""

    class Action(models.TextChoices):
        AUTO_PROMOTE = "auto", "promoted automatically"
        PROMOTE = "promote", "promoted by hand"
        DEMOTE = "demote", "demoted"

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="champion_changes")
    action = models.CharField(max_length=10, choices=Action.choices)
    run = models.ForeignKey(
        TrainingRun,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="champion after",
    )
    previous_run = models.ForeignKey(
        TrainingRun, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_action_display()}: run #{self.run_id} (was #{self.previous_run_id})"


class RetrainSchedule(models.Model):
    """When a dataset retrains by itself: nightly, and/or once enough changed since the champion's version.

    Saving one keeps its django-celery-beat PeriodicTask in step (see `training.services.schedules`).
    """

    dataset = models.OneToOneField(Dataset, on_delete=models.CASCADE, related_name="retrain_schedule")
    enabled = models.BooleanField(default=True)
    algorithm = models.CharField(max_length=40, default="tfidf-svm")
    params = models.JSONField(default=dict, blank=True)
    nightly_hour = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="hour (server time zone) of a nightly run; blank = no nightly run"
    )
    dirty_threshold = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="retrain when this many examples changed since the champion's version",
    )
    check_minutes = models.PositiveIntegerField(default=30, help_text="how often the dirty-check runs")
    last_started_run = models.ForeignKey(
        TrainingRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    history = HistoricalRecords()

    def __str__(self) -> str:
        return f"retraining of {self.dataset}"


class LabelReview(models.Model):
    """A person's decision on an example the champion doubted: keep its label, relabel it, or exclude it."""

    class Decision(models.TextChoices):
        KEEP = "keep", "kept the label"
        RELABEL = "relabel", "relabelled"
        EXCLUDE = "exclude", "excluded"

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="label_reviews")
    run = models.ForeignKey(TrainingRun, on_delete=models.SET_NULL, null=True, related_name="+")
    content = models.ForeignKey(Content, on_delete=models.CASCADE, related_name="+")
    decision = models.CharField(max_length=10, choices=Decision.choices)
    given = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="+")
    chosen = models.ForeignKey(Category, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    changeset = models.ForeignKey(
        "labeling.Changeset", on_delete=models.SET_NULL, null=True, related_name="+"
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["dataset", "content", "-created_at"], name="review_latest")]

    def __str__(self) -> str:
        return f"{self.user} {self.decision} content {self.content_id}"


class RuleMapping(models.Model):
    """A rule voting for a category: keywords, a regular expression (RE2, linear time), or a source prefix."""

    class Kind(models.TextChoices):
        KEYWORDS = "keywords", "keywords (any of, comma-separated)"
        REGEX = "regex", "regular expression"
        SOURCE = "source", "source / domain prefix"

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="rules")
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    pattern = models.TextField()
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="+")
    weight = models.FloatField(default=1.0)
    priority = models.IntegerField(default=0, help_text="higher first; breaks ties between equal scores")
    enabled = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-priority", "name"]
        constraints = [models.UniqueConstraint(fields=["dataset", "name"], name="one_rule_name_per_dataset")]

    def __str__(self) -> str:
        return f"{self.name}: {self.kind} -> {self.category}"


class EnsembleConfig(models.Model):
    """How a dataset classifies: which models vote (the champion and chosen runs), the rules' weight, the rule
    that unanimous models override rules. Every save bumps `version`, which answers carry."""

    dataset = models.OneToOneField(Dataset, on_delete=models.CASCADE, related_name="ensemble")
    include_champion = models.BooleanField(default=True)
    runs = models.ManyToManyField(TrainingRun, blank=True, related_name="+", help_text="other runs that vote")
    champion_weight = models.FloatField(default=1.0)
    run_weight = models.FloatField(default=1.0, help_text="weight of each other run")
    rule_weight = models.FloatField(default=1.0, help_text="multiplies every rule's own weight")
    unanimous_models_win = models.BooleanField(default=True)
    min_models_for_unanimity = models.PositiveSmallIntegerField(default=2)
    version = models.PositiveIntegerField(default=1)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(m2m_fields=[runs])

    def __str__(self) -> str:
        return f"ensemble v{self.version} of {self.dataset}"


class LogJSONField(models.JSONField):
    """JSON stored as PostgreSQL's `json` (the text, checked) rather than `jsonb` (parsed into a tree): a
    logged explanation is written once and read whole, so parsing it on write is cost without use."""

    def db_type(self, connection):
        return "json" if connection.vendor == "postgresql" else super().db_type(connection)

    def get_db_prep_value(self, value, connection, prepared=False):
        if connection.vendor == "postgresql" and value is not None:
            from psycopg.types.json import Json  # not at start-up: the embedded default has no psycopg use

            return Json(value)
        return super().get_db_prep_value(value, connection, prepared)

    def from_db_value(self, value, expression, connection):
        if value is None or not isinstance(value, (str, bytes)):  # psycopg parses `json` columns itself
            return value
        return super().from_db_value(value, expression, connection)


def _log_reference(to, on_delete, *, related_name: str = "+", **options) -> models.ForeignKey:
    """A reference from the log without a database constraint or index: Django still applies `on_delete`,
    and rows are written only by classification with ids it has just read. The constraints' checks were
    the largest share of the cost of a logged answer (bench/results/api.md)."""
    return models.ForeignKey(
        to, on_delete=on_delete, db_constraint=False, db_index=False, related_name=related_name, **options
    )


class PredictionLog(models.Model):
    """What the API answered (sampled), and later what a reviewer said was right.

    An append-only log kept cheap to write (every answer of a 1,000-text batch is a row): the references
    written with each answer carry no database constraint, and only the indexes its pages read are kept:
    the log by dataset and time, by dataset, category and time, and the reviewed rows (a partial index,
    empty at insert). The input's hash is kept for readers but not indexed: nothing looks rows up by it, and
    its index (random keys) was a fifth of PostgreSQL's cost of writing a row.
    Deleting a category, run or user therefore scans the log (rare; categories are retired, not deleted).
    """

    dataset = _log_reference(Dataset, models.CASCADE, related_name="predictions")
    created_at = models.DateTimeField(auto_now_add=True)
    input_hash = models.CharField(max_length=40)
    excerpt = models.TextField(blank=True, help_text="the start of the text, for reviewers")
    category = _log_reference(Category, models.PROTECT)
    score = models.FloatField()
    explanation = LogJSONField(default=dict)
    champion_run = _log_reference(TrainingRun, models.SET_NULL, null=True)
    ensemble_version = models.PositiveIntegerField(default=0)
    requested_by = _log_reference(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True)
    correct = models.BooleanField(null=True, blank=True)
    # set by feedback, one row at a time: these keep their constraints (no index: NULL at insert)
    right_category = models.ForeignKey(
        Category, on_delete=models.PROTECT, null=True, blank=True, db_index=False, related_name="+"
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        db_index=False,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["dataset", "created_at"], name="prediction_log_time"),
            models.Index(fields=["dataset", "category", "created_at"], name="prediction_log_category"),
            models.Index(
                fields=["dataset", "category", "correct"],
                condition=models.Q(correct__isnull=False),
                name="prediction_feedback",
            ),
        ]

    def __str__(self) -> str:
        return f"prediction #{self.id}: {self.category_id} ({self.score:.2f})"
