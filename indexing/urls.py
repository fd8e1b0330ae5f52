from django.urls import path

from indexing import views

app_name = "indexing"

urlpatterns = [
    path("", views.indexing_page, name="status"),
    path("actions", views.indexing_action, name="action"),
]
