"""Sessions, CSRF, the session's user and messages: still there for pages and session calls to the API,
passed by API requests that carry a token (admin_site/middleware.py)."""

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from admin_site.middleware import is_token_api_request
from core import roles
from tests.factories import user_with_role

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("path", "authorization", "passes"),
    [
        ("/api/v1/datasets", "Token abc", True),
        ("/api/v1/datasets", "token abc", True),  # DRF compares the keyword case-insensitively
        ("/api/v1/datasets", "Token", True),  # DRF answers 401 itself
        ("/api/v1/datasets", "Bearer abc", False),
        ("/api/v1/datasets", "Tokenabc", False),
        ("/api/v1/datasets", None, False),
        ("/labeling/", "Token abc", False),
    ],
)
def test_which_requests_pass_the_browser_middleware(path, authorization, passes):
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    assert is_token_api_request(RequestFactory().get(path, **headers)) is passes


def test_pages_keep_csrf_sessions_and_the_session_user():
    user = user_with_role(roles.ANNOTATOR, username="reader")
    user.set_password("secret-words")
    user.save()
    browser = Client(enforce_csrf_checks=True)
    form = {"username": "reader", "password": "secret-words"}
    assert browser.post(reverse("login"), form).status_code == 403  # no CSRF token
    token = browser.get(reverse("login")).cookies["csrftoken"].value
    assert browser.post(reverse("login"), {**form, "csrfmiddlewaretoken": token}).status_code == 302
    page = browser.get(reverse("labeling:dashboard"), HTTP_AUTHORIZATION="Token abc")  # a token on a page
    assert page.status_code == 200 and page.wsgi_request.user == user


def test_session_calls_to_the_api_keep_the_session_user_and_csrf():
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user_with_role(roles.ANNOTATOR, username="clicker"))
    assert browser.get(reverse("api-datasets")).status_code == 200
    refused = browser.post(reverse("api-classify", args=[1]), {"text": "a"}, content_type="application/json")
    assert refused.status_code == 403 and "CSRF" in refused.json()["detail"]


def test_token_calls_are_answered_for_the_token_alone():
    api = APIClient()
    api.force_login(user_with_role(roles.ADMIN, username="session-admin"))  # a session cookie beside
    api.credentials(
        HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user_with_role(roles.ANNOTATOR)).key}"
    )
    response = api.get(reverse("api-datasets"))
    assert response.status_code == 200 and response.wsgi_request.user.username != "session-admin"
    assert "Set-Cookie" not in response.headers and "Cookie" not in response.headers.get("Vary", "")
    api.credentials(HTTP_AUTHORIZATION="Token wrong")
    refused = api.get(reverse("api-datasets"))
    assert refused.status_code == 401 and refused.headers["WWW-Authenticate"] == "Token"
