from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from core.roles import SchemaReader

handler400 = "core.params.bad_request"

admin.site.site_header = "bunryu admin"
admin.site.site_title = "bunryu"


class FaviconView(RedirectView):
    """/favicon.ico, which browsers ask for on pages that name no icon (the Django admin's)."""

    def get_redirect_url(self, *args, **kwargs) -> str:
        return static("favicon.svg")


urlpatterns = [
    path("", RedirectView.as_view(pattern_name="labeling:dashboard", permanent=False)),
    path("favicon.ico", FaviconView.as_view()),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", include("core.urls")),
    path("labeling/", include("labeling.urls")),
    path("training/", include("training.urls")),
    path("catalog/", include("catalog.urls")),
    path("api/v1/", include("labeling.api_urls")),
    path("api/v1/", include("training.api_urls")),
    path("api/v1/", include("catalog.api_urls")),
    path("api/v1/", include("indexing.api_urls")),
    path("indexing/", include("indexing.urls")),
    path("api/schema/", SpectacularAPIView.as_view(permission_classes=[SchemaReader]), name="api-schema"),
    # Swagger UI on the schema, for those who may read it; the split view serves its start-up script as a file
    # (the content security policy allows no inline script).
    path(
        "api/docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api-schema", permission_classes=[SchemaReader]),
        name="api-docs",
    ),
    path("admin/", admin.site.urls),
]
