from django.apps import AppConfig


class CoreConfig(AppConfig):
    """What every app stands on: roles, API tokens, errors, jobs, bulk-write helpers, paging, parameters."""

    name = "core"

    def ready(self) -> None:
        from simple_history.signals import pre_create_historical_record

        from core import tokens
        from core.history import link_history_to_changeset

        pre_create_historical_record.connect(link_history_to_changeset)
        tokens.connect_signals()
