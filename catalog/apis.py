"""REST API of the catalog (DRF): catalogs by category and words, one catalog with its offers, an offer."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog import selectors
from catalog.models import Catalog, Offer
from core import roles
from core.params import number_param, text_param

MAX_RESULTS = 100


class OfferOutput(serializers.ModelSerializer):
    shop = serializers.CharField(source="shop.name")
    catalog = serializers.SerializerMethodField()

    class Meta:
        model = Offer
        fields = ["id", "shop", "external_id", "title", "price", "brand", "category", "catalog"]

    def get_catalog(self, offer) -> int | None:
        membership = getattr(offer, "membership", None)
        return membership.catalog_id if membership else None


class CatalogOutput(serializers.ModelSerializer):
    size = serializers.IntegerField(default=None)
    lowest_price = serializers.DecimalField(source="lowest", max_digits=14, decimal_places=2, default=None)

    class Meta:
        model = Catalog
        fields = ["id", "title", "category", "status", "quality_score", "size", "lowest_price"]


class CatalogDetailOutput(CatalogOutput):
    offers = serializers.SerializerMethodField()

    class Meta(CatalogOutput.Meta):
        fields = [*CatalogOutput.Meta.fields, "offers"]

    def get_offers(self, catalog) -> list[dict]:
        return OfferOutput(self.context["offers"], many=True).data


class CatalogListApi(APIView):
    permission_classes = [roles.IsAnnotator]

    @extend_schema(
        parameters=[OpenApiParameter("category", int), OpenApiParameter("q", str)],
        responses={200: CatalogOutput(many=True)},
    )
    def get(self, request):
        """Catalogs with offers, except rejected ones, matching every word of `q` (at most 100, largest
        first); through the search engine when SEARCH_URL is set (docs/indexing.md)."""
        rows = selectors.catalog_search(
            category_id=number_param(request.query_params, "category"),
            q=text_param(request.query_params, "q"),
        ).exclude(status=Catalog.Status.REJECTED)
        return Response({"results": CatalogOutput(rows[:MAX_RESULTS], many=True).data})


class CatalogDetailApi(APIView):
    permission_classes = [roles.IsAnnotator]

    @extend_schema(responses={200: CatalogDetailOutput})
    def get(self, request, catalog_id: int):
        catalog = get_object_or_404(Catalog, pk=catalog_id)
        view = selectors.catalog_detail(catalog)
        catalog.size, catalog.lowest = len(view.offers), view.lowest
        return Response(CatalogDetailOutput(catalog, context={"offers": view.offers}).data)


class OfferDetailApi(APIView):
    permission_classes = [roles.IsAnnotator]

    @extend_schema(responses={200: OfferOutput})
    def get(self, request, offer_id: int):
        offer = get_object_or_404(Offer.objects.select_related("shop", "membership"), pk=offer_id)
        return Response(OfferOutput(offer).data)
