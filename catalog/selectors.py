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


def reviewed_precision() -> dict:
    """On catalogs a person reviewed: the share of their offers the person left where the build put them."""
    reviewed = Catalog.objects.filter(reviewed_by__isnull=False)
    approved = reviewed.filter(status=Catalog.Status.PUBLISHED).count()
    rejected = reviewed.filter(status=Catalog.Status.REJECTED).count()
    automatic = CatalogMembership.objects.filter(
        catalog__in=reviewed, source=CatalogMembership.Source.AUTOMATIC
    )
    manual = CatalogMembership.objects.filter(catalog__in=reviewed, source=CatalogMembership.Source.MANUAL)
    kept, moved = automatic.count(), manual.count()
    return {
        "reviewed": approved + rejected,
        "approved": approved,
        "rejected": rejected,
        "precision": round(kept / (kept + moved), 4) if kept + moved else None,
    }
