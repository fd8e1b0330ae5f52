from django.contrib import admin
from django.db.models import Count, Q
from simple_history.admin import SimpleHistoryAdmin

from core.models import DatasetMember
from labeling.models import IN_TRAINING_SET, Category, Content, Dataset, Example, Taxonomy


class ExampleCountMixin:
    """Adds the number of examples in the training set as a sortable column."""

    def get_queryset(self, request):
        in_set = Q(examples__status__in=IN_TRAINING_SET)
        return super().get_queryset(request).annotate(n_examples=Count("examples", filter=in_set))

    @admin.display(description="examples", ordering="n_examples")
    def n_examples(self, obj):
        return obj.n_examples


@admin.register(Taxonomy)
class TaxonomyAdmin(admin.ModelAdmin):
    list_display = ["name", "n_categories", "created_at"]
    search_fields = ["name"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_categories=Count("categories"))

    @admin.display(description="categories", ordering="n_categories")
    def n_categories(self, obj):
        return obj.n_categories


@admin.register(Category)
class CategoryAdmin(ExampleCountMixin, SimpleHistoryAdmin):
    list_display = ["name", "parent", "taxonomy", "level", "status", "is_important", "n_examples"]
    list_filter = ["taxonomy", "level", "status", "is_important"]
    search_fields = ["name", "guideline", "parent__name"]
    list_select_related = ["parent", "taxonomy"]
    autocomplete_fields = ["parent", "merged_into"]


@admin.register(Content)
class ContentAdmin(SimpleHistoryAdmin):
    list_display = ["external_id", "title", "source", "modified_at"]
    list_filter = ["source"]
    search_fields = ["external_id", "title"]
    date_hierarchy = "modified_at"
    readonly_fields = ["text_hash", "created_at"]
    show_full_result_count = False


class DatasetMemberInline(admin.TabularInline):
    """Who may work on the dataset and as what; with no member at all, everyone with a role may."""

    model = DatasetMember
    extra = 1
    autocomplete_fields = ["user"]
    verbose_name_plural = "members (none: open to everyone with a role; admins always)"


@admin.register(Dataset)
class DatasetAdmin(ExampleCountMixin, admin.ModelAdmin):
    list_display = ["name", "taxonomy", "min_examples_per_category", "n_examples", "created_at"]
    list_filter = ["taxonomy"]
    search_fields = ["name", "description"]
    inlines = [DatasetMemberInline]


@admin.register(Example)
class ExampleAdmin(SimpleHistoryAdmin):
    list_display = ["id", "dataset", "content", "category", "status", "labeled_by", "version", "updated_at"]
    list_filter = ["dataset", "status", "category__parent", "labeled_by"]
    search_fields = ["content__external_id", "content__title"]
    list_select_related = ["dataset", "content", "category", "category__parent", "labeled_by"]
    raw_id_fields = ["content"]
    autocomplete_fields = ["category"]
    readonly_fields = ["version", "created_at", "updated_at"]
    show_full_result_count = False
