"""Static files as `make run` serves them: under hashed names, gzip-compressed, cached for a year."""

import pytest
from django.core.management import call_command
from django.templatetags.static import static
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.fixture
def collected(settings, tmp_path):
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = settings.STORAGES | {
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"}
    }
    # The patterns scripts/run.sh leaves out (what no page loads), to keep the test quick.
    ignore = ["datasets", "templates", "widgetbundle.js", "redoc"]
    call_command("collectstatic", interactive=False, verbosity=0, ignore_patterns=ignore)
    return tmp_path


def test_plotly_is_served_compressed_under_its_hash_and_cached_for_a_year(collected):
    url = static("vendor/plotly/plotly.min.js")
    assert url.startswith("/static/vendor/plotly/plotly.min.") and url.count(".") == 3  # a hash in the name
    client = Client()
    stylesheet = static("css/bunryu.css")
    assert stylesheet != "/static/css/bunryu.css" and stylesheet in client.get("/login/").content.decode()
    response = client.get(url, HTTP_ACCEPT_ENCODING="gzip")
    assert response.status_code == 200 and response["Content-Encoding"] == "gzip"
    assert "max-age=315360000" in response["Cache-Control"] and "immutable" in response["Cache-Control"]
    assert int(response["Content-Length"]) < (collected / "vendor/plotly/plotly.min.js").stat().st_size / 3
