"""Reading through the engine: ids (and highlights) from the index, rows from the database.

The index may lag behind the database by a few seconds (or more during an outage): every filter is applied
again to the rows read from the database, so a hit whose example moved, was removed or disappeared is skipped,
and the engine's total is then only "about" right.
"""

import logging
from dataclasses import dataclass, field

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from indexing.engine import EngineError
from indexing.models import IndexState
from indexing.services.engine import engine_get, indexing_enabled, search_alias
from labeling.models import Category, Example

logger = logging.getLogger(__name__)

MAX_IDS = 10_000  # ids the search page takes from the engine for one query (its pages are capped too)
_MARK_OPEN, _MARK_CLOSE = "\x02", "\x03"  # highlight markers: the text is escaped first, then marked


def _text_query(text: str, in_body: bool = True) -> dict:
    fields = [("title", 3), ("title.en", 2), ("title.ko", 2)]
    fields += [("body", 1), ("body.en", 1)] if in_body else []
    should = [{"match": {f: {"query": text, "operator": "and", "boost": boost}}} for f, boost in fields]
    should.append({"term": {"external_id": {"value": text, "boost": 10}}})
    return {"bool": {"should": should, "minimum_should_match": 1}}


def _filters(dataset_id: int | None, category: Category | None, status: str) -> list[dict]:
    filters = []
    if dataset_id:
        filters.append({"term": {"tags": f"d{dataset_id}"}})
    if dataset_id and category:
        kind = "l" if category.is_large else "c"
        filters.append({"term": {"tags": f"d{dataset_id}:{kind}{category.id}"}})
    if dataset_id and status:
        filters.append({"term": {"tags": f"d{dataset_id}:s:{status}"}})
    return filters


def search_ready(name: str = "contents") -> bool:
    """SEARCH_URL is set and the index has been created: searches go to the engine."""
    return indexing_enabled() and IndexState.objects.filter(name=name).exclude(live="").exists()


def content_ids_matching(dataset_id: int, text: str, in_body: bool) -> list[int] | None:
    """The labeling search page's text matcher: ids of the contents whose text matches, from the engine;
    None (the database answers) when there is no engine or it cannot be reached."""
    if not search_ready():
        return None
    body = {
        "size": MAX_IDS,
        "_source": False,
        "query": {"bool": {"must": [_text_query(text, in_body)], "filter": _filters(dataset_id, None, "")}},
    }
    try:
        hits = engine_get().search(search_alias("contents"), body)["hits"]["hits"]
    except EngineError as error:
        logger.warning("search engine unreachable, the database answers: %s", error)
        return None
    return [int(hit["_id"]) for hit in hits]


def _ids_from_engine(name: str, body: dict) -> list[int] | None:
    try:
        hits = engine_get().search(search_alias(name), body)["hits"]["hits"]
    except EngineError as error:
        logger.warning("search engine unreachable, the database answers: %s", error)
        return None
    return [int(hit["_id"]) for hit in hits]


def catalog_ids_matching(category_id: int | None, text: str, status: str) -> list[int] | None:
    """The catalog search's text matcher: ids of the catalogs whose title, offer titles, brands or shops hold
    every word (each word in one field or another), from the engine; None (the database answers) when there
    is no engine or it cannot be reached."""
    if not search_ready("catalogs"):
        return None
    fields = ["title^3", "title.en^2", "title.ko^2", "offer_titles", "offer_titles.en", "offer_titles.ko"]
    fields += ["brands^2", "brands.en", "brands.ko", "shops", "shops.ko"]
    query = {"multi_match": {"query": text, "type": "cross_fields", "operator": "and", "fields": fields}}
    filters = [{"term": {"category": category_id}}] if category_id else []
    if status:
        filters.append({"term": {"status": status}})
    body = {"size": MAX_IDS, "_source": False, "query": {"bool": {"must": [query], "filter": filters}}}
    return _ids_from_engine("catalogs", body)


def _marked(fragments: list[str]) -> SafeString:
    text = " … ".join(fragments)
    return mark_safe(escape(text).replace(_MARK_OPEN, "<mark>").replace(_MARK_CLOSE, "</mark>"))  # noqa: S308


@dataclass
class SearchPage:
    hits: list[dict] = field(default_factory=list)
    total: int = 0
    total_is_estimate: bool = False
    page: int = 1
    per_page: int = 20
    engine: bool = True


def examples_search_engine(
    *,
    dataset_id: int,
    text: str = "",
    category: Category | None = None,
    status: str = "",
    page: int = 1,
    per_page: int = 20,
) -> SearchPage:
    """One page of a dataset's examples matching the text (title, body, external id) and filters: ids and
    highlights from the engine, rows from the database, in the engine's order."""
    query = {"bool": {"filter": _filters(dataset_id, category, status)}}
    if text:
        query["bool"]["must"] = [_text_query(text)]
    body = {
        "from": (page - 1) * per_page,
        "size": per_page,
        "_source": False,
        "query": query,
        "track_total_hits": MAX_IDS,
        "sort": ["_score", {"id": "desc"}] if text else [{"modified_at": "desc"}, {"id": "desc"}],
        "highlight": {
            "pre_tags": [_MARK_OPEN],
            "post_tags": [_MARK_CLOSE],
            "encoder": "default",
            "fields": {
                "title": {"number_of_fragments": 0},
                "body": {"fragment_size": 160, "number_of_fragments": 1},
            },
        },
    }
    response = engine_get().search(search_alias("contents"), body)
    hits = response["hits"]["hits"]
    total = response["hits"]["total"]
    ids = [int(hit["_id"]) for hit in hits]
    rows = Example.objects.filter(dataset_id=dataset_id, content_id__in=ids).exclude(
        status=Example.Status.REMOVED
    )
    if category:
        rows = rows.filter(category_id__in=[category.id, *category.children.values_list("id", flat=True)])
    if status:
        rows = rows.filter(status=status)
    by_content = {row.content_id: row for row in rows.select_related("content", "category__parent")}
    found = []
    for hit in hits:
        example = by_content.get(int(hit["_id"]))
        if example is None:  # the index lags: the row moved out of the filters or is gone
            continue
        highlight = hit.get("highlight", {})
        found.append(
            {
                "example": example,
                "title": _marked(highlight["title"])
                if "title" in highlight
                else escape(example.content.title),
                "excerpt": _marked(highlight.get("body", [])),
            }
        )
    return SearchPage(
        hits=found,
        total=total["value"],
        total_is_estimate=total["relation"] != "eq" or len(found) != len(hits),
        page=page,
        per_page=per_page,
    )
