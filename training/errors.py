"""Errors of the training app, for people to read (views and commands show the message as is)."""

from core.errors import ApplicationError


class TrainingError(ApplicationError):
    """A refused training action, or a run that cannot train; nothing was changed."""


class RunCancelled(Exception):
    """Raised inside a run when someone asked to cancel it."""
