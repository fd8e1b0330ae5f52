from django.apps import AppConfig
from django.db.models.signals import post_migrate


class LabelingConfig(AppConfig):
    name = "labeling"

    def ready(self) -> None:
        from simple_history.signals import pre_create_historical_record

        from labeling import integrity, tokens
        from labeling.services.history import link_history_to_changeset

        post_migrate.connect(integrity.ensure_after_migrate, sender=self)
        pre_create_historical_record.connect(link_history_to_changeset)
        tokens.connect_signals()
