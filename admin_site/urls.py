from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView

admin.site.site_header = "bunryu admin"
admin.site.site_title = "bunryu"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="labeling:dashboard", permanent=False)),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("labeling/", include("labeling.urls")),
    path("training/", include("training.urls")),
    path("catalog/", include("catalog.urls")),
    path("api/v1/", include("labeling.api_urls")),
    path("api/v1/", include("training.api_urls")),
    path("api/v1/", include("catalog.api_urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("admin/", admin.site.urls),
]
