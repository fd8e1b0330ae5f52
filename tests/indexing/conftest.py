"""Fixtures for tests on the real search node that scripts/with-services.sh starts (SEARCH_URL)."""

import os
import uuid

import pytest


@pytest.fixture(scope="session")
def search_url() -> str:
    url = os.environ.get("SEARCH_URL", "")
    if not url:
        pytest.fail(
            "indexing tests need the search node: run them through scripts/with-services.sh (make test)"
        )
    return url


@pytest.fixture
def search(settings, search_url):
    """SEARCH_URL set, indexes under a prefix of this test's own; the contents index created (empty)."""
    from indexing import services

    settings.SEARCH_URL = search_url
    settings.SEARCH_INDEX_PREFIX = f"t{uuid.uuid4().hex[:10]}-"
    services.index_create()
    engine, prefix = services.engine_get(), settings.SEARCH_INDEX_PREFIX
    yield services
    for index in engine.indices(f"{prefix}*"):
        engine.index_delete(index)


def drain(services) -> None:
    """Realtime path to the end: the outbox drained, the index refreshed."""
    services.outbox_drain()
    services.engine_get().refresh(services.search_alias("contents"))


def assert_index_equals_database(services) -> None:
    services.engine_get().refresh(services.search_alias("contents"))
    assert services.index_compare() == {"missing": [], "stale": [], "extra": []}
