from django.contrib import admin

from indexing.models import DeadLetter, IndexState


@admin.register(IndexState)
class IndexStateAdmin(admin.ModelAdmin):
    list_display = ["name", "live", "building", "batch_checkpoint", "repair_failures", "updated_at"]
    readonly_fields = [field.name for field in IndexState._meta.fields]


@admin.register(DeadLetter)
class DeadLetterAdmin(admin.ModelAdmin):
    list_display = ["target", "doc_id", "attempts", "updated_at", "error"]
    readonly_fields = [field.name for field in DeadLetter._meta.fields]
