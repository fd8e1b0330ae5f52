"""The engine this site uses (SEARCH_URL) and the names of its indexes."""

import functools
import uuid

from django.conf import settings
from django.utils import timezone

from indexing.engine import Engine, engine_from_url


def indexing_enabled() -> bool:
    return bool(settings.SEARCH_URL)


@functools.cache
def _engine(url: str) -> Engine:
    return engine_from_url(url)


def engine_get() -> Engine:
    """The adapter for SEARCH_URL (one per process and URL: it holds a connection pool)."""
    if not settings.SEARCH_URL:
        raise RuntimeError("SEARCH_URL is not set: the site has no search engine")
    return _engine(settings.SEARCH_URL)


def index_body(name: str) -> dict:
    """A new physical index's settings and mappings, with the Korean morphological subfields when the
    engine has the nori tokenizer."""
    from indexing.documents import DEFINITIONS, KOREAN_TOKENIZER

    return DEFINITIONS[name].body(korean=engine_get().has_tokenizer(KOREAN_TOKENIZER))


def search_alias(name: str) -> str:
    """The alias that readers use for a logical index, e.g. 'bunryu-contents'."""
    return f"{settings.SEARCH_INDEX_PREFIX}{name}"


def physical_name(name: str) -> str:
    """A new versioned physical index behind the alias: 'bunryu-contents-v20261206-171500-3fa2'."""
    return f"{search_alias(name)}-v{timezone.now():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:4]}"
