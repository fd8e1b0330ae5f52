"""Finding examples by text, category, status, labeller and date (server-side, paginated)."""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

from django.db import connection
from django.db.models import BooleanField, F, Func, Q, QuerySet

from labeling.models import (
    Category,
    Content,
    ContentWords,
    ContentWordsPending,
    Dataset,
    Example,
    category_path,
)

WORD = re.compile(r"\w+")


@dataclass
class ExampleFilter:
    text: str = ""
    in_body: bool = False
    category_id: int | None = None
    status: str = ""
    labeller_id: int | None = None
    since: date | None = None
    until: date | None = None


def _body_words_query(text: str) -> str:
    """The text as a tsquery: every word, each as a prefix ('spac' finds 'space' and 'spaces')."""
    return " & ".join(f"{word}:*" for word in WORD.findall(text.lower()))


def _contents_matching(text: str, in_body: bool) -> QuerySet:
    """Ids of the contents whose title contains the text (a trigram index on PostgreSQL), whose external id
    is the text, or, when asked, whose body holds its words."""
    by_title = Q(title__icontains=text) | Q(external_id=text)
    words = _body_words_query(text) if in_body else ""
    if not in_body or (connection.vendor == "postgresql" and not words):
        return Content.objects.filter(by_title).order_by().values("id")
    if connection.vendor != "postgresql":
        return Content.objects.filter(by_title | Q(body__icontains=text)).values("id")
    from django.contrib.postgres.search import SearchQuery  # PostgreSQL only: psycopg is not for SQLite

    # The words' GIN index, plus a scan of the few bodies the background job has not indexed yet.
    indexed = ContentWords.objects.filter(words=SearchQuery(words, config="simple", search_type="raw"))
    pending = Content.objects.filter(
        id__in=ContentWordsPending.objects.values("content_id"), body__icontains=text
    )
    return (
        Content.objects.filter(by_title)
        .order_by()
        .values("id")
        .union(indexed.order_by().values("content_id"), pending.order_by().values("id"))
    )


# What the search page shows of an example: not the content's body, nor the rest of the user.
SHOWN = (
    "status",
    "labeled_at",
    "content__title",
    "content__external_id",
    "category__name",
    "category__parent_id",
    "category__parent__name",
    "labeled_by__username",
)


class _EqualsAny(Func):
    """`value = ANY(array)`."""

    arg_joiner = " = ANY("
    template = "(%(expressions)s))"
    output_field = BooleanField()


def _content_among(contents: QuerySet) -> Q:
    """The example's content is one of `contents`. On PostgreSQL as `= ANY(ARRAY(...))`: the ids are
    found first (through the title's trigram index, the words' index) and the examples looked up by them;
    as `IN (subquery)` the planner may merge the two and walk every content row in id order instead."""
    if connection.vendor != "postgresql":
        return Q(content_id__in=contents)
    from django.contrib.postgres.expressions import ArraySubquery  # PostgreSQL only (psycopg)

    return Q(_EqualsAny(F("content_id"), ArraySubquery(contents)))


def _category_and_children(category_id: int) -> list[int]:
    """The category and its small categories, as ids: `category_id IN (...)` uses the examples' (dataset,
    category, status) index, where a join on the parent read every example of the dataset."""
    family = Category.objects.filter(Q(id=category_id) | Q(parent_id=category_id))
    return list(family.values_list("id", flat=True))


# A search engine may answer the text part of a search: a function (dataset id, text, in_body) -> the ids of
# the matching contents, or None to let the database answer. The indexing app registers one (a higher layer
# plugs into a lower one; labeling never imports indexing).
TextMatcher = Callable[[int, str, bool], list[int] | None]
_text_matchers: list[TextMatcher] = []


def text_matcher_register(matcher: TextMatcher) -> None:
    if matcher not in _text_matchers:
        _text_matchers.append(matcher)


def _engine_matches(dataset: Dataset, text: str, in_body: bool) -> list[int] | None:
    for matcher in _text_matchers:
        ids = matcher(dataset.id, text, in_body)
        if ids is not None:
            return ids
    return None


def examples_search(dataset: Dataset, wanted: ExampleFilter) -> QuerySet:
    """Examples matching every given filter, newest label first. Text matches the title (a trigram index
    serves it on PostgreSQL) or the exact external id, and when asked the body: there, on PostgreSQL, the
    words of the text as word prefixes (a full-text index), elsewhere the text itself (a scan)."""
    found = Example.objects.filter(dataset=dataset).exclude(status=Example.Status.REMOVED)
    engine_ids = _engine_matches(dataset, wanted.text, wanted.in_body) if wanted.text else None
    if engine_ids is not None:  # ids from the engine; every other filter (and the rows) from the database
        found = found.filter(content_id__in=engine_ids)
    elif wanted.text:
        found = found.filter(_content_among(_contents_matching(wanted.text, wanted.in_body)))
    if wanted.category_id:
        found = found.filter(category_id__in=_category_and_children(wanted.category_id))
    if wanted.status:
        found = found.filter(status=wanted.status)
    if wanted.labeller_id:
        found = found.filter(labeled_by_id=wanted.labeller_id)
    if wanted.since:
        found = found.filter(labeled_at__date__gte=wanted.since)
    if wanted.until:
        found = found.filter(labeled_at__date__lte=wanted.until)
    return (
        found.select_related("content", "category__parent", "labeled_by")
        .only(*SHOWN)
        .order_by("-labeled_at", "-id")
    )


class CategoryChoice(NamedTuple):
    id: int
    path: str
    parent_id: int | None


def category_choices(taxonomy_id: int) -> list[CategoryChoice]:
    """The active categories of a taxonomy as the search form lists them, by path: plain tuples, as the
    page lists 200 and more of them twice."""
    rows = Category.objects.filter(taxonomy_id=taxonomy_id, status=Category.Status.ACTIVE).values_list(
        "id", "name", "parent_id", "parent__name"
    )
    choices = [
        CategoryChoice(pk, category_path(name, parent), parent_id) for pk, name, parent_id, parent in rows
    ]
    return sorted(choices, key=lambda choice: choice.path)
