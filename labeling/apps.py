from django.apps import AppConfig
from django.db.models.signals import post_migrate


class LabelingConfig(AppConfig):
    name = "labeling"
    # kinds of core.models.Job this app runs (core.jobs imports the handler when a job runs)
    job_handlers = {
        "rollback": "labeling.services.jobs.job_rollback",
        "revert": "labeling.services.jobs.job_revert",
        "import_preview": "labeling.services.jobs.job_import_preview",
        "import_apply": "labeling.services.jobs.job_import_apply",
    }

    def ready(self) -> None:
        from core import roles
        from core.apps import dataset_lookup
        from labeling import integrity
        from labeling.models import Changeset, Example, ExampleImport

        post_migrate.connect(integrity.ensure_after_migrate, sender=self)
        # pages and API calls named by these are checked against their dataset's members (core/roles.py)
        for argument, model in (
            ("import_id", ExampleImport),
            ("changeset_id", Changeset),
            ("example_id", Example),
        ):
            roles.dataset_lookup_register(argument, dataset_lookup(model))
