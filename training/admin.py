from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from training.models import ChampionChange, ModelRequirement, RetrainSchedule, TrainingRun
from training.services.requirements import requirement_update
from training.services.schedules import schedule_save


@admin.register(TrainingRun)
class TrainingRunAdmin(admin.ModelAdmin):
    list_display = ["id", "dataset", "algorithm", "version", "status", "accuracy", "macro_f1", "created_at"]
    list_filter = ["status", "algorithm", "dataset"]
    readonly_fields = [field.name for field in TrainingRun._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False  # runs start from the models page or `manage.py train`


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
class ChampionChangeAdmin(admin.ModelAdmin):
    list_display = ["created_at", "dataset", "action", "run", "previous_run", "user", "reason"]
    list_filter = ["action", "dataset"]
    readonly_fields = [field.name for field in ChampionChange._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False
