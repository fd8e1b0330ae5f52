"""Saving a history-tracked row with the acting user and the reason attached."""

from django.db import models


def save_with_history(instance: models.Model, *, user, reason: str, **save_kwargs) -> None:
    """Save `instance` so its history row names `user` and `reason` (Celery has no request)."""
    instance._history_user = user
    instance._change_reason = reason
    try:
        instance.save(**save_kwargs)
    finally:
        del instance._history_user
        del instance._change_reason
