"""The indexing pipeline's state: the outbox of changed documents, per-document versions, each index's
checkpoints, dead letters and per-minute figures for the monitoring page."""

from django.db import models
from django.db.models.functions import Now


class IndexEvent(models.Model):
    """One changed document, written by a database trigger in the same transaction as the change (the
    transactional outbox). Carries only the id: the drainer re-reads the row."""

    target = models.CharField(max_length=40, db_default="contents")  # the logical index
    doc_id = models.BigIntegerField()
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        indexes = [models.Index(fields=["created_at"], name="indexevent_created")]

    def __str__(self) -> str:
        return f"{self.target}:{self.doc_id}"


class DocVersion(models.Model):
    """A counter per document, raised by the same triggers under the row's lock: versions follow the order
    in which changes commit, so the engine (version_type=external_gte) keeps the newest state whatever order
    the writes reach it in. `changed_at` is the last change, for the replay after a rebuild."""

    target = models.CharField(max_length=40)
    doc_id = models.BigIntegerField()
    version = models.BigIntegerField(db_default=1)
    changed_at = models.DateTimeField(db_default=Now())

    class Meta:
        constraints = [models.UniqueConstraint(fields=["target", "doc_id"], name="docversion_one_per_doc")]
        indexes = [models.Index(fields=["target", "changed_at"], name="docversion_changed")]

    def __str__(self) -> str:
        return f"{self.target}:{self.doc_id} v{self.version}"


class IndexState(models.Model):
    """One logical index (its alias): the live physical index, a rebuild in progress, the previous index
    kept for a while, the batch checkpoint and the automatic repair's backoff."""

    name = models.CharField(max_length=40, unique=True)  # "contents"
    live = models.CharField(max_length=200, blank=True)
    building = models.CharField(max_length=200, blank=True)
    rebuild_cursor = models.BigIntegerField(null=True, blank=True)  # next chunk's upper id bound (exclusive)
    rebuild_started_at = models.DateTimeField(null=True, blank=True)
    rebuild_total = models.BigIntegerField(default=0)
    rebuild_done = models.BigIntegerField(default=0)
    previous = models.CharField(max_length=200, blank=True)
    previous_drop_after = models.DateTimeField(null=True, blank=True)
    batch_checkpoint = models.DateTimeField(null=True, blank=True)  # modified_at up to which all is indexed
    batch_checkpoint_id = models.BigIntegerField(default=0)  # ties on the same timestamp, ordered by id
    batch_last_window = models.JSONField(default=dict, blank=True)
    repair_failures = models.PositiveIntegerField(default=0)
    repair_next_at = models.DateTimeField(null=True, blank=True)
    repair_alert = models.TextField(blank=True)
    last_drift = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.name


class DeadLetter(models.Model):
    """A document the engine refused repeatedly: kept here (not retried forever) until someone retries it."""

    target = models.CharField(max_length=40)
    doc_id = models.BigIntegerField()
    error = models.TextField()
    attempts = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["target", "doc_id"], name="deadletter_one_per_doc")]

    def __str__(self) -> str:
        return f"{self.target}:{self.doc_id}"


class SyncMinute(models.Model):
    """What the drainer did in one minute: the monitoring page's charts of lag and throughput."""

    target = models.CharField(max_length=40)
    minute = models.DateTimeField()
    events = models.PositiveIntegerField(default=0)
    written = models.PositiveIntegerField(default=0)
    stale = models.PositiveIntegerField(default=0)
    errors = models.PositiveIntegerField(default=0)
    lag_max_ms = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["target", "minute"], name="syncminute_one_per_minute")]

    def __str__(self) -> str:
        return f"{self.target} {self.minute:%H:%M}"
