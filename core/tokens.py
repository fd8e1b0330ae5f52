"""API token authentication with the token -> user lookup (and the user's role rank) kept per process.

DRF's TokenAuthentication reads the token and its user on every request, then the role permission reads the
user's groups (and, on a dataset limited to its members, the members): queries for an answer the
classification API gives in well under a millisecond. Here a token's user, its role rank and its rank on each
dataset read once, is kept for API_TOKEN_CACHE_SECONDS. A change to any user, token, group, group membership
or dataset member moves a generation counter in Django's cache, and an entry of an older generation
is read again: with the Redis cache every process of the site forgets at once (one cache read a request);
on the embedded default (a per-process cache) other processes see the change when their entry expires.
"""

import time

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db.models.signals import m2m_changed, post_delete, post_save
from rest_framework import HTTP_HEADER_ENCODING
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

from core.roles import rank_of

MAX_ENTRIES = 10_000  # tokens kept at most; past that the cache starts again empty

GENERATION_KEY = "tokens:generation"

_users: dict[str, tuple[float, object, Token, int]] = {}


class CachedTokenAuthentication(TokenAuthentication):
    """`Authorization: Token <key>`, as DRF's, with the lookup cached (see the module docstring)."""

    def authenticate_credentials(self, key):
        now = time.monotonic()
        generation = cache.get(GENERATION_KEY, 0)
        found = _fresh(key, now)
        if found is not None and found[3] == generation:
            return found[1], found[2]
        return self._read(key, now, generation)

    def kept(self, request) -> tuple[object, object] | None:
        """The user this process keeps for the request's token and the generation it was read at, not yet
        checked against the current generation (the caller reads it, GENERATION_KEY, and compares); None
        when the header is anything but one token, or the token is not kept (or kept too long)."""
        words = authorization_header(request).split()
        if len(words) != 2 or words[0].lower() != TOKEN_KEYWORD:
            return None
        try:
            found = _fresh(words[1].decode(), time.monotonic())
        except UnicodeError:
            return None
        return None if found is None else (found[1], found[3])

    def _read(self, key: str, now: float, generation) -> tuple:
        user, token = super().authenticate_credentials(key)
        rank_of(user)  # read the groups now: the cached user carries its rank
        user._bunryu_dataset_ranks = {}  # and its rank on each dataset once read (core.roles.rank_on)
        if len(_users) >= MAX_ENTRIES:
            _users.clear()
        _users[key] = (now, user, token, generation)
        return user, token


def _fresh(key: str, now: float) -> tuple | None:
    """The entry kept for `key`, unless it was read API_TOKEN_CACHE_SECONDS ago or earlier."""
    found = _users.get(key)
    return found if found is not None and now - found[0] < settings.API_TOKEN_CACHE_SECONDS else None


API_PREFIX = "/api/"
TOKEN_KEYWORD = TokenAuthentication.keyword.lower().encode()  # as DRF compares it


def authorization_header(request) -> bytes:
    """The Authorization header as DRF's `get_authorization_header` gives it, read from META at once: DRF's
    reads `request.headers`, which parses the name of every header first (a fifth of the Django handler's
    CPU on a classify request)."""
    found = request.META.get("HTTP_AUTHORIZATION", b"")
    return found.encode(HTTP_HEADER_ENCODING) if isinstance(found, str) else found


def is_token_api_request(request) -> bool:
    """An API request that token authentication decides on its own (the test DRF's makes, to the byte)."""
    try:
        return request._token_api  # the middleware ask in turn: answered once
    except AttributeError:
        words = authorization_header(request).split()
        found = request.path_info.startswith(API_PREFIX) and bool(words) and words[0].lower() == TOKEN_KEYWORD
        request._token_api = found
        return found


def tokens_forget(**kwargs) -> None:
    """Forget every kept token, in this process and (through the shared cache) in the others."""
    _users.clear()
    cache.add(GENERATION_KEY, 0, timeout=None)
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:  # evicted between the two calls: any new value differs from what entries carry
        cache.set(GENERATION_KEY, time.time_ns(), timeout=None)


def connect_signals() -> None:
    from core.models import DatasetMember

    user_model = get_user_model()
    for model in (user_model, Token, Group, DatasetMember):
        for signal in (post_save, post_delete):
            signal.connect(tokens_forget, sender=model, dispatch_uid=f"tokens-forget-{id(signal)}-{model}")
    m2m_changed.connect(tokens_forget, sender=user_model.groups.through, dispatch_uid="tokens-forget-m2m")
