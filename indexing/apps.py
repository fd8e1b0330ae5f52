from django.apps import AppConfig
from django.db.models.signals import post_migrate


class IndexingConfig(AppConfig):
    name = "indexing"
    # kinds of core.models.Job this app runs (core.jobs imports the handler when a job runs)
    job_handlers = {"index_rebuild": "indexing.services.jobs.job_index_rebuild"}

    def ready(self) -> None:
        from catalog.selectors import text_matcher_register as catalog_matcher_register
        from indexing import capture, selectors
        from labeling.selectors.search import text_matcher_register

        post_migrate.connect(capture.ensure_after_migrate, sender=self)
        # the examples search and the catalog search take their ids from the engine while SEARCH_URL is set
        text_matcher_register(selectors.content_ids_matching)
        catalog_matcher_register(selectors.catalog_ids_matching)
