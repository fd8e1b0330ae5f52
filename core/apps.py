from django.apps import AppConfig


def dataset_lookup(model):
    """A URL argument's lookup for core.roles: the dataset of the `model` row with that id."""
    return lambda pk: model.objects.filter(pk=pk).values_list("dataset_id", flat=True).first()


class CoreConfig(AppConfig):
    """What every app stands on: roles, API tokens, errors, jobs, bulk-write helpers, paging, parameters."""

    name = "core"

    def ready(self) -> None:
        from django.db.models.signals import pre_save
        from simple_history.signals import pre_create_historical_record

        from core import roles, tokens
        from core.history import link_history_to_changeset
        from core.models import Job
        from core.text import model_texts_check

        pre_create_historical_record.connect(link_history_to_changeset)
        tokens.connect_signals()
        # A guard, not logic: a text neither database could store alike never reaches either (core/text.py).
        pre_save.connect(model_texts_check, dispatch_uid="core-texts")
        roles.dataset_lookup_register("job_id", dataset_lookup(Job))
