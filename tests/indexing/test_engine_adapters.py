"""Both adapters on the real node; the elasticsearch client through the test-only proxy (es_proxy.py)."""

import pytest

from indexing.engine import Action, ElasticsearchEngine, OpenSearchEngine, engine_from_url
from tests.indexing.es_proxy import ElasticProxy


@pytest.fixture(params=["opensearch", "elasticsearch"])
def engine(request, search_url):
    host, port = search_url.split("://")[1].split(":")
    proxy = ElasticProxy(host, int(port)) if request.param == "elasticsearch" else None
    adapter = engine_from_url(proxy.url if proxy else search_url)
    name = f"adapter-{request.param}"
    adapter.index_delete(f"{name}*")
    yield adapter, name
    adapter.index_delete(f"{name}*")
    if proxy:
        proxy.close()


def test_url_picks_the_adapter():
    assert isinstance(engine_from_url("opensearch://127.0.0.1:9200"), OpenSearchEngine)
    assert isinstance(engine_from_url("elasticsearchs://u:p@example.org"), ElasticsearchEngine)
    with pytest.raises(ValueError, match="SEARCH_URL"):
        engine_from_url("http://127.0.0.1:9200")


def test_lifecycle_versions_and_alias_swap(engine):
    adapter, name = engine
    assert adapter.health()["status"] in ("green", "yellow")
    mapping = {"mappings": {"properties": {"title": {"type": "text"}, "id": {"type": "long"}}}}
    adapter.index_create(f"{name}-1", mapping)
    adapter.index_create(f"{name}-2", mapping)
    result = adapter.bulk(
        f"{name}-1", [Action(1, 5, {"id": 1, "title": "new"}), Action(2, 1, {"id": 2, "title": "x"})]
    )
    assert (result.written, result.stale, result.errors) == (2, 0, {})
    # an older version of 1 arrives late, and a delete of 2: the older write is refused as stale
    result = adapter.bulk(f"{name}-1", [Action(1, 4, {"id": 1, "title": "old"}), Action(2, 2)], refresh=True)
    assert (result.written, result.stale) == (1, 1)
    assert adapter.get_many(f"{name}-1", [1, 2]) == {1: {"id": 1, "title": "new", "_version": 5}}
    assert adapter.count(f"{name}-1") == 1
    hits = adapter.search(f"{name}-1", {"query": {"match": {"title": "new"}}, "from": 0, "size": 5})
    assert [hit["_id"] for hit in hits["hits"]["hits"]] == ["1"]
    adapter.alias_swap(f"{name}-alias", f"{name}-1")
    adapter.alias_swap(f"{name}-alias", f"{name}-2")
    assert adapter.indices_of(f"{name}-alias") == [f"{name}-2"]
    refused = adapter.bulk(f"{name}-2", [Action(3, 1, {"id": "not a number"})])
    assert list(refused.errors) == [3]
