"""The catalogs index: a catalog (title, category, status, quality score) with what its offers say about it:
their titles, brands and shops, the lowest price and how many there are.

A catalog is a document while it has offers: an empty one (the source of a merge, one a build retired) has
nothing to find and leaves the index. A rejected catalog keeps its document with status "rejected": the
managers' list can still find it, the public API leaves it out (docs/indexing.md).
"""

from collections import Counter
from datetime import datetime

from django.db.models import Count, Exists, Max, OuterRef
from django.db.models.functions import Greatest

from catalog.models import Catalog, CatalogMembership, Offer
from indexing.documents import TEXT, IndexDefinition

OFFER_TITLES = 200  # offer titles a document keeps (the largest catalogs have more; the database has all)

CATALOGS_MAPPING = {
    "dynamic": "strict",
    "properties": {
        "id": {"type": "long"},
        "title": TEXT,
        "category": {"type": "long"},
        "status": {"type": "keyword"},
        "quality_score": {"type": "float"},
        "offer_titles": TEXT,
        "brands": {**TEXT, "fields": {**TEXT["fields"], "raw": {"type": "keyword"}}},
        "shops": {**TEXT, "fields": {**TEXT["fields"], "raw": {"type": "keyword"}}},
        "lowest_price": {"type": "scaled_float", "scaling_factor": 100},
        "offer_count": {"type": "integer"},
        "modified_at": {"type": "date"},
    },
}


def _with_offers():
    return Catalog.objects.filter(Exists(CatalogMembership.objects.filter(catalog=OuterRef("pk"))))


def catalogs_documents(ids: list[int]) -> dict[int, dict]:
    catalogs = list(
        Catalog.objects.filter(id__in=ids)
        .order_by()
        .values_list("id", "title", "category_id", "status", "quality_score", "updated_at")
    )
    offers = (
        Offer.objects.filter(membership__catalog_id__in=[row[0] for row in catalogs])
        .order_by("membership__catalog_id", "id")
        .values_list("membership__catalog_id", "title", "brand", "shop__name", "price", "modified_at")
    )
    members: dict[int, list[tuple]] = {}
    for catalog_id, *offer in offers:
        members.setdefault(catalog_id, []).append(offer)
    documents = {}
    for pk, title, category_id, status, quality, updated_at in catalogs:
        rows = members.get(pk)
        if not rows:
            continue  # no offers: not a document (deleted from the index)
        prices = [price for _, _, _, price, _ in rows if price is not None]
        documents[pk] = {
            "id": pk,
            "title": title,
            "category": category_id,
            "status": status,
            "quality_score": quality,
            "offer_titles": [row[0] for row in rows[:OFFER_TITLES]],
            "brands": sorted({row[1] for row in rows if row[1]}),
            "shops": sorted({row[2] for row in rows}),
            "lowest_price": float(min(prices)) if prices else None,
            "offer_count": len(rows),
            # the catalog's own change or its newest offer's, whichever is later
            "modified_at": max([updated_at, *(row[4] for row in rows)]).isoformat(),
        }
    return documents


def catalogs_recent(since: datetime) -> list[int]:
    newest_offer = (
        Offer.objects.filter(membership__catalog=OuterRef("pk")).order_by().values("membership__catalog")
    )
    recent = (
        _with_offers()
        .annotate(offers_at=newest_offer.annotate(at=Max("modified_at")).values("at"))
        .annotate(at=Greatest("updated_at", "offers_at"))
        .filter(at__gte=since)
        .order_by("-at")
    )
    return list(recent.values_list("id", flat=True)[:50000])


def catalogs_changed(since: datetime, until: datetime) -> set[int]:
    """Catalogs whose document may have changed in [since, until): the catalog row (its history: the build
    updates catalogs set-based, without touching updated_at), its memberships (their history rows) and the
    offers in it (modified_at)."""
    period = {"history_date__gte": since, "history_date__lt": until}
    ids = set(Catalog.history.filter(**period).values_list("id", flat=True))
    ids |= set(CatalogMembership.history.filter(**period).values_list("catalog_id", flat=True))
    offers = Offer.objects.filter(modified_at__gte=since, modified_at__lt=until)
    ids |= set(
        CatalogMembership.objects.filter(offer__in=offers.values("id")).values_list("catalog_id", flat=True)
    )
    return ids


def catalogs_group_counts() -> Counter:
    """Catalogs with offers per category."""
    rows = (
        _with_offers()
        .filter(category__isnull=False)
        .values_list("category_id")
        .annotate(n=Count("id"))
        .values_list("category_id", "n")
        .order_by()
    )
    return Counter(dict(rows))


def catalogs_group_ids(category_id) -> list[int]:
    return list(Catalog.objects.filter(category_id=category_id).values_list("id", flat=True))


CATALOGS = IndexDefinition(
    name="catalogs",
    mapping=CATALOGS_MAPPING,
    model=Catalog,
    documents=catalogs_documents,
    rows=_with_offers,
    recent=catalogs_recent,
    changed=catalogs_changed,
    group_field="category",
    group_include=None,
    group_counts=catalogs_group_counts,
    group_ids=catalogs_group_ids,
    korean_fields=("title", "offer_titles", "brands", "shops"),
)
