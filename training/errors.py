"""Errors of the training app (on top of core.errors.ApplicationError)."""

from core.errors import ApplicationError


class TrainingError(ApplicationError):
    """A refused training action, or a run that cannot train; nothing was changed."""


class TrainingConflict(TrainingError):
    """The dataset's models cannot answer as they are (none yet, damaged files, categories gone): train or
    promote first."""

    status = 409
    code = "training_conflict"


class RunCancelled(Exception):
    """Raised inside a run when someone asked to cancel it."""
