"""API bodies: JSON nested too deep is a 400, a body over the limit a JSON 413 that names the limit."""

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token

from core import roles
from labeling.models import Example
from tests.factories import ExampleFactory, user_with_role
from training.models import PredictionLog

pytestmark = pytest.mark.django_db
DEEP = b"[" * 1100 + b"]" * 1100


@pytest.fixture
def caller(db):
    user = user_with_role(roles.ADMIN, username="deep")
    return Client(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")


def _urls(example) -> list[str]:
    log = PredictionLog.objects.create(
        dataset=example.dataset, input_hash="h", category=example.category, score=0.5
    )
    return [
        reverse("api-classify", args=[example.dataset_id]),
        reverse("api-example", args=[example.id]),
        reverse("api-feedback", args=[log.id]),
        reverse("api-rollback", args=[example.dataset_id]),
    ]


@pytest.mark.parametrize("body", [DEEP, b'{"text": ' + DEEP + b"}"], ids=["list", "in-a-field"])
def test_json_nested_too_deep_is_a_400(caller, body):
    example = ExampleFactory()
    for url in _urls(example):
        method = caller.patch if url.endswith(f"examples/{example.id}") else caller.post
        response = method(url, body, content_type="application/json")
        assert response.status_code == 400, (url, response.content[:300])
        assert "nested too deep" in response.json()["detail"]
    assert Example.objects.get().version == example.version


def test_a_body_over_the_limit_is_a_json_413_with_the_limit(caller, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    example = ExampleFactory()
    url = reverse("api-classify", args=[example.dataset_id])
    response = caller.post(url, b'{"text": "' + b"a" * 2000 + b'"}', content_type="application/json")
    assert response.status_code == 413
    assert response.json() == {
        "detail": "The request body is larger than the limit of 1,000 bytes.",
        "limit_bytes": 1000,
    }
