"""The browser's middleware (sessions, CSRF, the session's user, messages), passed by API token requests.

A request under /api/ that says `Authorization: Token ...` is authenticated by the token authentication that
comes first in REST_FRAMEWORK's DEFAULT_AUTHENTICATION_CLASSES (no API view names other classes): it answers
for the token or fails with 401, and session authentication is never consulted. Such a request reads no
session, posts no form (API views are CSRF-exempt) and shows no messages, so these four only cost it time
(0.1 to 0.2 ms of CPU per classification request). Every other request, pages and session calls to the API
alike, goes through them as before.
"""

from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.middleware.csrf import CsrfViewMiddleware

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
