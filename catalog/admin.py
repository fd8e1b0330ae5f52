from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from catalog.models import Catalog, CatalogMembership, CatalogRun, CategoryRules, Offer, PairDecision, Shop


@admin.register(Shop)
class ShopAdmin(SimpleHistoryAdmin):
    search_fields = ["name"]


@admin.register(Offer)
class OfferAdmin(SimpleHistoryAdmin):
    list_display = ["id", "shop", "external_id", "title", "price", "category"]
    list_filter = ["shop"]
    search_fields = ["title", "external_id"]
    raw_id_fields = ["category"]


class MembershipInline(admin.TabularInline):
    model = CatalogMembership
    raw_id_fields = ["offer"]
    extra = 0


@admin.register(Catalog)
class CatalogAdmin(SimpleHistoryAdmin):
    list_display = ["id", "title", "status", "quality_score", "category"]
    list_filter = ["status"]
    search_fields = ["title"]
    raw_id_fields = ["category", "reviewed_by"]
    inlines = [MembershipInline]


@admin.register(CategoryRules)
class CategoryRulesAdmin(SimpleHistoryAdmin):
    list_display = ["category", "threshold", "publish_threshold", "k", "community"]
    raw_id_fields = ["category"]


@admin.register(PairDecision)
class PairDecisionAdmin(SimpleHistoryAdmin):
    list_display = ["offer_a", "offer_b", "kind", "decided_by", "decided_at"]
    raw_id_fields = ["offer_a", "offer_b"]


@admin.register(CatalogRun)
class CatalogRunAdmin(admin.ModelAdmin):
    list_display = ["id", "mode", "status", "progress", "created_at"]
