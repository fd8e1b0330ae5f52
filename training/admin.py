from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from training.models import (
    ChampionChange,
    EnsembleConfig,
    ModelRequirement,
    PredictionLog,
    RetrainSchedule,
    RuleMapping,
    TrainingRun,
)
from training.services.requirements import requirement_update
from training.services.schedules import schedule_save


class RecordAdmin(admin.ModelAdmin):
    """Rows the application writes (runs, champion changes, logged predictions): shown, never added here,
    every field read-only."""

    def get_readonly_fields(self, request, obj=None) -> list[str]:
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(TrainingRun)
class TrainingRunAdmin(RecordAdmin):  # runs start from the models page or `manage.py train`
    list_display = ["id", "dataset", "algorithm", "version", "status", "accuracy", "macro_f1", "created_at"]
    list_filter = ["status", "algorithm", "dataset"]


@admin.register(ModelRequirement)
class ModelRequirementAdmin(SimpleHistoryAdmin):
    list_display = ["dataset", "primary_metric", "auto_promote", "min_accuracy", "min_macro_f1"]

    def save_model(self, request, obj, form, change):
        requirement_update(dataset=obj.dataset, user=request.user, values=form.cleaned_data)


@admin.register(RetrainSchedule)
class RetrainScheduleAdmin(SimpleHistoryAdmin):
    list_display = ["dataset", "enabled", "algorithm", "nightly_hour", "dirty_threshold", "check_minutes"]
    exclude = ["last_started_run"]

    def save_model(self, request, obj, form, change):
        """Through the service, so the django-celery-beat tasks follow the schedule."""
        values = {k: v for k, v in form.cleaned_data.items() if k != "dataset"}
        schedule_save(dataset=form.cleaned_data["dataset"], user=request.user, values=values)


@admin.register(ChampionChange)
class ChampionChangeAdmin(RecordAdmin):
    list_display = ["created_at", "dataset", "action", "run", "previous_run", "user", "reason"]
    list_filter = ["action", "dataset"]


@admin.register(RuleMapping)
class RuleMappingAdmin(SimpleHistoryAdmin):
    list_display = ["name", "dataset", "kind", "pattern", "category", "weight", "priority", "enabled"]
    list_filter = ["dataset", "kind", "enabled"]
    search_fields = ["name", "pattern"]

    def save_model(self, request, obj, form, change):
        """Through the service: the pattern is checked (RE2) before anything is saved."""
        from training.services.serving import rule_save  # RE2 and numpy: not in every command's start-up

        values = {k: v for k, v in form.cleaned_data.items() if k != "dataset"}
        rule_save(
            dataset=form.cleaned_data["dataset"],
            user=request.user,
            values=values,
            rule=obj if change else None,
        )


@admin.register(EnsembleConfig)
class EnsembleConfigAdmin(SimpleHistoryAdmin):
    """Read-only here, with its history: an ensemble is changed on the dataset's Ensemble page, whose service
    bumps the version and swaps the serving models in one step."""

    list_display = ["dataset", "version", "include_champion", "rule_weight", "unanimous_models_win"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(PredictionLog)
class PredictionLogAdmin(RecordAdmin):
    list_display = ["id", "created_at", "dataset", "category", "score", "correct", "reviewed_by"]
    list_filter = ["dataset", "correct"]
    ordering = ["-id"]  # the primary key's index: the log has no index on time alone
    show_full_result_count = False  # counting every logged answer is a scan of the whole log
