from django.urls import path

from core import views

app_name = "core"

urlpatterns = [
    path("jobs/<int:job_id>/", views.job_detail, name="job"),
]
