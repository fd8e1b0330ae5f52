from django.apps import AppConfig


class TrainingConfig(AppConfig):
    name = "training"

    def ready(self) -> None:
        from labeling.services.jobs import HANDLERS
        from training.services.bulk import JOB_KIND, bulk_job_run

        HANDLERS[JOB_KIND] = bulk_job_run  # bulk classification runs as a labeling Job (page, progress)
