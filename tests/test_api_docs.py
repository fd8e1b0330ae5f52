"""The API's docs page: Swagger UI on the schema, its files served by the site (no CDN)."""

import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_the_api_docs_page_shows_swagger_ui_from_local_files(client):
    page = client.get(reverse("api-docs"))
    assert page.status_code == 200 and page["Content-Type"].startswith("text/html")
    html = page.content.decode()
    assets = re.findall(r'<script src="([^"]+)"', html) + re.findall(r'href="([^"]+\.css)"', html)
    local = "/static/drf_spectacular_sidecar/swagger-ui-dist/"
    assert assets and all(asset.startswith(local) for asset in assets), assets
    assert reverse("api-schema") in html
