from django.urls import path

from catalog import apis

urlpatterns = [
    path("catalogs", apis.CatalogListApi.as_view(), name="api-catalogs"),
    path("catalogs/<int:catalog_id>", apis.CatalogDetailApi.as_view(), name="api-catalog"),
    path("offers/<int:offer_id>", apis.OfferDetailApi.as_view(), name="api-offer"),
]
