"""Search engine adapters: one small interface, an OpenSearch and an Elasticsearch implementation.

No Django here: plain values in and out, so the adapters are tested and benchmarked alone. The engine is
chosen by the scheme of SEARCH_URL: `opensearch://host:port` (opensearch-py) or `elasticsearch://host:port`
(the official client 8/9); a trailing `s` (`opensearchs://`) means HTTPS. User and password may be in the URL.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit


class EngineError(Exception):
    """The engine is unreachable or refused a request as a whole (not one document of a bulk)."""


@dataclass(frozen=True)
class Action:
    """Index (doc given) or delete (doc None) one document, guarded by an external version: the engine
    keeps the write with the highest version, so a late or repeated action never puts an older state back."""

    id: int
    version: int
    doc: dict | None = None


@dataclass
class BulkResult:
    written: int = 0
    stale: int = 0  # the engine already held this or a newer version: nothing to do
    errors: dict[int, str] = field(default_factory=dict)  # id -> reason, to retry or dead-letter


class Engine(Protocol):
    kind: str

    def health(self) -> dict: ...
    def index_create(self, name: str, body: dict) -> None: ...
    def index_delete(self, name: str) -> None: ...
    def index_exists(self, name: str) -> bool: ...
    def indices_of(self, alias: str) -> list[str]: ...
    def indices(self, pattern: str) -> list[str]: ...
    def alias_swap(self, alias: str, new: str) -> None: ...
    def bulk(self, index: str, actions: list[Action], *, refresh: bool = False) -> BulkResult: ...
    def search(self, index: str, body: dict) -> dict: ...
    def count(self, index: str, query: dict | None = None) -> int: ...
    def refresh(self, index: str) -> None: ...
    def get_many(self, index: str, ids: list[int]) -> dict[int, dict]: ...
    def has_tokenizer(self, name: str) -> bool: ...


def _bulk_lines(actions: list[Action]) -> list[dict]:
    lines: list[dict] = []
    for action in actions:
        meta = {"_id": str(action.id), "version": action.version, "version_type": "external_gte"}
        if action.doc is None:
            lines.append({"delete": meta})
        else:
            lines += [{"index": meta}, action.doc]
    return lines


def _bulk_result(response: dict) -> BulkResult:
    result = BulkResult()
    for item in response.get("items", []):
        ((op, outcome),) = item.items()
        status = outcome.get("status", 500)
        if status < 300 or (op == "delete" and status == 404):
            result.written += 1
        elif status == 409:  # version conflict: an equal or newer write is already there
            result.stale += 1
        else:
            error = outcome.get("error") or {}
            result.errors[int(outcome["_id"])] = (
                f"{status} {error.get('type', '')}: {error.get('reason', '')}"
            )
    return result


class _Base:
    """What both clients share: their APIs differ in argument names, not in the requests they send."""

    kind = ""
    client: Any

    def _call(self, method, *args, **kwargs):
        try:
            return method(*args, **kwargs)
        except self._not_found:
            raise
        except self._errors as error:
            raise EngineError(f"{self.kind}: {error}") from error

    def health(self) -> dict:
        return dict(self._call(self.client.cluster.health))

    def index_delete(self, name: str) -> None:
        with contextlib.suppress(self._not_found):
            self._call(self.client.indices.delete, index=name)

    def index_exists(self, name: str) -> bool:
        return bool(self._call(self.client.indices.exists, index=name))

    def indices_of(self, alias: str) -> list[str]:
        try:
            return sorted(self._call(self.client.indices.get_alias, name=alias))
        except self._not_found:
            return []

    def indices(self, pattern: str) -> list[str]:
        try:
            return sorted(self._call(self.client.indices.get, index=pattern))
        except self._not_found:
            return []

    def alias_swap(self, alias: str, new: str) -> None:
        """Point the alias at `new` only, in one atomic request."""
        steps = [{"remove": {"index": old, "alias": alias}} for old in self.indices_of(alias) if old != new]
        self._call(
            self.client.indices.update_aliases,
            **self._actions_kw(steps + [{"add": {"index": new, "alias": alias}}]),
        )

    def refresh(self, index: str) -> None:
        self._call(self.client.indices.refresh, index=index)

    def count(self, index: str, query: dict | None = None) -> int:
        kwargs = self._body_kw({"query": query}) if query else {}
        return int(self._call(self.client.count, index=index, **kwargs)["count"])

    def search(self, index: str, body: dict) -> dict:
        return dict(self._call(self.client.search, index=index, **self._body_kw(body)))

    def has_tokenizer(self, name: str) -> bool:
        """Whether the engine knows this tokenizer (a plugin's, e.g. nori_tokenizer); False on its 400."""
        try:
            self._call(self.client.indices.analyze, **self._body_kw({"tokenizer": name, "text": "한국어"}))
        except EngineError as error:
            cause = error.__cause__
            status = getattr(cause, "status_code", None) or getattr(
                getattr(cause, "meta", None), "status", None
            )
            if status == 400:
                return False
            raise
        return True

    def get_many(self, index: str, ids: list[int]) -> dict[int, dict]:
        """Documents by id, each with its `_version`: what a drift check compares with the database."""
        if not ids:
            return {}
        response = self._call(self.client.mget, index=index, **self._body_kw({"ids": [str(i) for i in ids]}))
        return {
            int(doc["_id"]): doc["_source"] | {"_version": doc["_version"]}
            for doc in response["docs"]
            if doc.get("found")
        }


def _orjson_serializer():
    """opensearch-py's JSON serializer with orjson underneath: bulk bodies are most of the client's work."""
    import orjson
    from opensearchpy.serializer import JSONSerializer

    class OrjsonSerializer(JSONSerializer):
        def loads(self, s):
            return orjson.loads(s)

        def dumps(self, data):
            if isinstance(data, str):
                return data
            return orjson.dumps(data, default=self.default).decode()

    return OrjsonSerializer()


class OpenSearchEngine(_Base):
    kind = "opensearch"

    def __init__(self, url: str, *, timeout: float = 30):
        from opensearchpy import OpenSearch
        from opensearchpy.exceptions import NotFoundError, OpenSearchException

        self._errors, self._not_found = (OpenSearchException,), NotFoundError
        self.client = OpenSearch(
            hosts=[url],
            timeout=timeout,
            max_retries=0,
            http_compress=False,
            serializer=_orjson_serializer(),
            pool_maxsize=4,  # the rebuild sends from two threads
        )

    @staticmethod
    def _body_kw(body: dict) -> dict:
        return {"body": body}

    _actions_kw = staticmethod(lambda steps: {"body": {"actions": steps}})

    def index_create(self, name: str, body: dict) -> None:
        self._call(self.client.indices.create, index=name, body=body)

    def bulk(self, index: str, actions: list[Action], *, refresh: bool = False) -> BulkResult:
        if not actions:
            return BulkResult()
        response = self._call(self.client.bulk, index=index, body=_bulk_lines(actions), refresh=refresh)
        return _bulk_result(response)


# Body keys whose keyword argument differs in the elasticsearch client.
_ES_RENAMED = {"from": "from_", "_source": "source"}


class ElasticsearchEngine(_Base):
    kind = "elasticsearch"

    def __init__(self, url: str, *, timeout: float = 30):
        from elasticsearch import ApiError, Elasticsearch, NotFoundError, TransportError

        self._errors, self._not_found = (ApiError, TransportError), NotFoundError
        self.client = Elasticsearch(url, request_timeout=timeout, max_retries=0, retry_on_timeout=False)

    @staticmethod
    def _body_kw(body: dict) -> dict:
        return {_ES_RENAMED.get(key, key): value for key, value in body.items()}

    _actions_kw = staticmethod(lambda steps: {"actions": steps})

    def index_create(self, name: str, body: dict) -> None:
        self._call(self.client.indices.create, index=name, **body)

    def bulk(self, index: str, actions: list[Action], *, refresh: bool = False) -> BulkResult:
        if not actions:
            return BulkResult()
        response = self._call(self.client.bulk, index=index, operations=_bulk_lines(actions), refresh=refresh)
        return _bulk_result(dict(response))


ENGINES = {"opensearch": OpenSearchEngine, "elasticsearch": ElasticsearchEngine}


def engine_from_url(url: str, *, timeout: float = 30) -> Engine:
    """The adapter for a SEARCH_URL such as `opensearch://127.0.0.1:9200` or `elasticsearchs://user:pw@host`."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    secure = scheme.endswith("s") and scheme[:-1] in ENGINES
    kind = scheme[:-1] if secure else scheme
    if kind not in ENGINES or not parts.hostname:
        raise ValueError(
            f"SEARCH_URL must look like opensearch://host:port or elasticsearch://host:port, not {url!r}"
        )
    credentials = ""
    if parts.username:
        credentials = f"{unquote(parts.username)}:{unquote(parts.password or '')}@"
    port = parts.port or 9200
    http_url = (
        f"{'https' if secure else 'http'}://{credentials}{parts.hostname}:{port}{parts.path.rstrip('/')}"
    )
    return ENGINES[kind](http_url, timeout=timeout)
