from django.urls import path

from labeling import apis

urlpatterns = [
    path("examples/<int:example_id>", apis.ExampleDetailApi.as_view(), name="api-example"),
    path("datasets/<int:dataset_id>/versions", apis.DatasetVersionsApi.as_view(), name="api-versions"),
    path("datasets/<int:dataset_id>/rollback", apis.DatasetRollbackApi.as_view(), name="api-rollback"),
]
