"""What a newcomer's first `make run` showed: a favicon, a quiet 403, no warning on every command."""

import logging
import os
import subprocess
import sys

import pytest
from django.urls import reverse

from core import roles
from tests.conftest import ROOT
from tests.factories import DatasetFactory, user_with_role

pytestmark = pytest.mark.django_db


def test_pages_name_a_favicon_and_favicon_ico_leads_to_it(client):
    assert 'rel="icon" href="/static/favicon.svg"' in client.get(reverse("login")).content.decode()
    response = client.get("/favicon.ico")
    assert response.status_code == 302 and response["Location"] == "/static/favicon.svg"


def test_an_ordinary_403_is_logged_in_one_line_without_a_traceback(client, caplog):
    client.force_login(user_with_role(roles.ANNOTATOR))
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = client.get(reverse("labeling:import_upload", args=[DatasetFactory().id]))
    assert response.status_code == 403
    [record] = [record for record in caplog.records if record.name == "django.request"]
    assert record.getMessage().startswith("Forbidden") and not record.exc_info


def test_commands_on_the_embedded_default_print_no_system_check_warning(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CELERY_BROKER_URL")}
    env["BUNRYU_VAR_DIR"] = str(tmp_path)
    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--database", "default"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and "W040" not in done.stdout + done.stderr, done.stderr
    assert "System check identified no issues" in done.stdout  # the database checks ran (as in `migrate`)
