"""The API's docs page: Swagger UI on the schema, its files served by the site (no CDN)."""

import re

import pytest
from django.urls import reverse

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_the_api_docs_page_shows_swagger_ui_from_local_files(client):
    client.force_login(UserFactory())  # as the schema: signed-in users (or API_SCHEMA_PUBLIC)
    page = client.get(reverse("api-docs"))
    assert page.status_code == 200 and page["Content-Type"].startswith("text/html")
    html = page.content.decode()
    assets = re.findall(r'<script src="([^"]+)"', html) + re.findall(r'href="([^"]+\.css)"', html)
    local = ("/static/drf_spectacular_sidecar/swagger-ui-dist/", reverse("api-docs") + "?script")
    assert assets and all(asset.startswith(local) for asset in assets), assets
    assert "<script>" not in html  # no inline script: the content security policy would block it
    script = client.get(reverse("api-docs") + "?script=")
    assert script.status_code == 200 and reverse("api-schema") in script.content.decode()
