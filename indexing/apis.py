"""REST API of the indexing app: site search through the engine, the pipeline's status, dead-letter retry."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core import roles
from core.paging import COUNT_CAP
from indexing import services
from indexing.documents import DEFINITIONS
from indexing.engine import EngineError
from indexing.monitoring import indexing_status
from indexing.selectors import examples_search_engine, search_ready
from labeling.models import Category, Dataset, Example
from labeling.selectors.search import ExampleFilter, examples_search


class SearchInput(serializers.Serializer):
    q = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    dataset = serializers.IntegerField(min_value=1)
    category = serializers.IntegerField(required=False, min_value=1)
    status = serializers.ChoiceField(choices=Example.Status.values, required=False, default="")
    page = serializers.IntegerField(required=False, min_value=1, max_value=500, default=1)
    per_page = serializers.IntegerField(required=False, min_value=1, max_value=100, default=20)


def _hit(example: Example, highlight: dict | None = None) -> dict:
    return {
        "example": example.id,
        "content": example.content_id,
        "external_id": example.content.external_id,
        "title": example.content.title,
        "category": example.category_id,
        "category_path": example.category.path,
        "status": example.status,
        "highlight": highlight or {},
    }


class SearchApi(APIView):
    """GET /api/v1/search: a dataset's examples by text, category and status. Through the search engine when
    SEARCH_URL is set (ids and highlights from the engine, rows from the database), else the database."""

    permission_classes = [roles.IsAnnotator]

    @extend_schema(parameters=[SearchInput], responses={200: dict})
    def get(self, request):
        params = SearchInput(data=request.query_params)
        params.is_valid(raise_exception=True)
        wanted = params.validated_data
        dataset = get_object_or_404(Dataset, pk=wanted["dataset"])
        roles.dataset_role_required(request.user, dataset.id, roles.ANNOTATOR)  # a dataset limited to members
        category = None
        if wanted.get("category"):
            category = get_object_or_404(Category, pk=wanted["category"], taxonomy_id=dataset.taxonomy_id)
        if search_ready():
            try:
                return Response(self._engine(dataset, category, wanted))
            except EngineError:
                pass  # the engine is down: the database answers, and says so
        return Response(self._database(dataset, category, wanted))

    @staticmethod
    def _engine(dataset, category, wanted) -> dict:
        page = examples_search_engine(
            dataset_id=dataset.id,
            text=wanted["q"].strip(),
            category=category,
            status=wanted["status"],
            page=wanted["page"],
            per_page=wanted["per_page"],
        )
        results = [
            _hit(hit["example"], {"title": str(hit["title"]), "body": str(hit["excerpt"])})
            for hit in page.hits
        ]
        return {
            "source": "engine",
            "count": page.total,
            "count_is_estimate": page.total_is_estimate,
            "results": results,
        }

    @staticmethod
    def _database(dataset, category, wanted) -> dict:
        found = examples_search(
            dataset,
            ExampleFilter(
                text=wanted["q"].strip(),
                in_body=True,
                category_id=category and category.id,
                status=wanted["status"],
            ),
        ).select_related("category__parent")
        start = (wanted["page"] - 1) * wanted["per_page"]
        rows = list(found[start : start + wanted["per_page"]])
        count = found[:COUNT_CAP].count()
        return {
            "source": "database",
            "count": count,
            "count_is_estimate": count >= COUNT_CAP,
            "results": [_hit(r) for r in rows],
        }


class IndexInput(serializers.Serializer):
    index = serializers.ChoiceField(choices=sorted(DEFINITIONS), required=False, default="contents")


class IndexingStatusApi(APIView):
    """GET /api/v1/indexing/status?index=contents|catalogs (admins): lag, events/s, errors, dead letters,
    checkpoints, drift of one index."""

    permission_classes = [roles.IsAdmin]

    @extend_schema(parameters=[IndexInput], responses={200: dict})
    def get(self, request):
        params = IndexInput(data=request.query_params)
        params.is_valid(raise_exception=True)
        return Response(indexing_status(params.validated_data["index"]) | {"indexes": sorted(DEFINITIONS)})


class DeadLetterRetryInput(IndexInput):
    ids = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False, max_length=10000)


class DeadLetterRetryApi(APIView):
    """POST /api/v1/indexing/dead-letters/retry (admins): put dead-lettered documents back in the outbox."""

    permission_classes = [roles.IsAdmin]

    @extend_schema(request=DeadLetterRetryInput, responses={200: dict})
    def post(self, request):
        data = DeadLetterRetryInput(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(
            {
                "retried": services.dead_letters_retry(
                    name=data.validated_data["index"], ids=data.validated_data.get("ids")
                )
            }
        )
