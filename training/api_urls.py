from django.urls import path

from training import apis

urlpatterns = [
    path("datasets", apis.DatasetListApi.as_view(), name="api-datasets"),
    path("datasets/<int:dataset_id>", apis.DatasetDetailApi.as_view(), name="api-dataset"),
    path("datasets/<int:dataset_id>/categories", apis.CategoryListApi.as_view(), name="api-categories"),
    path("datasets/<int:dataset_id>/runs", apis.RunListApi.as_view(), name="api-runs"),
    path("datasets/<int:dataset_id>/champion", apis.ChampionApi.as_view(), name="api-champion"),
    path("datasets/<int:dataset_id>/classify", apis.ClassifyApi.as_view(), name="api-classify"),
    path("runs/<int:run_id>", apis.RunDetailApi.as_view(), name="api-run"),
    path("predictions/<int:prediction_id>/feedback", apis.FeedbackApi.as_view(), name="api-feedback"),
]
