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


def test_the_docs_page_script_runs_under_the_content_security_policy(client):
    client.force_login(UserFactory())
    page = client.get(reverse("api-docs"))
    inline = re.findall(r"<script(?![^>]*\bsrc=)([^>]*)>", page.content.decode())
    nonces = [re.search(r'nonce="([^"]+)"', attributes) for attributes in inline]
    assert all(nonces), inline  # the split view has none; any inline script must carry the page's nonce
    assert all(f"'nonce-{nonce[1]}'" in page["Content-Security-Policy"] for nonce in nonces)


def test_the_docs_page_is_for_those_who_may_read_the_schema(client):
    assert client.get(reverse("api-docs")).status_code in (401, 403)
