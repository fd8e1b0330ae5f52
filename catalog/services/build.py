"""Build one category's catalogs: group its offers, match the groups to existing catalogs, write the result.

Catalog ids stay stable across runs: a new group takes over the existing catalog it shares most offers with
(each catalog at most once); only groups with no such catalog create new ones. A catalog a person approved
or rejected keeps that status; a title a person edited is kept.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.db import transaction

from catalog.grouping.build import Grouping, GroupingParams, offers_group
from catalog.models import Catalog, CatalogEdge, CatalogMembership, CategoryRules, Offer, PairDecision
from core.history import history_insert_select
from core.inserts import insert_with_history

MAX_EDGES_PER_CATALOG = 60


@dataclass
class CategoryBuild:
    category_id: int
    offers: int
    groups: int
    published: int
    in_review: int
    new_catalogs: int
    kept_catalogs: int

    def as_dict(self) -> dict:
        return self.__dict__.copy()


def category_params(category_id: int) -> tuple[GroupingParams, float]:
    """The grouping parameters and the publish threshold of a category (defaults when none are saved)."""
    rules = CategoryRules.objects.filter(category_id=category_id).first() or CategoryRules()
    params = GroupingParams.from_dict(
        {"threshold": rules.threshold, "k": rules.k, "community": rules.community, "rules": rules.rules,
         "weights": {"image": rules.image_weight}}
    )  # fmt: skip
    return params, rules.publish_threshold


def offers_frame(category_id: int) -> pd.DataFrame:
    rows = Offer.objects.filter(category_id=category_id).order_by("id")
    columns = ["id", "shop_id", "title", "price", "brand", "image_vector"]
    frame = pd.DataFrame.from_records(rows.values_list(*columns), columns=columns)
    frame = frame.rename(columns={"id": "offer_id", "shop_id": "shop"})
    frame["price"] = pd.to_numeric(frame["price"], errors="coerce").astype(float)
    return frame


def decisions_for(offer_ids: list[int]) -> tuple[list, list]:
    """Reviewers' join and split pairs among these offers."""
    rows = PairDecision.objects.filter(offer_a__in=offer_ids, offer_b__in=offer_ids)
    joined, split = [], []
    for a, b, kind in rows.values_list("offer_a_id", "offer_b_id", "kind"):
        (joined if kind == PairDecision.Kind.JOIN else split).append((a, b))
    return joined, split


def match_groups(groups: dict[int, list[int]], current: dict[int, int]) -> dict[int, int | None]:
    """Each group's existing catalog by overlap (largest overlaps first, each catalog once), else None."""
    overlaps = []
    for label, members in groups.items():
        for catalog_id, shared in Counter(current[m] for m in members if m in current).items():
            overlaps.append((shared, -catalog_id, label, catalog_id))
    taken: dict[int, int | None] = {}
    used = set()
    for _, _, label, catalog_id in sorted(overlaps, reverse=True):
        if label not in taken and catalog_id not in used:
            taken[label] = catalog_id
            used.add(catalog_id)
    return {label: taken.get(label) for label in groups}


@transaction.atomic
def category_build(*, category_id: int, user) -> CategoryBuild:
    """Regroup every offer of one category and write catalogs, memberships and edges (all or nothing)."""
    frame = offers_frame(category_id)
    params, publish = category_params(category_id)
    ids = frame["offer_id"].tolist()
    joined, split = decisions_for(ids)
    grouping = offers_group(frame, params, joined=joined, split=split)
    return _write(category_id, frame, grouping, publish, user=user)


def _write(category_id, frame, grouping: Grouping, publish: float, *, user) -> CategoryBuild:
    offer_ids = frame["offer_id"].to_numpy()
    groups_rows = grouping.groups.set_index("label")
    members = {
        int(label): offer_ids[grouping.labels == label].tolist() for label in groups_rows.index.to_numpy()
    }
    existing = CatalogMembership.objects.filter(catalog__category_id=category_id)
    current = dict(existing.values_list("offer_id", "catalog_id"))
    matched = match_groups(members, current)
    catalogs = Catalog.objects.in_bulk([c for c in matched.values() if c])
    new_rows, changed = [], []
    for label, catalog_id in matched.items():
        row = groups_rows.loc[label]
        figures = {
            "size": int(row["size"]),
            "edge_proportion": float(row["edge_proportion"]),
            "mean_similarity": float(row["mean_similarity"]),
            "conductance": float(row["conductance"]),
        }
        status = Catalog.Status.PUBLISHED if row["quality"] >= publish else Catalog.Status.IN_REVIEW
        if catalog_id is None:
            new_rows.append(
                {"title": row["title"], "category_id": category_id, "status": status,
                 "quality_score": float(row["quality"]), "attributes": figures, "label": label}
            )  # fmt: skip
            continue
        catalog = catalogs[catalog_id]
        catalog.quality_score, catalog.attributes = float(row["quality"]), figures
        if not catalog.title_edited:
            catalog.title = row["title"]
        if catalog.reviewed_by_id is None:
            catalog.status = status
        changed.append(catalog)
    labels_new = [row.pop("label") for row in new_rows]
    for row in new_rows:
        row.update(title_edited=False, attributes=row["attributes"])
    new_ids = insert_with_history(Catalog, new_rows, user=user, reason="catalog build") if new_rows else []
    matched.update(dict(zip(labels_new, new_ids, strict=True)))
    if changed:
        Catalog.objects.bulk_update(
            changed, ["title", "status", "quality_score", "attributes"], batch_size=2000
        )
        history_insert_select(Catalog, [c.id for c in changed], user=user, reason="catalog build")
    single = _reviewed_singles(members, matched, current)
    _retire(category_id, set(matched.values()) | set(single.values()), user=user)
    _memberships(members, matched, current, grouping, frame, single, user=user)
    _edges(frame, grouping, matched)
    statuses = Counter(Catalog.objects.filter(id__in=list(matched.values())).values_list("status", flat=True))
    return CategoryBuild(
        category_id=category_id,
        offers=len(frame),
        groups=len(members),
        published=statuses.get(Catalog.Status.PUBLISHED, 0),
        in_review=statuses.get(Catalog.Status.IN_REVIEW, 0),
        new_catalogs=len(new_ids),
        kept_catalogs=len(changed),
    )


def _retire(category_id: int, alive: set[int], *, user) -> None:
    """Catalogs of the category that no group took over lose their offers and become drafts."""
    gone = list(
        Catalog.objects.filter(category_id=category_id)
        .exclude(id__in=alive)
        .exclude(status=Catalog.Status.DRAFT)
        .values_list("id", flat=True)
    )
    if gone:
        Catalog.objects.filter(id__in=gone).update(status=Catalog.Status.DRAFT, quality_score=0.0)
        history_insert_select(Catalog, gone, user=user, reason="catalog build: no group left")


def _reviewed_singles(members, matched, current) -> dict[int, int]:
    """Offers left alone in a catalog a person reviewed (e.g. after a split) stay in it."""
    grouped = {offer for offers in members.values() for offer in offers}
    taken = set(matched.values())
    reviewed = set(
        Catalog.objects.filter(id__in=set(current.values()) - taken, reviewed_by__isnull=False)
        .exclude(status=Catalog.Status.REJECTED)
        .values_list("id", flat=True)
    )
    single: dict[int, int] = {}
    for offer, catalog in sorted(current.items()):
        if offer not in grouped and catalog in reviewed and catalog not in single.values():
            single[offer] = catalog
    return single


def _memberships(members, matched, current, grouping: Grouping, frame, single, *, user) -> None:
    wanted = {offer: matched[label] for label, offers in members.items() for offer in offers} | single
    strength = _strength(frame, grouping)
    stale = [offer for offer, catalog in current.items() if wanted.get(offer) != catalog]
    for membership in CatalogMembership.objects.filter(offer_id__in=stale):
        membership._change_reason = "catalog build"
        membership.delete()
    # offers of this category sitting in another category's catalog move here
    outside = list(
        CatalogMembership.objects.filter(offer_id__in=list(wanted)).exclude(offer_id__in=list(current))
    )
    for membership in outside:
        membership.delete()
    rows = [
        {"catalog_id": catalog, "offer_id": offer, "score": strength.get(offer, 0.0), "source": "auto"}
        for offer, catalog in wanted.items()
        if current.get(offer) != catalog
    ]
    insert_with_history(CatalogMembership, rows, user=user, reason="catalog build")


def _strength(frame, grouping: Grouping) -> dict[int, float]:
    matched = grouping.edges[grouping.edges["matched"]]
    offer_ids = frame["offer_id"].to_numpy()
    best: dict[int, float] = {}
    for a, b, s in zip(matched["a"], matched["b"], matched["similarity"], strict=True):
        for node in (offer_ids[a], offer_ids[b]):
            best[int(node)] = max(best.get(int(node), 0.0), round(float(s), 4))
    return best


def _edges(frame, grouping: Grouping, matched: dict[int, int]) -> None:
    """Keep the edges that touch each catalog (the strongest first), for the catalog page."""
    catalog_ids = [c for c in matched.values() if c]
    CatalogEdge.objects.filter(catalog_id__in=catalog_ids).delete()
    offer_ids = frame["offer_id"].to_numpy()
    catalog_of_row = np.full(len(frame), -1, dtype=np.int64)
    for label, catalog in matched.items():
        catalog_of_row[grouping.labels == label] = catalog
    edges = grouping.edges.sort_values("similarity", ascending=False)
    per_catalog: Counter = Counter()
    rows = []
    for a, b, s, char, words, model, cut, hit in edges[
        ["a", "b", "similarity", "char", "words", "model", "cut", "matched"]
    ].itertuples(index=False):
        for catalog in {catalog_of_row[a], catalog_of_row[b]} - {-1}:
            if per_catalog[catalog] >= MAX_EDGES_PER_CATALOG:
                continue
            per_catalog[catalog] += 1
            rows.append(
                CatalogEdge(
                    catalog_id=int(catalog), offer_a_id=int(offer_ids[a]), offer_b_id=int(offer_ids[b]),
                    similarity=round(float(s), 4), cut=cut, matched=bool(hit),
                    parts={"char": round(float(char), 3), "words": round(float(words), 3),
                           "model": bool(model)},
                )
            )  # fmt: skip
    CatalogEdge.objects.bulk_create(rows, batch_size=5000)  # not history-tracked: derived, rewritten each run
