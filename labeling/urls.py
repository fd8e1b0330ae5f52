from django.urls import path

from labeling import views

app_name = "labeling"

urlpatterns = [
    path("", views.dataset_list, name="dashboard"),
    path("datasets/<int:dataset_id>/", views.dataset_dashboard, name="dataset"),
    path("datasets/<int:dataset_id>/history/", views.dataset_history, name="history"),
    path("datasets/<int:dataset_id>/commit/", views.dataset_commit_view, name="commit"),
    path("datasets/<int:dataset_id>/diff/", views.dataset_diff, name="diff"),
    path("datasets/<int:dataset_id>/rollback/", views.dataset_rollback, name="rollback"),
    path("datasets/<int:dataset_id>/export/", views.dataset_export, name="export"),
    path("datasets/<int:dataset_id>/taxonomy/", views.taxonomy_page, name="taxonomy"),
    path("datasets/<int:dataset_id>/examples/", views.examples_browse, name="browse"),
    path("datasets/<int:dataset_id>/queue/", views.labeling_queue, name="queue"),
    path("datasets/<int:dataset_id>/import/", views.import_upload, name="import_upload"),
    path("imports/<int:import_id>/", views.import_detail, name="import"),
    path("imports/<int:import_id>/apply/", views.import_apply_view, name="import_apply"),
    path("changesets/<int:changeset_id>/", views.changeset_detail, name="changeset"),
    path("changesets/<int:changeset_id>/revert/", views.changeset_revert_view, name="revert"),
    path("examples/<int:example_id>/history/", views.example_history, name="example_history"),
]
