from django.urls import path

from training import views

app_name = "training"

urlpatterns = [
    path("datasets/<int:dataset_id>/models/", views.runs_page, name="runs"),
    path("datasets/<int:dataset_id>/models/train/", views.run_start_view, name="start"),
    path("datasets/<int:dataset_id>/models/demote/", views.champion_demote_view, name="demote"),
    path("datasets/<int:dataset_id>/models/requirements/", views.requirements_page, name="requirements"),
    path("datasets/<int:dataset_id>/models/schedule/", views.schedule_page, name="schedule"),
    path("runs/<int:run_id>/", views.run_page, name="run"),
    path("runs/<int:run_id>/cancel/", views.run_cancel_view, name="cancel"),
    path("runs/<int:run_id>/promote/", views.run_promote_view, name="promote"),
]

urlpatterns += [
    path("datasets/<int:dataset_id>/health/", views.health_page, name="health"),
    path("datasets/<int:dataset_id>/confusion/", views.confusion_page, name="confusion"),
    path("datasets/<int:dataset_id>/doubted/", views.doubted_page, name="doubted"),
    path("datasets/<int:dataset_id>/review/", views.review_page, name="review"),
    path("datasets/<int:dataset_id>/fixes/", views.fixes_page, name="fixes"),
    path("datasets/<int:dataset_id>/fixes/merge/", views.category_merge_view, name="merge"),
    path("datasets/<int:dataset_id>/fixes/exclude/", views.category_exclude_view, name="exclude"),
    path("datasets/<int:dataset_id>/retrain/", views.retrain_view, name="retrain"),
]

urlpatterns += [
    path("datasets/<int:dataset_id>/rules/", views.rules_page, name="rules"),
    path("datasets/<int:dataset_id>/rules/<int:rule_id>/", views.rule_edit, name="rule"),
    path("datasets/<int:dataset_id>/ensemble/", views.ensemble_page, name="ensemble"),
    path("datasets/<int:dataset_id>/predictions/", views.predictions_page, name="predictions"),
    path("predictions/<int:prediction_id>/feedback/", views.prediction_feedback_view, name="feedback"),
]

urlpatterns += [
    path("datasets/<int:dataset_id>/classify/", views.bulk_page, name="bulk"),
    path("classify/<int:job_id>/", views.bulk_result, name="bulk-result"),
    path("classify/<int:job_id>/answers.csv", views.bulk_download, name="bulk-download"),
]
