from django.apps import AppConfig
from django.db.models.signals import post_migrate


class IndexingConfig(AppConfig):
    name = "indexing"

    def ready(self) -> None:
        from indexing import capture

        post_migrate.connect(capture.ensure_after_migrate, sender=self)
