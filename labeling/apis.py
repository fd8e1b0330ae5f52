"""REST API of the labeling app (DRF): examples with optimistic locking, versions, rollback jobs."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from core import roles
from core.errors import ApplicationError
from core.jobs import job_enqueue
from labeling.models import Category, Dataset, DatasetVersion, Example
from labeling.services import example_label, example_note_set


class ExampleOutput(serializers.ModelSerializer):
    category_path = serializers.CharField(source="category.path")
    external_id = serializers.CharField(source="content.external_id")
    labeled_by = serializers.CharField(source="labeled_by.username", default=None)

    class Meta:
        model = Example
        fields = [
            "id",
            "dataset",
            "external_id",
            "category",
            "category_path",
            "status",
            "note",
            "version",
            "labeled_by",
            "labeled_at",
            "updated_at",
        ]


class ExampleRelabelInput(serializers.Serializer):
    category = serializers.IntegerField(required=False, help_text="absent: only the note changes")
    version = serializers.IntegerField(help_text="the version you read; a different current version -> 409")
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000)
    reason = serializers.CharField(required=False, default="relabelled through the API", max_length=200)

    def validate(self, data):
        if "category" not in data and "note" not in data:
            raise serializers.ValidationError("Give a category, a note or both.")
        return data


class ExampleDetailApi(APIView):
    permission_classes = [roles.IsAnnotator]

    @extend_schema(responses={200: ExampleOutput})
    def get(self, request, example_id: int):
        example = get_object_or_404(
            Example.objects.select_related("category__parent", "content"), pk=example_id
        )
        return Response(ExampleOutput(example).data)

    @extend_schema(request=ExampleRelabelInput, responses={200: ExampleOutput})
    def patch(self, request, example_id: int):
        example = get_object_or_404(Example.objects.select_related("dataset", "content"), pk=example_id)
        data = ExampleRelabelInput(data=request.data)
        data.is_valid(raise_exception=True)
        if "category" not in data.validated_data:  # PATCH is partial: the note alone
            example = example_note_set(
                example=example,
                note=data.validated_data["note"],
                user=request.user,
                expected_version=data.validated_data["version"],
            )
            return Response(ExampleOutput(example).data)
        category = Category.objects.filter(pk=data.validated_data["category"]).first()
        if category is None:
            raise ApplicationError("Unknown category.", code="unknown_category")
        example = example_label(
            dataset=example.dataset,
            content=example.content,
            category=category,
            user=request.user,
            reason=data.validated_data["reason"],
            note=data.validated_data.get("note"),
            expected_version=data.validated_data["version"],
        )
        return Response(ExampleOutput(example).data)


class VersionOutput(serializers.ModelSerializer):
    author = serializers.CharField(source="author.username", default=None)

    class Meta:
        model = DatasetVersion
        fields = [
            "number",
            "kind",
            "message",
            "author",
            "created_at",
            "example_count",
            "entries_written",
            "category_counts",
        ]


class DatasetVersionsApi(APIView):
    permission_classes = [roles.IsAnnotator]

    @extend_schema(responses={200: VersionOutput(many=True)})
    def get(self, request, dataset_id: int):
        dataset = get_object_or_404(Dataset, pk=dataset_id)
        versions = DatasetVersion.objects.filter(dataset=dataset).select_related("author")
        return Response(VersionOutput(versions, many=True).data)


class RollbackInput(serializers.Serializer):
    to_version = serializers.IntegerField(required=False)
    to_time = serializers.DateTimeField(required=False)
    reason = serializers.CharField(max_length=500)

    def validate(self, attrs):
        if ("to_version" in attrs) == ("to_time" in attrs):
            raise serializers.ValidationError("Give either to_version or to_time.")
        return attrs


class JobOutput(serializers.Serializer):
    job = serializers.IntegerField()
    status = serializers.CharField()


class DatasetRollbackApi(APIView):
    """Start a rollback job (admins only); poll /jobs/<id>/?format=json for its outcome."""

    permission_classes = [roles.IsAdmin]

    @extend_schema(request=RollbackInput, responses={202: JobOutput})
    def post(self, request, dataset_id: int):
        dataset = get_object_or_404(Dataset, pk=dataset_id)
        data = RollbackInput(data=request.data)
        data.is_valid(raise_exception=True)
        params = {"reason": data.validated_data["reason"]}
        if "to_version" in data.validated_data:
            get_object_or_404(DatasetVersion, dataset=dataset, number=data.validated_data["to_version"])
            params["to_version"] = data.validated_data["to_version"]
        else:
            params["to_time"] = data.validated_data["to_time"].isoformat()
        job = job_enqueue(kind="rollback", dataset=dataset, params=params, user=request.user)
        return Response({"job": job.id, "status": job.status}, status=status.HTTP_202_ACCEPTED)
