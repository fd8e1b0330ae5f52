from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "catalog"
    # kinds of core.models.Job this app runs (core.jobs imports the handler when a job runs)
    job_handlers = {
        "offer_import_preview": "catalog.services.imports.job_offer_import_preview",
        "offer_import_apply": "catalog.services.imports.job_offer_import_apply",
        "offers_classify": "catalog.services.imports.job_offers_classify",
    }
