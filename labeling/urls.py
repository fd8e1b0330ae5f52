from django.urls import path

from labeling import views

app_name = "labeling"

urlpatterns = [
    path("", views.dataset_list, name="dashboard"),
    path("datasets/<int:dataset_id>/", views.dataset_dashboard, name="dataset"),
]
