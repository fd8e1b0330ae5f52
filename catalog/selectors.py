"""Reads of the catalog pages and API: the review queue, a catalog with prices by shop, the figures."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Count, Min, Q

from catalog.models import Catalog, CatalogEdge, CatalogMembership, Offer
from labeling.models import Category


def review_queue():
    """Catalogs waiting for a person: the largest first, then the least certain."""
    return (
        Catalog.objects.filter(status=Catalog.Status.IN_REVIEW)
        .annotate(size=Count("memberships"))
        .filter(size__gt=0)
        .order_by("-size", "quality_score", "id")
    )


# (category id, text, status) -> ids of the catalogs whose words match, or None for "ask the database".
# The indexing app registers one that asks the search engine while SEARCH_URL is set (catalog never imports
# indexing, as labeling does not: the same hook as labeling.selectors.search.text_matcher_register).
CatalogMatcher = Callable[[int | None, str, str], list[int] | None]
_text_matchers: list[CatalogMatcher] = []


def text_matcher_register(matcher: CatalogMatcher) -> None:
    if matcher not in _text_matchers:
        _text_matchers.append(matcher)


def _engine_matches(category_id: int | None, q: str, status: str) -> list[int] | None:
    for matcher in _text_matchers:
        ids = matcher(category_id, q, status)
        if ids is not None:
            return ids
    return None


def catalog_search(*, category_id: int | None = None, q: str = "", status: str = ""):
    """Catalogs with offers, largest first, matching every word of `q`: through the search engine when one
    answers (the title, offer titles, brands, shops), else the title in the database. Category and status are
    applied to the rows again, so a catalog that left them is not shown while the index catches up (the words
    are the index's, at most its lag behind)."""
    rows = Catalog.objects.annotate(size=Count("memberships"), lowest=Min("memberships__offer__price"))
    if category_id:
        rows = rows.filter(category_id=category_id)
    if status:
        rows = rows.filter(status=status)
    engine_ids = _engine_matches(category_id, q.strip(), status) if q.strip() else None
    if engine_ids is not None:
        rows = rows.filter(id__in=engine_ids)
    else:
        for word in q.split()[:8]:
            rows = rows.filter(title__icontains=word)
    return rows.filter(size__gt=0).select_related("category__parent").order_by("-size", "id")


@dataclass
class CatalogView:
    catalog: Catalog
    offers: list[Offer]
    lowest: object
    edges: list[CatalogEdge]


def catalog_detail(catalog: Catalog) -> CatalogView:
    offers = list(
        Offer.objects.filter(membership__catalog=catalog)
        .select_related("shop", "membership")
        .order_by("price", "shop__name")
    )
    prices = [offer.price for offer in offers if offer.price is not None]
    edges = list(
        catalog.edges.select_related("offer_a__shop", "offer_b__shop").order_by("cut", "-similarity")[:60]
    )
    return CatalogView(catalog, offers, min(prices) if prices else None, edges)


@dataclass
class CategoryFigures:
    category: Category | None
    offers: int
    catalogs: int
    published: int
    in_review: int
    covered: int  # offers in a published catalog
    manual: int  # memberships made by a person

    @property
    def coverage(self) -> float:
        return self.covered / self.offers if self.offers else 0.0


def category_figures() -> list[CategoryFigures]:
    offers = dict(
        Offer.objects.values_list("category_id").annotate(n=Count("id")).values_list("category_id", "n")
    )
    catalogs = {
        row["category_id"]: row
        for row in Catalog.objects.values("category_id").annotate(
            total=Count("id", filter=Q(memberships__isnull=False), distinct=True),
            published=Count("id", filter=Q(status=Catalog.Status.PUBLISHED), distinct=True),
            in_review=Count("id", filter=Q(status=Catalog.Status.IN_REVIEW), distinct=True),
        )
    }
    memberships = CatalogMembership.objects.values("offer__category_id").annotate(
        covered=Count("id", filter=Q(catalog__status=Catalog.Status.PUBLISHED)),
        manual=Count("id", filter=Q(source=CatalogMembership.Source.MANUAL)),
    )
    covered = {row["offer__category_id"]: row for row in memberships}
    names = Category.objects.in_bulk([c for c in offers if c])
    rows = []
    for category_id, count in sorted(offers.items(), key=lambda item: -item[1]):
        stats, members = catalogs.get(category_id, {}), covered.get(category_id, {})
        rows.append(
            CategoryFigures(
                category=names.get(category_id),
                offers=count,
                catalogs=stats.get("total", 0),
                published=stats.get("published", 0),
                in_review=stats.get("in_review", 0),
                covered=members.get("covered", 0),
                manual=members.get("manual", 0),
            )
        )
    return rows


def quality_scores() -> list[float]:
    return list(
        Catalog.objects.filter(memberships__isnull=False).distinct().values_list("quality_score", flat=True)
    )


AUTOMATIC = CatalogMembership.Source.AUTOMATIC
REVIEWER = "reviewer:"  # the reason prefix of every reviewer's history row (catalog/services/review.py)


@dataclass
class ReviewedPrecision:
    """Precision of the automatic grouping on the catalogs reviewers gave a verdict, for one category."""

    category: Category | None
    catalogs: int = 0  # reviewed catalogs
    pairs: int = 0  # pairs of offers the build had put together in them when a reviewer first acted
    kept: int = 0  # of those, pairs still together, in a catalog that is not rejected

    @property
    def precision(self) -> float | None:
        return self.kept / self.pairs if self.pairs else None


def reviewed_precision() -> tuple[list[ReviewedPrecision], ReviewedPrecision]:
    """Per category and overall: of the offer pairs the build had put in one catalog when a reviewer first
    acted on it, the share the reviewers kept together (split off, moved out or rejected: wrong).

    Reviewed = the catalog has a verdict (approved, rejected, split, merged into another). Read from the
    history: the catalog's first reviewer row (its own, or a membership's) gives the moment; the memberships
    just before it, made by the build, give the automatic pairs; today's memberships say what was kept."""
    reviewed = dict(Catalog.objects.filter(reviewed_by__isnull=False).values_list("id", "category_id"))
    first = _first_review(list(reviewed))
    automatic = _automatic_members(first)
    offers = [offer for members in automatic.values() for offer in members]
    now = dict(CatalogMembership.objects.filter(offer_id__in=offers).values_list("offer_id", "catalog_id"))
    rejected = set(
        Catalog.objects.filter(id__in=set(now.values()), status=Catalog.Status.REJECTED).values_list(
            "id", flat=True
        )
    )
    names = Category.objects.in_bulk([c for c in reviewed.values() if c])
    rows: dict[int | None, ReviewedPrecision] = {}
    total = ReviewedPrecision(None)
    for catalog_id, category_id in reviewed.items():
        row = rows.setdefault(category_id, ReviewedPrecision(names.get(category_id)))
        members = sorted(automatic.get(catalog_id, ()))
        pairs = [(a, b) for i, a in enumerate(members) for b in members[i + 1 :]]
        kept = sum(1 for a, b in pairs if a in now and now[a] == now.get(b) and now[a] not in rejected)
        for figures in (row, total):
            figures.catalogs += 1
            figures.pairs += len(pairs)
            figures.kept += kept
    ordered = sorted(rows.values(), key=lambda r: (-r.catalogs, r.category.path if r.category else ""))
    return ordered, total


def _first_review(catalog_ids: list[int]) -> dict[int, object]:
    """Catalog -> the moment of the first reviewer's history row on it or on one of its memberships."""
    first: dict[int, object] = {}
    for model in (Catalog, CatalogMembership):
        field = "id" if model is Catalog else "catalog_id"
        rows = (
            model.history.filter(**{f"{field}__in": catalog_ids}, history_change_reason__startswith=REVIEWER)
            .values(field)
            .annotate(at=Min("history_date"))
            .values_list(field, "at")
        )
        for catalog_id, at in rows:
            first[catalog_id] = min(first.get(catalog_id, at), at)
    return first


def _automatic_members(first: dict[int, object]) -> dict[int, set[int]]:
    """Catalog -> the offers the build ("auto") had placed in it just before its first review."""
    if not first:
        return {}
    seen = CatalogMembership.history.filter(catalog_id__in=list(first)).values("offer_id")
    rows = (
        CatalogMembership.history.filter(offer_id__in=seen, history_date__lt=max(first.values()))
        .order_by("history_date", "history_id")
        .values_list("offer_id", "catalog_id", "source", "history_type", "history_date")
    )
    by_offer: dict[int, list[tuple]] = {}
    for offer_id, *row in rows.iterator(chunk_size=5000):
        by_offer.setdefault(offer_id, []).append(tuple(row))
    members: dict[int, set[int]] = {}
    for offer_id, history in by_offer.items():
        for catalog_id in {row[0] for row in history} & first.keys():
            before = [
                row for row in history if row[3] < first[catalog_id]
            ]  # the offer's state at that moment
            if (
                before and before[-1][:2] == (catalog_id, AUTOMATIC) and before[-1][2] != "-"
            ):  # not a deletion
                members.setdefault(catalog_id, set()).add(offer_id)
    return members
