"""The classification shortcut (training/middleware.py) answers ordinary requests exactly as the view does,
and leaves every other request, refusals included, to the view."""

import json

import pytest
from django.conf import settings as django_settings
from django.test import override_settings
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from core import roles
from tests.factories import UserFactory, user_with_role
from tests.training.test_api import SPACE_TEXT
from tests.training.test_runs import train
from training import middleware

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_serving")]
WITHOUT_SHORTCUT = [m for m in django_settings.MIDDLEWARE if "ClassifyShortcut" not in m]
HEADERS = (
    "Content-Type",
    "Content-Length",
    "Allow",
    "Vary",
    "X-Frame-Options",
    "X-Content-Type-Options",
    "Referrer-Policy",
    "Content-Security-Policy",
)

BODIES = [
    {"text": SPACE_TEXT},
    {"text": SPACE_TEXT, "title": "Space", "k": 5},
    {"items": [{"text": SPACE_TEXT}, {"text": "guns and the second amendment", "title": "t"}], "k": 2},
    {"text": ""},
    {"text": "a", "k": 0},
    {"items": []},
    {},
    [1, 2],
    "not an object",
    b'{"text": "lone \\ud800 surrogate"}',  # orjson refuses it: the view reads it (and says what is wrong)
    {"text": "a", "k": 10**30},  # an integer past 64 bits: likewise
]


def _client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def _post(client, dataset_id, body, **extra):
    url = reverse("api-classify", args=[dataset_id])
    if isinstance(body, bytes):  # sent as it is
        return client.post(url, body, content_type="application/json", **extra)
    return client.post(url, body, format="json", **extra)


def _seen(response) -> tuple:
    """Status, headers and body, without the log ids (each request writes its own rows). The log ids' digits
    change the length (99 then 100), so Content-Length is compared as "says the body's length"."""
    body, headers = response.content, {h: response.get(h) for h in HEADERS}
    if response.status_code == 200:
        data = json.loads(body)
        for answer in data["results"]:
            answer.pop("prediction_id")
        body = data
        headers["Content-Length"] = headers["Content-Length"] == str(len(response.content))
    return response.status_code, headers, body


def _spied(send) -> tuple:
    """A request's response, and whether the shortcut answered it itself."""
    answered = []
    original = middleware.ClassifyShortcutMiddleware._answer

    def spy(request, dataset_id):
        response = original(request, dataset_id)
        answered.append(response is not None)
        return response

    middleware.ClassifyShortcutMiddleware._answer = staticmethod(spy)
    try:
        return send(), any(answered)
    finally:
        middleware.ClassifyShortcutMiddleware._answer = staticmethod(original)


def _both(send) -> tuple:
    """What a request gets with the shortcut, then without it (the view alone); and whether the shortcut
    answered it itself."""
    response, answered = _spied(send)
    with override_settings(MIDDLEWARE=WITHOUT_SHORTCUT):
        view = _seen(send())
    return _seen(response), view, answered


def test_ordinary_requests_get_the_views_answer_from_the_shortcut(news):
    champion = train(news, folds=0)
    client = _client(user_with_role(roles.ANNOTATOR, username="caller"))
    for number, body in enumerate(BODIES):
        shortcut, view, answered = _both(lambda body=body: _post(client, champion.dataset_id, body))
        assert shortcut == view, body
        assert answered == (number < 3), body  # bad bodies are left to the view
        assert "frame-ancestors 'none'" in shortcut[1]["Content-Security-Policy"]
    unknown = champion.dataset_id + 1000
    shortcut, view, answered = _both(lambda: _post(client, unknown, {"text": "a"}))
    assert shortcut == view and shortcut[0] == 400 and not answered


@pytest.mark.parametrize(
    "extra",
    [
        {"HTTP_ACCEPT": "application/json; indent=4"},
        {"HTTP_ACCEPT": "text/html"},
        {"QUERY_STRING": "format=json"},
    ],
)
def test_other_requests_go_to_the_view(news, extra):
    champion = train(news, folds=0)
    client = _client(user_with_role(roles.ANNOTATOR, username="caller"))
    shortcut, view, answered = _both(
        lambda: _post(client, champion.dataset_id, {"text": SPACE_TEXT}, **extra)
    )
    assert shortcut == view and not answered


def test_refusals_are_the_views(news, settings):
    champion = train(news, folds=0)
    dataset_id = champion.dataset_id
    anonymous = APIClient()
    anonymous.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    nobody = _client(UserFactory(username="nobody"))
    for client, status in ((anonymous, 401), (nobody, 403)):
        shortcut, view, answered = _both(lambda client=client: _post(client, dataset_id, {"text": "a"}))
        assert shortcut == view and shortcut[0] == status and not answered
    settings.CLASSIFY_RATE = "2/hour"
    caller = _client(user_with_role(roles.ANNOTATOR, username="busy"))
    codes = [_post(caller, dataset_id, {"text": SPACE_TEXT}).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    throttled, view, answered = _both(lambda: _post(caller, dataset_id, {"text": SPACE_TEXT}))
    assert throttled == view and throttled[0] == 429 and not answered


def test_no_model_is_answered_with_the_views_409(news):
    client = _client(user_with_role(roles.ANNOTATOR, username="caller"))
    shortcut, view, answered = _both(lambda: _post(client, news.id, {"text": SPACE_TEXT}))
    assert shortcut == view and shortcut[0] == 409 and answered


def _answered_by_shortcut(send) -> tuple[int, bool]:
    response, answered = _spied(send)
    return response.status_code, answered


def test_a_kept_token_is_refused_at_once_when_its_rights_change(news):
    """The shortcut checks a kept token's generation in the throttle's round trip: a member removed, a user
    deactivated, a token deleted count from the next request on, in every process."""
    from core.models import DatasetMember

    champion = train(news, folds=0)
    user = user_with_role(roles.ANNOTATOR, username="member")
    client = _client(user)
    member = DatasetMember.objects.create(dataset=news, user=user)
    send = lambda: _post(client, champion.dataset_id, {"text": SPACE_TEXT})  # noqa: E731
    assert [_answered_by_shortcut(send) for _ in range(3)] == [(200, True)] * 3  # kept after the first
    member.delete()
    DatasetMember.objects.create(dataset=news, user=UserFactory(username="someone-else"))
    assert _answered_by_shortcut(send) == (403, False)
    DatasetMember.objects.create(dataset=news, user=user)
    assert _answered_by_shortcut(send) == (200, True)
    user.is_active = False
    user.save()
    assert _answered_by_shortcut(send) == (401, False)
    user.is_active = True
    user.save()
    assert _answered_by_shortcut(send) == (200, True)
    Token.objects.filter(user=user).delete()
    assert _answered_by_shortcut(send) == (401, False)


def test_the_throttle_counts_kept_tokens_requests_once(news, settings):
    champion = train(news, folds=0)
    settings.CLASSIFY_RATE = "4/hour"
    client = _client(user_with_role(roles.ANNOTATOR, username="counted"))
    send = lambda: _post(client, champion.dataset_id, {"text": SPACE_TEXT})  # noqa: E731
    assert [_answered_by_shortcut(send) for _ in range(5)] == [(200, True)] * 4 + [(429, False)]
