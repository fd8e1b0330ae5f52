"""The browser's middleware (sessions, CSRF, the session's user, messages), passed by API token requests.

A request under /api/ that says `Authorization: Token ...` is authenticated by the token authentication that
comes first in REST_FRAMEWORK's DEFAULT_AUTHENTICATION_CLASSES (no API view names other classes): it answers
for the token or fails with 401, and session authentication is never consulted. Such a request reads no
session, posts no form (API views are CSRF-exempt) and shows no messages, so these four only cost it time
(bench/results/api.md). Every other request, pages and session calls to the API
alike, goes through them as before.
"""

from django.conf import settings
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.middleware.csrf import CsrfViewMiddleware

from core.params import body_too_large
from core.tokens import is_token_api_request


class PassedByTokenRequests:
    """Middleware mixin: a token API request goes straight on to the next middleware."""

    def __call__(self, request):
        if is_token_api_request(request):
            return self.get_response(request)
        return super().__call__(request)


class BrowserSessionMiddleware(PassedByTokenRequests, SessionMiddleware):
    pass


class BrowserCsrfViewMiddleware(PassedByTokenRequests, CsrfViewMiddleware):
    """Its view check (process_view, called by Django for every view) still runs; API views are exempt."""


class BrowserAuthenticationMiddleware(PassedByTokenRequests, AuthenticationMiddleware):
    pass


class BrowserMessageMiddleware(PassedByTokenRequests, MessageMiddleware):
    pass


class BodyLimitMiddleware:
    """An API body announced larger than DATA_UPLOAD_MAX_MEMORY_SIZE answers 413 with the limit, as JSON,
    before anything reads it (a body sent without its length is caught when read: core/params.py)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and request.path_info.startswith("/api/"):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > limit:
                return body_too_large(limit)
        return self.get_response(request)
