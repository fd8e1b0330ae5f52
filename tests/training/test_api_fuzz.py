"""Generated requests against the OpenAPI schema (schemathesis): whatever comes in, never a 5xx."""

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token

from core import roles
from tests.factories import user_with_role
from tests.training.test_runs import train
from training.serving import forget_all


@pytest.fixture
def api_schema(db, news, settings):
    """The schema served in process; like Django's test client, requests keep the test's connection open."""
    settings.API_SCHEMA_PUBLIC = True  # read without a token here
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    forget_all()
    train(news, folds=0)
    yield schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture
def token(db) -> str:
    user = user_with_role(roles.ADMIN, username="fuzzer")
    return Token.objects.get_or_create(user=user)[0].key


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors_on_generated_input(case, token):
    response = case.call(headers={"Authorization": f"Token {token}"})
    assert response.status_code < 500, (case.method, case.formatted_path, case.body, response.text[:500])
