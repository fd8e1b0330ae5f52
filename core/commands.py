"""What every app's management commands share."""

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError


def author_named(username: str | None):
    """The user a command records in history (None: nobody named)."""
    if not username:
        return None
    author = get_user_model().objects.filter(username=username).first()
    if author is None:
        raise CommandError(f"No user named {username!r}.")
    return author
