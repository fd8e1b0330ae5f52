"""Shops and their offers, catalogs grouping the offers of one product, and the runs that build them."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from labeling.models import ChangesetLinkedHistory


class Shop(models.Model):
    name = models.CharField(max_length=100, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords(user_db_constraint=False, bases=[ChangesetLinkedHistory])

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Offer(models.Model):
    """One shop's listing of a product, as its feed sends it."""

    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, related_name="offers")
    external_id = models.CharField(max_length=100)
    title = models.CharField(max_length=500)
    price = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    brand = models.CharField(max_length=100, blank=True)
    category = models.ForeignKey(
        "labeling.Category", on_delete=models.PROTECT, null=True, blank=True, related_name="offers"
    )
    image_url = models.URLField(max_length=500, blank=True)
    image_vector = models.JSONField(null=True, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    modified_at = models.DateTimeField(auto_now=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords(
        excluded_fields=["modified_at", "image_vector"],
        user_db_constraint=False,
        bases=[ChangesetLinkedHistory],
    )

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["shop", "external_id"], name="offer_unique_per_shop")]
        indexes = [models.Index(fields=["category", "id"])]

    def __str__(self) -> str:
        return f"{self.shop_id}:{self.external_id} {self.title[:40]}"


class Catalog(models.Model):
    """One product: the offers of several shops, with a clean title."""

    class Status(models.TextChoices):
        DRAFT = "draft", "draft"
        PUBLISHED = "published", "published"
        IN_REVIEW = "in_review", "in review"
        REJECTED = "rejected", "rejected"

    title = models.CharField(max_length=200)
    title_edited = models.BooleanField(default=False)  # a person's title survives reruns
    category = models.ForeignKey(
        "labeling.Category", on_delete=models.PROTECT, null=True, blank=True, related_name="catalogs"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    quality_score = models.FloatField(default=0.0)
    attributes = models.JSONField(default=dict, blank=True)  # edge proportion, similarity, conductance, size
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(
        excluded_fields=["updated_at"], user_db_constraint=False, bases=[ChangesetLinkedHistory]
    )

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["category", "status"])]

    def __str__(self) -> str:
        return f"#{self.id} {self.title}"


class CatalogMembership(models.Model):
    """An offer in a catalog (an offer belongs to one catalog at most)."""

    class Source(models.TextChoices):
        AUTOMATIC = "auto", "automatic"
        MANUAL = "manual", "by a person"

    catalog = models.ForeignKey(Catalog, on_delete=models.CASCADE, related_name="memberships")
    offer = models.OneToOneField(Offer, on_delete=models.CASCADE, related_name="membership")
    score = models.FloatField(default=0.0)
    source = models.CharField(max_length=6, choices=Source.choices, default=Source.AUTOMATIC)
    history = HistoricalRecords(user_db_constraint=False, bases=[ChangesetLinkedHistory])

    def __str__(self) -> str:
        return f"{self.offer_id} in {self.catalog_id}"


class CatalogEdge(models.Model):
    """An edge of the last run's graph inside or around a catalog: similarity, and the rule that cut it.

    Derived rows, rewritten by every build (up to 60 per catalog, hundreds of thousands per category): the
    database does not check their keys (a deferred check per key at commit, a row lock on the offer, cost
    the build more than copying the rows). The ORM still deletes them with their offer or catalog, and the
    page reads them joined to both offers."""

    catalog = models.ForeignKey(Catalog, on_delete=models.CASCADE, related_name="edges", db_constraint=False)
    offer_a = models.ForeignKey(Offer, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    offer_b = models.ForeignKey(Offer, on_delete=models.CASCADE, related_name="+", db_constraint=False)
    similarity = models.FloatField()
    parts = models.JSONField(default=dict)  # char, words, model
    cut = models.CharField(max_length=40, blank=True)
    matched = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"{self.offer_a_id}-{self.offer_b_id} {self.similarity:.2f} {self.cut}"


class PairDecision(models.Model):
    """A reviewer's decision about two offers, a constraint for every later run."""

    class Kind(models.TextChoices):
        JOIN = "join", "keep together"
        SPLIT = "split", "keep apart"

    offer_a = models.ForeignKey(Offer, on_delete=models.CASCADE, related_name="+")
    offer_b = models.ForeignKey(Offer, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=5, choices=Kind.choices)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(user_db_constraint=False, bases=[ChangesetLinkedHistory])

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["offer_a", "offer_b"], name="one_decision_per_pair"),
            models.CheckConstraint(
                name="decision_pair_ordered", condition=Q(offer_a__lt=models.F("offer_b"))
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.offer_a_id} {self.offer_b_id}"


class CategoryRules(models.Model):
    """Per category: the similarity threshold, the publish threshold and the business rules."""

    category = models.OneToOneField(
        "labeling.Category", on_delete=models.CASCADE, related_name="catalog_rules"
    )
    threshold = models.FloatField(default=0.4)
    publish_threshold = models.FloatField(default=0.3)
    k = models.PositiveIntegerField(default=100)
    community = models.CharField(max_length=20, default="label_propagation")
    # weight of the feed's image vectors beside char 0.75 / words 0.10 / model 0.15 (0: images unused)
    image_weight = models.FloatField(default=0.0)
    rules = models.JSONField(default=dict, blank=True)  # catalog.grouping.graph.Rules fields
    history = HistoricalRecords(user_db_constraint=False, bases=[ChangesetLinkedHistory])

    class Meta:
        verbose_name_plural = "category rules"

    def __str__(self) -> str:
        return f"rules of {self.category_id}"


class CatalogRun(models.Model):
    """A full or incremental build over some categories, with progress pages poll and a cancel switch."""

    class Status(models.TextChoices):
        QUEUED = "queued", "queued"
        RUNNING = "running", "running"
        SUCCEEDED = "succeeded", "succeeded"
        FAILED = "failed", "failed"
        CANCELLED = "cancelled", "cancelled"

    class Mode(models.TextChoices):
        FULL = "full", "full rebuild"
        INCREMENTAL = "incremental", "new and changed offers"

    mode = models.CharField(max_length=12, choices=Mode.choices, default=Mode.FULL)
    categories = models.JSONField(default=list)  # category ids in scope (all of them when the run started)
    params = models.JSONField(default=dict, blank=True)
    figures = models.JSONField(default=dict, blank=True)  # per category: offers, groups, published, review
    done_categories = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.FloatField(default=0.0)
    stage = models.CharField(max_length=200, blank=True)
    message = models.TextField(blank=True)
    cancel_requested = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"catalog run #{self.id} ({self.status})"


class OfferImport(models.Model):
    """An uploaded offer file: kept so its preview and its apply read the same bytes."""

    class Status(models.TextChoices):
        UPLOADED = "uploaded", "uploaded"  # its preview job has not finished
        PREVIEWED = "previewed", "previewed"
        APPLIED = "applied", "applied"
        REFUSED = "refused", "refused"

    file_name = models.CharField(max_length=255)
    data = models.BinaryField()
    encoding = models.CharField(max_length=20, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.UPLOADED)
    # the file's offers without a category get the category this dataset's champion predicts, when applied
    classify_with = models.ForeignKey(
        "labeling.Dataset", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    preview = models.JSONField(default=dict, blank=True)
    result = models.JSONField(default=dict, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.status})"
