"""Rows every app shares."""

from django.conf import settings
from django.db import models


class Job(models.Model):
    """Long work run by a Celery worker, with a progress row that pages poll."""

    class Status(models.TextChoices):
        QUEUED = "queued", "queued"
        RUNNING = "running", "running"
        SUCCEEDED = "succeeded", "succeeded"
        FAILED = "failed", "failed"

    kind = models.CharField(max_length=30)
    # by name, not by import: the job's dataset, when it has one (core imports no app above it)
    dataset = models.ForeignKey(
        "labeling.Dataset", on_delete=models.CASCADE, null=True, blank=True, related_name="jobs"
    )
    params = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.FloatField(default=0.0)
    stage = models.CharField(max_length=200, blank=True)
    message = models.TextField(blank=True)
    result = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind} #{self.id} ({self.status})"

    @property
    def title(self) -> str:
        """What the job page calls it: "Import preview", not "import_preview"."""
        return self.kind.replace("_", " ").capitalize()


class DatasetMember(models.Model):
    """A person who may work on a dataset limited to its members, with their role there (set by an admin).

    A dataset with no members is open to everyone with a role; one with members to them and admins only."""

    class Role(models.TextChoices):
        ANNOTATOR = "annotator", "annotator"
        MANAGER = "category manager", "category manager"

    dataset = models.ForeignKey("labeling.Dataset", on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="dataset_memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.ANNOTATOR)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["dataset", "user"], name="one_membership_per_dataset")]

    def __str__(self) -> str:
        return f"{self.user} on {self.dataset} ({self.role})"
