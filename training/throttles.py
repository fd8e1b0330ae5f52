"""A cheap throttle for the classification API: one counter per user and minute in Django's cache.

DRF's ScopedRateThrottle keeps (and copies) the list of every request time of the last minute, which costs
milliseconds per request at hundreds of requests a second; a fixed-window counter costs one cache increment.
"""

import time

from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import BaseThrottle

from training.rates import parse_rate


def window_count(key: str, timeout: int) -> int:
    """Count one more request under `key`: the count so far, this one included."""
    if hasattr(cache, "count"):  # the Redis cache (core/cache.py): one round trip
        return cache.count(key, timeout)
    try:
        return cache.incr(key)  # every request but the window's first: one cache operation
    except ValueError:  # the window's first request
        if cache.add(key, 1, timeout=timeout):
            return 1
        try:
            return cache.incr(key)  # another request added it in between
        except ValueError:  # and it is gone again (expired or culled): start over
            cache.add(key, 1, timeout=timeout)
            return 1


def counts_and_gets() -> bool:
    """Whether the cache can count and read another key in one round trip (core/cache.py)."""
    return hasattr(cache, "count_and_get")


class ClassifyThrottle(BaseThrottle):
    """At most CLASSIFY_RATE requests per user (or client address) in each fixed window."""

    def allow_request(self, request, view) -> bool:
        key, timeout, limit = self._window(request)
        return window_count(key, timeout) <= limit

    def allow_request_and_get(self, request, other: str, default=None) -> tuple[bool, object]:
        """`allow_request`, and the cache's value under `other`, in one round trip (`counts_and_gets()`)."""
        key, timeout, limit = self._window(request)
        count, value = cache.count_and_get(key, timeout, other, default)
        return count <= limit, value

    def _window(self, request) -> tuple[str, int, int]:
        """The counter's key for this caller and window, its timeout, and the limit."""
        limit, self.period = parse_rate(settings.CLASSIFY_RATE)
        who = request.user.pk if request.user and request.user.is_authenticated else self.get_ident(request)
        window = int(time.time() // self.period)
        return f"throttle:classify:{who}:{window}", self.period + 1, limit

    def wait(self) -> float:
        return self.period - time.time() % self.period
