"""Errors reach API clients in one place (core.api_errors.api_exception_handler): a status and a code."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from core import roles
from core.api_errors import api_exception_handler
from core.errors import ApplicationError
from labeling.models import Example
from tests.factories import ExampleFactory, user_with_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def example() -> Example:
    return ExampleFactory()


def _client(role: str | None) -> APIClient:
    client = APIClient()
    if role:
        client.force_authenticate(user_with_role(role))
    return client


def test_validation_errors_name_the_field_and_carry_invalid(example):
    response = _client(roles.ANNOTATOR).patch(
        reverse("api-example", args=[example.id]),
        {"category": example.category_id, "version": "x"},
        format="json",
    )
    body = response.json()
    assert response.status_code == 400
    assert body["code"] == "invalid"
    assert body["detail"] == "version: A valid integer is required."
    assert body["errors"] == {"version": ["A valid integer is required."]}


def test_refusals_carry_their_code(example):
    url = reverse("api-example", args=[example.id])
    response = _client(roles.ANNOTATOR).patch(url, {"category": 0, "version": 1}, format="json")
    assert (response.status_code, response.json()["code"]) == (400, "unknown_category")


def test_anonymous_gets_a_code(example):
    response = _client(None).get(reverse("api-example", args=[example.id]))
    assert (response.status_code, response.json()["code"]) == (401, "not_authenticated")


def test_forbidden_and_missing_carry_codes(example):
    annotator = _client(roles.ANNOTATOR)
    rollback = annotator.post(reverse("api-rollback", args=[example.dataset_id]), {}, format="json")
    assert (rollback.status_code, rollback.json()["code"]) == (403, "permission_denied")
    missing = annotator.get(reverse("api-example", args=[999_999]))
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")
    wrong_method = annotator.delete(reverse("api-example", args=[example.id]))
    assert (wrong_method.status_code, wrong_method.json()["code"]) == (405, "method_not_allowed")


def test_an_application_error_keeps_its_status_code_and_details():
    class Locked(ApplicationError):
        status, code = 423, "locked"

    response = api_exception_handler(Locked("Busy.", details={"until": "soon"}), {})
    assert (response.status_code, response.data) == (
        423,
        {"detail": "Busy.", "code": "locked", "until": "soon"},
    )
    assert api_exception_handler(ValueError("a bug"), {}) is None  # a 500 stays a 500
