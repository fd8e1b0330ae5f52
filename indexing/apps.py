from django.apps import AppConfig
from django.db.models.signals import post_migrate


class IndexingConfig(AppConfig):
    name = "indexing"

    def ready(self) -> None:
        from indexing import capture, selectors
        from labeling.selectors.search import text_matcher_register

        post_migrate.connect(capture.ensure_after_migrate, sender=self)
        # the examples search page takes its ids from the engine while SEARCH_URL is set
        text_matcher_register(selectors.content_ids_matching)
