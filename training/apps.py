from django.apps import AppConfig


class TrainingConfig(AppConfig):
    name = "training"
    job_handlers = {"classify": "training.services.bulk.bulk_job_run"}  # bulk classification (core.jobs)

    def ready(self) -> None:
        from core import roles
        from core.apps import dataset_lookup
        from training.models import PredictionLog, TrainingRun

        # pages and API calls named by these are checked against their dataset's members (core/roles.py)
        roles.dataset_lookup_register("run_id", dataset_lookup(TrainingRun))
        roles.dataset_lookup_register("prediction_id", dataset_lookup(PredictionLog))
