"""Training-set data: taxonomy, contents, datasets and their labelled examples."""

import hashlib
import unicodedata

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.db import models, transaction
from django.db.models import Q
from simple_history.models import HistoricalRecords

from labeling.paths import category_path


class ChangesetLinkedHistory(models.Model):
    """Base of the historical tables: each history row may name the bulk changeset that wrote it.

    History tables keep no database FK constraints (here and on history_user): their rows are written in
    bulk from rows whose keys are checked already, and thousands of deferred checks per import cost a
    large share of its time. Django still applies SET_NULL when a changeset or user is deleted.
    """

    changeset = models.ForeignKey(
        "labeling.Changeset",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_constraint=False,
    )

    class Meta:
        abstract = True


class Taxonomy(models.Model):
    """A two-level category tree (large -> small) that datasets label against."""

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "taxonomies"
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Category(models.Model):
    """A large (level 1) or small (level 2) category; examples are labelled with small ones."""

    class Level(models.IntegerChoices):
        LARGE = 1, "large"
        SMALL = 2, "small"

    class Status(models.TextChoices):
        ACTIVE = "active", "active"
        MERGED = "merged", "merged"
        EXCLUDED = "excluded", "excluded"

    taxonomy = models.ForeignKey(Taxonomy, on_delete=models.PROTECT, related_name="categories")
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    level = models.PositiveSmallIntegerField(choices=Level.choices)
    name = models.CharField(max_length=100)
    guideline = models.TextField(blank=True)
    is_important = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    merged_into = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="merged_from"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(
        excluded_fields=["updated_at"], bases=[ChangesetLinkedHistory], user_db_constraint=False
    )

    class Meta:
        verbose_name_plural = "categories"
        ordering = ["taxonomy_id", "level", "name"]
        constraints = [
            models.CheckConstraint(
                name="category_level_matches_parent",
                condition=Q(level=1, parent__isnull=True) | Q(level=2, parent__isnull=False),
            ),
            models.CheckConstraint(
                name="category_merged_has_target",
                condition=Q(status="merged", merged_into__isnull=False)
                | (~Q(status="merged") & Q(merged_into__isnull=True)),
            ),
            models.UniqueConstraint(
                fields=["taxonomy", "name"], condition=Q(level=1), name="large_category_name_unique"
            ),
            models.UniqueConstraint(
                fields=["parent", "name"], condition=Q(level=2), name="small_category_name_unique"
            ),
        ]
        indexes = [models.Index(fields=["taxonomy", "level", "status"])]

    def __str__(self) -> str:
        return self.path

    @property
    def path(self) -> str:
        return category_path(self.name, self.parent.name if self.parent_id else None)

    @property
    def is_large(self) -> bool:
        return self.level == self.Level.LARGE


def text_hash(title: str, body: str) -> str:
    """Hash of the text a model trains on; NFC-normalised so equal text hashes equal."""
    text = unicodedata.normalize("NFC", f"{title.strip()}\n{body.strip()}")
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


class Content(models.Model):
    """A piece of content (article, post, video) to be classified. Untrusted internet text."""

    external_id = models.CharField(max_length=200, unique=True)
    title = models.CharField(max_length=500)
    body = models.TextField(blank=True)
    source = models.CharField(max_length=200, blank=True, db_index=True)
    text_hash = models.CharField(max_length=40, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    modified_at = models.DateTimeField(db_index=True)
    # Content history is read by content id, time, user and changeset: copies of the other indexes would
    # only slow imports, which add a history row (with its body) per new content.
    history = HistoricalRecords(
        bases=[ChangesetLinkedHistory],
        user_db_constraint=False,
        no_db_index=["external_id", "source", "modified_at"],
    )

    class Meta:
        ordering = ["-modified_at", "-id"]
        # Lets dataset states read text hashes from the index alone, not from the wide content rows.
        indexes = [models.Index(fields=["id"], include=["text_hash"], name="content_text_hash")]

    def __str__(self) -> str:
        return f"{self.external_id}: {self.title[:60]}"


class ContentWords(models.Model):
    """The words of a content's body, for body search on PostgreSQL: a GIN index over a tsvector in the
    'simple' configuration (no stemming, so Korean and English alike match as tokens). Only contents that
    are examples somewhere: search looks at a dataset's examples.

    Written by a background job, not by the writes of examples and contents: computing the words costs
    about as much as the rest of an import. Until the job has run, a content is in ContentWordsPending and
    body search reads its body instead. Not used on SQLite (body search scans there)."""

    content = models.OneToOneField(Content, on_delete=models.CASCADE, primary_key=True, related_name="+")
    words = SearchVectorField()

    def __str__(self) -> str:
        return f"words of {self.content_id}"


class ContentWordsPending(models.Model):
    """A content whose words are not indexed yet (it just became an example, or its body changed). On
    PostgreSQL triggers add it, whichever way the rows were written; the indexing job removes it."""

    content = models.OneToOneField(
        Content, on_delete=models.CASCADE, primary_key=True, related_name="+", db_constraint=False
    )

    def __str__(self) -> str:
        return f"words of {self.content_id} pending"


class Dataset(models.Model):
    """A named training set over one taxonomy."""

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    taxonomy = models.ForeignKey(Taxonomy, on_delete=models.PROTECT, related_name="datasets")
    min_examples_per_category = models.PositiveIntegerField(default=200)
    # The dataset's pool of contents to label: those whose source starts with one of these (empty: all).
    content_sources = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Example(models.Model):
    """One content labelled with one small category inside a dataset."""

    class Status(models.TextChoices):
        ACTIVE = "active", "active"
        NEEDS_REVIEW = "needs_review", "needs review"
        EXCLUDED = "excluded", "excluded"
        REMOVED = "removed", "removed"  # soft-deleted: in no version, restorable by rollback

    # No index of its own: the indexes below (and one_example_per_content) all start with the dataset.
    dataset = models.ForeignKey(Dataset, on_delete=models.PROTECT, related_name="examples", db_index=False)
    content = models.ForeignKey(Content, on_delete=models.PROTECT, related_name="examples")
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="examples")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.ACTIVE)
    labeled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    labeled_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(
        blank=True, max_length=2000
    )  # the API's limit, checked on every save (core/text.py)
    # Optimistic locking: every write bumps it; a save must name the version it read.
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # History is read by example id, dataset, time, user and changeset; indexes on the other keys would
    # only slow the bulk writes (imports, rollbacks) that add thousands of history rows at once.
    history = HistoricalRecords(
        excluded_fields=["updated_at"],
        bases=[ChangesetLinkedHistory],
        user_db_constraint=False,
        no_db_index=["content", "category", "labeled_by"],
    )

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["dataset", "content"], name="one_example_per_content"),
        ]
        indexes = [
            models.Index(fields=["dataset", "category", "status"]),
            models.Index(
                fields=["dataset", "-labeled_at", "-id"], name="example_recent_first"
            ),  # search order
            models.Index(fields=["dataset", "status", "-labeled_at", "-id"], name="example_status_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.dataset_id}:{self.content_id} -> {self.category_id}"


# Examples a model trains on: everything but the excluded (and removed) ones.
IN_TRAINING_SET = (Example.Status.ACTIVE, Example.Status.NEEDS_REVIEW)


class DatasetVersion(models.Model):
    """An immutable snapshot of a dataset's examples (content -> category, status, text hash).

    Stored as deltas: `VersionEntry` rows only for examples that differ from the previous version,
    so the state at version N is, per content, its entry with the highest number <= N.
    """

    class Kind(models.TextChoices):
        MANUAL = "manual", "commit"
        AUTOMATIC = "automatic", "automatic"

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.MANUAL)
    message = models.TextField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    example_count = models.PositiveIntegerField(default=0)
    # {category_id: examples in the training set}, as strings (JSON keys)
    category_counts = models.JSONField(default=dict)
    entries_written = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["dataset_id", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["dataset", "number"], name="version_number_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.dataset.name} v{self.number}"


class VersionEntry(models.Model):
    """One example's state from version `number` on; category NULL means it left the dataset."""

    # No database FK constraints here: entries are copied in bulk from examples whose keys are already
    # checked by real FKs, and 100k deferred checks per commit cost seconds. Django still applies
    # CASCADE / PROTECT when a dataset, content or category is deleted through the ORM.
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    number = models.PositiveIntegerField()
    content = models.ForeignKey(Content, on_delete=models.PROTECT, related_name="+", db_constraint=False)
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, null=True, related_name="+", db_constraint=False
    )
    status = models.CharField(max_length=12, blank=True)
    text_hash = models.CharField(max_length=40, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["dataset", "number", "content"], name="version_entry_unique"),
        ]
        indexes = [models.Index(fields=["dataset", "content", "number"])]

    def __str__(self) -> str:
        return f"v{self.number}: {self.content_id} -> {self.category_id}"


class Changeset(models.Model):
    """One bulk operation on a dataset, recorded as a whole and revertible as a whole."""

    class Kind(models.TextChoices):
        IMPORT = "import", "import"
        REVIEW = "review", "review"
        MERGE = "merge", "merge"
        EXCLUDE = "exclude", "exclude"
        RELABEL = "relabel", "bulk relabel"
        ROLLBACK = "rollback", "rollback"
        REVERT = "revert", "revert"

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="changesets")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reason = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    version_before = models.ForeignKey(
        DatasetVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reverts = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reverted_by"
    )
    added = models.PositiveIntegerField(default=0)
    relabelled = models.PositiveIntegerField(default=0)
    status_changed = models.PositiveIntegerField(default=0)
    removed = models.PositiveIntegerField(default=0)
    restored = models.PositiveIntegerField(default=0)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["dataset", "created_at"])]

    def __str__(self) -> str:
        return f"#{self.id} {self.kind} on {self.dataset_id}"

    @property
    def total(self) -> int:
        """Changes, as a diff counts them (an example both relabelled and given another status: two)."""
        return self.added + self.relabelled + self.status_changed + self.removed + self.restored


class ExampleImport(models.Model):
    """An uploaded file of labelled examples: kept so its preview and its apply read the same bytes."""

    class Status(models.TextChoices):
        UPLOADED = "uploaded", "uploaded"
        PREVIEWED = "previewed", "previewed"
        APPLIED = "applied", "applied"
        FAILED = "failed", "failed"

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="imports")
    file_name = models.CharField(max_length=255)
    encoding = models.CharField(max_length=20, blank=True)  # blank: detect
    delimiter = models.CharField(max_length=5, blank=True)  # blank: detect
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.UPLOADED)
    preview = models.JSONField(default=dict, blank=True)
    changeset = models.ForeignKey(
        Changeset, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.file_name} -> {self.dataset_id} ({self.status})"

    def save(self, *args, **kwargs) -> None:
        with transaction.atomic():  # the row and its bytes, or neither
            super().save(*args, **kwargs)
            pending = getattr(self, "_pending_data", None)
            if pending is not None:
                ExampleImportBytes.objects.update_or_create(upload_id=self.pk, defaults={"data": pending})
                self._pending_data = None

    # The uploaded bytes live in their own table (ExampleImportBytes): updating this row's status or preview
    # then never rewrites them (SQLite rewrites a whole row on any update, a 200 MB blob included).
    # `ExampleImport(data=...)` / `.objects.create(data=...)` still work: save() stores them.
    @property
    def data(self) -> bytes:
        pending = getattr(self, "_pending_data", None)
        if pending is not None:
            return pending
        return bytes(ExampleImportBytes.objects.get(upload_id=self.pk).data)

    @data.setter
    def data(self, value: bytes) -> None:
        self._pending_data = bytes(value)


class ExampleImportBytes(models.Model):
    """The bytes of an upload, apart from the row whose status and preview change (read as a stream by the
    import jobs: labeling/services/uploads.py)."""

    upload = models.OneToOneField(
        ExampleImport, on_delete=models.CASCADE, primary_key=True, related_name="bytes"
    )
    data = models.BinaryField()

    def __str__(self) -> str:
        return f"bytes of import {self.upload_id}"


class QueueClaim(models.Model):
    """An annotator holds a content of a dataset's queue for a while, so nobody else gets it meanwhile."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="+")
    content = models.ForeignKey(Content, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    queue = models.CharField(max_length=40)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["dataset", "content"], name="one_claim_per_content")]

    def __str__(self) -> str:
        return f"{self.user_id} holds {self.content_id} until {self.expires_at:%H:%M}"
