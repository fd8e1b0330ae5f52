"""Production settings come from the environment: `check --deploy` is clean with them set; a CSP on every
page; the API schema only for signed-in users unless made public."""

import os
import subprocess
import sys

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token

from core import roles
from tests.conftest import ROOT
from tests.factories import user_with_role

PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "x8Jq2-a-long-random-production-key-Vb7pLr0Zk3Nw9Tc6Yh1Md4Sf5Gg8Rj2Qe7Ua0Xi",
    "ALLOWED_HOSTS": "bunryu.example.com",
    "SECURE_SSL_REDIRECT": "1",
    "SECURE_COOKIES": "1",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "1",
    "SECURE_HSTS_PRELOAD": "1",
    "BEHIND_TLS_PROXY": "1",
}


def _check_deploy(tmp_path, extra: dict) -> subprocess.CompletedProcess:
    unset = {*PRODUCTION, "DJANGO_ALLOW_ASYNC_UNSAFE"}  # the tests' own (Playwright), not production's
    env = {k: v for k, v in os.environ.items() if k not in unset} | {"BUNRYU_VAR_DIR": str(tmp_path)}
    command = [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"]
    return subprocess.run(command, cwd=ROOT, env=env | extra, capture_output=True, text=True, timeout=120)


def test_check_deploy_is_clean_with_the_production_variables(tmp_path):
    done = _check_deploy(tmp_path, PRODUCTION)
    assert done.returncode == 0 and "no issues" in done.stderr + done.stdout, done.stderr[-2000:]
    without = _check_deploy(tmp_path, {})  # the embedded default is for http://127.0.0.1 only
    assert without.returncode != 0
    assert {"security.W004", "security.W008", "security.W010"} <= {
        word.strip(")(:") for word in without.stderr.split() if word.startswith("(security.")
    }


@pytest.mark.django_db
def test_pages_carry_a_content_security_policy(client):
    client.force_login(user_with_role(roles.ANNOTATOR, username="reader"))
    policy = client.get(reverse("labeling:dashboard"))["Content-Security-Policy"]
    assert (
        "default-src 'self'" in policy
        and "script-src 'self'" in policy
        and "frame-ancestors 'none'" in policy
    )
    assert "unsafe-eval" not in policy and "http" not in policy


@pytest.mark.django_db
def test_the_api_schema_needs_a_signed_in_user_unless_public(client, settings):
    assert client.get("/api/schema/").status_code in (401, 403)
    user = user_with_role(roles.ANNOTATOR, username="schema-reader")
    token = Token.objects.create(user=user).key
    assert client.get("/api/schema/", HTTP_AUTHORIZATION=f"Token {token}").status_code == 200
    client.force_login(user)
    assert client.get("/api/schema/").status_code == 200
    client.logout()
    settings.API_SCHEMA_PUBLIC = True
    assert client.get("/api/schema/").status_code == 200
