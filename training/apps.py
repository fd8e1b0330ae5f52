from django.apps import AppConfig


class TrainingConfig(AppConfig):
    name = "training"
    job_handlers = {"classify": "training.services.bulk.bulk_job_run"}  # bulk classification (core.jobs)
