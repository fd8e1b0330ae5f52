"""The classification API's short way through the site, for its ordinary requests.

`POST /api/v1/datasets/<id>/classify` with a JSON body, an API token and a plain Accept header is answered
here, before URL resolving, the rest of the middleware and DRF's request/response machinery. The checks are
the view's own, in the view's order wherever it matters: the body (ClassifyInput, checked by hand), the
dataset, the token (CachedTokenAuthentication), the role (IsAnnotator), the throttle (ClassifyThrottle), then
`classify_response`, which the view calls too. For a token this process keeps, the tokens' generation (has
any user, token, group or member changed?) is read in the throttle's round trip to Redis. When a check
fails, or the request is anything but ordinary (another content type or Accept, a query string, a session
instead of a token), the request goes on to the view untouched, which answers as it always does: every
refusal (400, 401, 403, 404, 405, 406, 415, 429) is DRF's own. A throttled request is counted twice then,
which changes nothing: it is over the limit either way; so is a request refused because the user's rights
changed between two requests (the generation moved), which the view would not count: one request more in
one window, for a user an administrator just changed.
"""

import re
from functools import cache

import orjson
from csp.constants import HEADER as CSP_HEADER
from csp.constants import HEADER_REPORT_ONLY as CSP_HEADER_REPORT_ONLY
from csp.utils import build_policy
from django.http import HttpResponse
from rest_framework.exceptions import APIException, ValidationError

from core.roles import IsAnnotator
from core.tokens import GENERATION_KEY, CachedTokenAuthentication, is_token_api_request
from training.apis import ClassifyApi, classify_response
from training.classify_input import classify_input
from training.serving import served_dataset
from training.throttles import ClassifyThrottle, counts_and_gets

CLASSIFY_PATH = re.compile(r"/api/v1/datasets/(\d+)/classify")
JSON = "application/json"
PLAIN_ACCEPTS = ClassifyApi.PLAIN_ACCEPTS
ALLOW = "POST, OPTIONS"  # what DRF's view says it allows


class _Caller:
    """What the permission and throttle classes read of a request: its user and its META."""

    def __init__(self, request, user):
        self.user, self.META, self._request = user, request.META, request


class _ClassifyView:
    """What the permission class reads of the view: its URL arguments (the dataset's members are checked)."""

    def __init__(self, dataset_id: int):
        self.kwargs = {"dataset_id": dataset_id}


class ClassifyShortcutMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        found = CLASSIFY_PATH.fullmatch(request.path_info) if request.method == "POST" else None
        response = self._answer(request, int(found[1])) if found and _ordinary(request) else None
        return self.get_response(request) if response is None else response

    @staticmethod
    def _answer(request, dataset_id: int) -> HttpResponse | None:
        """The view's answer, or None to let the view give it."""
        try:
            items, k = classify_input(_json(request.body))
        except (ValueError, ValidationError):
            return None
        dataset = served_dataset(dataset_id)
        if dataset is None:
            return None
        user = _allowed_user(request, _ClassifyView(dataset_id))
        if user is None:
            return None
        response = classify_response(dataset, items, k, user)
        response["Allow"], response["Vary"] = ALLOW, "Accept"
        for header, policy in _content_security_policy():
            response[header] = policy
        return response


def _allowed_user(request, view: _ClassifyView):
    """The token's user when the view would answer it (authenticated, an annotator on the dataset, under
    the throttle's limit), else None. A user this process keeps is checked against the tokens' generation
    in the same Redis round trip as the throttle's count, where the view makes two."""
    throttle = ClassifyThrottle()
    kept = CachedTokenAuthentication().kept(request) if counts_and_gets() else None
    if kept is not None and _permitted(request, kept[0], view):
        allowed, generation = throttle.allow_request_and_get(_Caller(request, kept[0]), GENERATION_KEY, 0)
        if generation == kept[1]:
            return kept[0] if allowed else None
        # A user, token, group or member changed meanwhile: read them again (this request is counted).
        user = _authenticated(request)
        return user if allowed and user is not None and _permitted(request, user, view) else None
    user = _authenticated(request)
    if user is None or not _permitted(request, user, view):
        return None
    return user if throttle.allow_request(_Caller(request, user), None) else None


def _authenticated(request):
    try:
        found = CachedTokenAuthentication().authenticate(request)
    except APIException:
        return None
    return found[0] if found else None


def _permitted(request, user, view: _ClassifyView) -> bool:
    return IsAnnotator().has_permission(_Caller(request, user), view)


@cache
def _content_security_policy() -> tuple[tuple[str, str], ...]:
    """The headers CSPMiddleware (after this one) gives a response without a nonce, built once: they depend on
    the settings alone, and building them was a tenth of a single-text request's CPU."""
    policies = ((CSP_HEADER, build_policy()), (CSP_HEADER_REPORT_ONLY, build_policy(report_only=True)))
    return tuple((header, policy) for header, policy in policies if policy)


def _ordinary(request) -> bool:
    meta = request.META
    return (
        meta.get("CONTENT_TYPE") == JSON
        and meta.get("HTTP_ACCEPT") in PLAIN_ACCEPTS
        and not meta.get("QUERY_STRING")
        and is_token_api_request(request)
    )


def _json(body: bytes):
    """A body as DRF's JSONParser reads it (UTF-8, no NaN or Infinity), or a ValueError. orjson refuses a
    little more (integers past 64 bits, lone surrogates): the view reads those bodies itself."""
    return orjson.loads(body)
