from django.apps import AppConfig
from django.db.models.signals import post_migrate


class LabelingConfig(AppConfig):
    name = "labeling"

    def ready(self) -> None:
        from labeling import integrity

        post_migrate.connect(integrity.ensure_after_migrate, sender=self)
