"""REST API of the training app: classification, datasets / categories / runs / champion, feedback."""

import orjson
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from core import roles
from core.errors import ApplicationError, error_body
from labeling.models import Category, Dataset
from labeling.selectors import dataset_or_404
from training.classify_input import classify_input
from training.models import PredictionLog, TrainingRun
from training.selectors import dataset_champion_run, run_summary
from training.services.classify import MAX_BATCH, MAX_CHARS, classify, classify_json, prediction_feedback
from training.serving import served_dataset
from training.throttles import ClassifyThrottle


class ItemInput(serializers.Serializer):
    text = serializers.CharField(allow_blank=True, max_length=MAX_CHARS, trim_whitespace=False)
    title = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)
    source = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)


class ClassifyInput(serializers.Serializer):
    text = serializers.CharField(required=False, max_length=MAX_CHARS, help_text="one text (or use `items`)")
    title = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)
    source = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)
    items = ItemInput(many=True, required=False, help_text=f"a batch of up to {MAX_BATCH} texts")
    k = serializers.IntegerField(required=False, default=3, min_value=1, max_value=20)

    def validate(self, data):
        if ("text" in data) == ("items" in data):
            raise serializers.ValidationError("Send either `text` or `items`.")
        if "items" in data and not 1 <= len(data["items"]) <= MAX_BATCH:
            raise serializers.ValidationError(f"`items` holds 1 to {MAX_BATCH} texts.")
        return data


class CategoryOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    path = serializers.CharField()
    score = serializers.FloatField()


class AnswerOutput(serializers.Serializer):
    category = CategoryOutput()
    top = CategoryOutput(many=True)
    large = CategoryOutput(many=True)
    explanation = serializers.DictField()
    prediction_id = serializers.IntegerField(allow_null=True)


class ClassifyOutput(serializers.Serializer):
    results = AnswerOutput(many=True)


RENDERER = JSONRenderer()


class ClassifyApi(APIView):
    permission_classes = [roles.IsAnnotator]
    throttle_classes = [ClassifyThrottle]
    renderer_classes = [JSONRenderer]  # JSON only
    # Accept headers that choose JSON without parsing: absent, anything, or JSON itself (as DRF answers them)
    PLAIN_ACCEPTS = (None, "*/*", JSONRenderer.media_type)

    def perform_content_negotiation(self, request, force=False):
        meta = request._request.META
        if (
            self.format_kwarg is None
            and not meta.get("QUERY_STRING")
            and meta.get("HTTP_ACCEPT") in self.PLAIN_ACCEPTS
        ):
            renderer = self.get_renderers()[0]
            return renderer, renderer.media_type
        return super().perform_content_negotiation(request, force)

    @extend_schema(request=ClassifyInput, responses={200: ClassifyOutput})
    def post(self, request, dataset_id: int):
        """Classify one text (`text`) or a batch (`items`): top-k small and large categories, explained."""
        dataset = served_dataset(dataset_id)
        if dataset is None:
            raise ApplicationError(f"Unknown dataset {dataset_id}.", code="unknown_dataset")
        items, k = classify_input(request.data)  # as ClassifyInput, checked by hand: far cheaper
        return classify_response(dataset, items, k, request.user, media_type=request.accepted_media_type)


def classify_response(
    dataset: Dataset, items: list, k: int, user, *, media_type: str = JSONRenderer.media_type
) -> HttpResponse:
    """The answers (or why there are none) as JSON, without DRF's response machinery: shared by the view and
    the shortcut (training/middleware.py)."""
    plain = media_type == RENDERER.media_type  # else asked for with parameters (`; indent=4`): DRF renders
    try:
        if plain:  # the JSON orjson writes for the answers, a batch's without building them as dicts
            content, code = classify_json(dataset=dataset, items=items, k=k, user=user), status.HTTP_200_OK
        else:
            answers = classify(dataset=dataset, items=items, k=k, user=user)
            content, code = RENDERER.render({"results": answers}, media_type), status.HTTP_200_OK
    except ApplicationError as error:  # rendered as api_exception_handler renders it
        payload, code = error_body(error), error.status
        content = orjson.dumps(payload) if plain else RENDERER.render(payload, media_type)
    return HttpResponse(content, content_type=RENDERER.media_type, status=code)


class DatasetOutput(serializers.ModelSerializer):
    taxonomy = serializers.CharField(source="taxonomy.name")
    champion_run = serializers.SerializerMethodField()

    class Meta:
        model = Dataset
        fields = ["id", "name", "taxonomy", "min_examples_per_category", "champion_run"]

    def get_champion_run(self, dataset) -> int | None:
        champion = dataset_champion_run(dataset)
        return champion.id if champion else None


class DatasetListApi(APIView):
    permission_classes = [roles.IsAnnotator]

    @extend_schema(responses={200: DatasetOutput(many=True)})
    def get(self, request):
        return Response(
            DatasetOutput(
                roles.datasets_visible(
                    Dataset.objects.select_related("taxonomy").order_by("name"), request.user
                ),
                many=True,
            ).data
        )


class DatasetDetailApi(APIView):
    permission_classes = [roles.IsAnnotator]

    @extend_schema(responses={200: DatasetOutput})
    def get(self, request, dataset_id: int):
        return Response(DatasetOutput(dataset_or_404(dataset_id)).data)


class TaxonomyCategoryOutput(serializers.ModelSerializer):
    path = serializers.CharField()

    class Meta:
        model = Category
        fields = ["id", "name", "path", "level", "parent", "status", "is_important", "guideline"]


class CategoryListApi(APIView):
    permission_classes = [roles.IsAnnotator]

    @extend_schema(responses={200: TaxonomyCategoryOutput(many=True)})
    def get(self, request, dataset_id: int):
        dataset = dataset_or_404(dataset_id)
        categories = (
            Category.objects.filter(taxonomy=dataset.taxonomy)
            .select_related("parent")
            .order_by("level", "id")
        )
        return Response(TaxonomyCategoryOutput(categories, many=True).data)


class RunOutput(serializers.Serializer):
    id = serializers.IntegerField()
    dataset = serializers.CharField()
    version = serializers.IntegerField()
    algorithm = serializers.CharField()
    params = serializers.DictField()
    status = serializers.CharField()
    accuracy = serializers.FloatField(allow_null=True)
    macro_f1 = serializers.FloatField(allow_null=True)
    verdicts = serializers.ListField(child=serializers.DictField())
    meets_requirements = serializers.BooleanField(allow_null=True)
    champion = serializers.BooleanField()


class RunListApi(APIView):
    permission_classes = [roles.IsAnnotator]

    @extend_schema(responses={200: RunOutput(many=True)})
    def get(self, request, dataset_id: int):
        dataset = dataset_or_404(dataset_id)
        runs = TrainingRun.objects.filter(dataset=dataset).select_related("dataset", "version")[:100]
        return Response([run_summary(run) for run in runs])


class RunDetailApi(APIView):
    permission_classes = [roles.IsAnnotator]

    @extend_schema(responses={200: RunOutput})
    def get(self, request, run_id: int):
        run = get_object_or_404(TrainingRun.objects.select_related("dataset", "version"), pk=run_id)
        return Response(run_summary(run))


class ChampionApi(APIView):
    permission_classes = [roles.IsAnnotator]

    @extend_schema(responses={200: RunOutput})
    def get(self, request, dataset_id: int):
        champion = dataset_champion_run(dataset_or_404(dataset_id))
        if champion is None:
            raise NotFound("This dataset has no champion yet.")
        return Response(run_summary(champion))


class FeedbackInput(serializers.Serializer):
    correct = serializers.BooleanField(required=False, default=False)
    right_category = serializers.IntegerField(required=False, help_text="the right small category (id)")


class PredictionOutput(serializers.ModelSerializer):
    class Meta:
        model = PredictionLog
        fields = [
            "id",
            "dataset",
            "created_at",
            "category",
            "score",
            "correct",
            "right_category",
            "reviewed_at",
        ]


class FeedbackApi(APIView):
    permission_classes = [roles.IsAnnotator]

    @extend_schema(request=FeedbackInput, responses={200: PredictionOutput})
    def post(self, request, prediction_id: int):
        """Say whether a logged answer was right; when it was wrong, name the right category."""
        prediction = get_object_or_404(PredictionLog.objects.select_related("dataset"), pk=prediction_id)
        data = FeedbackInput(data=request.data)
        data.is_valid(raise_exception=True)
        right = None
        if "right_category" in data.validated_data:
            right = Category.objects.filter(pk=data.validated_data["right_category"]).first()
            if right is None:
                raise ApplicationError("Unknown category.", code="unknown_category")
        prediction_feedback(
            prediction=prediction,
            user=request.user,
            correct=data.validated_data["correct"],
            right_category=right,
        )
        return Response(PredictionOutput(prediction).data)
