from django.apps import AppConfig


class CoreConfig(AppConfig):
    """What every app stands on: roles, API tokens, errors, jobs, bulk-write helpers, paging, parameters."""

    name = "core"

    def ready(self) -> None:
        from django.db.models.signals import pre_save
        from simple_history.signals import pre_create_historical_record

        from core import tokens
        from core.history import link_history_to_changeset
        from core.text import model_texts_check

        pre_create_historical_record.connect(link_history_to_changeset)
        tokens.connect_signals()
        # A guard, not logic: a text neither database could store alike never reaches either (core/text.py).
        pre_save.connect(model_texts_check, dispatch_uid="core-texts")
