"""Build one category's catalogs: group its offers, match the groups to existing catalogs, write the result.

Catalog ids stay stable across runs: a new group takes over the existing catalog it shares most offers with
(each catalog at most once); only groups with no such catalog create new ones. A catalog a person approved
or rejected keeps that status; a title a person edited is kept.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.db import connection, transaction

from catalog.grouping.build import Grouping, GroupingParams, offers_group, values_by_label
from catalog.grouping.graph import rank_in_group
from catalog.models import Catalog, CatalogEdge, CatalogMembership, CategoryRules, Offer, PairDecision
from core.history import delete_with_history, history_insert_select, ids_condition, update_with_history
from core.inserts import copy_lines, copy_text, insert_with_history

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
    grouping_seconds: float = 0.0  # the pure pipeline
    write_seconds: float = 0.0  # matching to existing catalogs and the database writes

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


def decisions_for(category_id: int) -> tuple[list, list]:
    """Reviewers' join and split pairs among the category's offers (a join: no list of every offer id)."""
    rows = PairDecision.objects.filter(offer_a__category_id=category_id, offer_b__category_id=category_id)
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
    joined, split = decisions_for(category_id)
    started = time.perf_counter()
    grouping = offers_group(frame, params, joined=joined, split=split)
    grouped = time.perf_counter()
    built = _write(category_id, frame, grouping, publish, user=user)
    built.grouping_seconds = round(grouped - started, 2)
    built.write_seconds = round(time.perf_counter() - grouped, 2)
    return built


def _members(offer_ids: np.ndarray, labels: np.ndarray, wanted) -> dict[int, list[int]]:
    """The offer ids of each label in `wanted` (in row order), in one sort rather than a scan per label."""
    by_label = values_by_label(labels, offer_ids)
    none = np.zeros(0, offer_ids.dtype)
    return {int(label): by_label.get(int(label), none).tolist() for label in wanted}


def _write(category_id, frame, grouping: Grouping, publish: float, *, user) -> CategoryBuild:
    offer_ids = frame["offer_id"].to_numpy()
    groups_rows = {int(row.label): row for row in grouping.groups.itertuples(index=False)}
    members = _members(offer_ids, grouping.labels, groups_rows)
    existing = CatalogMembership.objects.filter(catalog__category_id=category_id)
    memberships = list(existing.values_list("id", "offer_id", "catalog_id"))
    current = {offer: catalog for _, offer, catalog in memberships}
    matched = match_groups(members, current)
    catalogs = _kept_catalogs([c for c in matched.values() if c])
    new_rows, changed = [], []
    for label, catalog_id in matched.items():
        row = groups_rows[label]
        figures = {
            "size": int(row.size),
            "edge_proportion": float(row.edge_proportion),
            "mean_similarity": float(row.mean_similarity),
            "min_similarity": float(row.min_similarity),
            "conductance": float(row.conductance),
        }
        status = Catalog.Status.PUBLISHED if row.quality >= publish else Catalog.Status.IN_REVIEW
        if catalog_id is None:
            new_rows.append(
                {"title": row.title, "title_edited": False, "category_id": category_id, "status": status,
                 "quality_score": float(row.quality), "attributes": figures, "label": label}
            )  # fmt: skip
            continue
        title, title_edited, old_status, reviewed_by_id = catalogs[catalog_id]
        title = title if title_edited else row.title
        status = old_status if reviewed_by_id is not None else status
        changed.append((catalog_id, title, status, float(row.quality), figures))
    labels_new = [row.pop("label") for row in new_rows]
    new_ids = insert_with_history(Catalog, new_rows, user=user, reason="catalog build") if new_rows else []
    matched.update(dict(zip(labels_new, new_ids, strict=True)))
    update_with_history(Catalog, KEPT_FIELDS, changed, user=user, reason="catalog build")
    single = _reviewed_singles(members, matched, current)
    _retire(category_id, set(matched.values()) | set(single.values()), user=user)
    _memberships(category_id, members, matched, memberships, grouping, frame, single, user=user)
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


KEPT_FIELDS = ("title", "status", "quality_score", "attributes")  # of a catalog a group takes over


def _kept_catalogs(ids: list[int]) -> dict[int, tuple]:
    """id -> (title, title_edited, status, reviewed_by_id) of the catalogs groups take over: plain values,
    written back set-based (`update_with_history`), no model instances."""
    if not ids:
        return {}
    where, params = ids_condition(ids)  # one array, not an IN list of every id
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, title, title_edited, status, reviewed_by_id FROM {Catalog._meta.db_table} "
            f"WHERE {where}",
            params,
        )
        return {pk: tuple(rest) for pk, *rest in cursor.fetchall()}


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


def _memberships(category_id, members, matched, memberships, grouping: Grouping, frame, single, *, user):
    """Set-based: memberships that change are deleted (with their '-' history rows) and inserted anew."""
    current = {offer: catalog for _, offer, catalog in memberships}
    wanted = {offer: matched[label] for label, offers in members.items() for offer in offers} | single
    strength = _strength(frame, grouping)
    stale = [pk for pk, offer, catalog in memberships if wanted.get(offer) != catalog]
    # offers of this category sitting in another category's catalog move here
    outside = CatalogMembership.objects.filter(offer__category_id=category_id).exclude(
        catalog__category_id=category_id
    )
    stale += [pk for pk, offer in outside.values_list("id", "offer_id") if offer in wanted]
    if stale:
        delete_with_history(CatalogMembership, stale, user=user, reason="catalog build")
    rows = [
        {"catalog_id": catalog, "offer_id": offer, "score": strength.get(offer, 0.0), "source": "auto"}
        for offer, catalog in wanted.items()
        if current.get(offer) != catalog
    ]
    insert_with_history(CatalogMembership, rows, user=user, reason="catalog build")


def _strength(frame, grouping: Grouping) -> dict[int, float]:
    """Each offer's strongest matched edge (its membership score)."""
    matched = grouping.edges[grouping.edges["matched"]]
    offer_ids = frame["offer_id"].to_numpy()
    ends = np.concatenate([matched["a"].to_numpy(), matched["b"].to_numpy()]).astype(np.int64)
    similarity = np.tile(matched["similarity"].to_numpy(np.float64), 2)
    best = pd.Series(similarity).groupby(offer_ids[ends]).max()
    return {int(offer): round(float(s), 4) for offer, s in best.items()}


EDGE_COLUMNS = ["catalog_id", "offer_a_id", "offer_b_id", "similarity", "parts", "cut", "matched"]


def _edges(frame, grouping: Grouping, matched: dict[int, int]) -> None:
    """Keep the edges that touch each catalog (the strongest first), for the catalog page.

    Not history-tracked (derived, rewritten each run): deleted and copied set-based."""
    catalog_ids = [c for c in matched.values() if c]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {CatalogEdge._meta.db_table} WHERE catalog_id = ANY(%s)", [catalog_ids]
            )
    else:
        CatalogEdge.objects.filter(catalog_id__in=catalog_ids).delete()
    offer_ids = frame["offer_id"].to_numpy()
    catalog_of_row = pd.Series(grouping.labels).map(pd.Series(matched)).fillna(-1).to_numpy(np.int64)
    # strongest first (the order sort_values gives the frame), without moving the whole frame
    order = grouping.edges["similarity"].reset_index(drop=True).sort_values(ascending=False).index.to_numpy()
    ends = _edge_catalogs(
        catalog_of_row[grouping.edges["a"].to_numpy(np.int64)[order]],
        catalog_of_row[grouping.edges["b"].to_numpy(np.int64)[order]],
    )
    chosen = grouping.edges.iloc[order[ends["position"].to_numpy()]]
    ends_ids = [offer_ids[chosen[end].to_numpy(np.int64)].tolist() for end in ("a", "b")]
    values = [chosen[name].tolist() for name in ("similarity", "char", "words", "model", "cut", "matched")]
    rows = zip(ends["catalog"].tolist(), *ends_ids, *values, strict=True)
    if connection.vendor == "postgresql":
        cuts = {cut: copy_text(cut) for cut in chosen["cut"].unique().tolist()}
        # parts as json.dumps writes {"char": ..., "words": ..., "model": ...}, formatted here in one go
        lines = (
            f"{catalog}\t{a}\t{b}\t{round(s, 4)!r}\t"
            f'{{"char": {round(char, 3)!r}, "words": {round(words, 3)!r}, '
            f'"model": {"true" if model else "false"}}}\t{cuts[cut]}\t{"t" if hit else "f"}\n'
            for catalog, a, b, s, char, words, model, cut, hit in rows
        )
        copy_lines(CatalogEdge._meta.db_table, EDGE_COLUMNS, lines)
        return
    CatalogEdge.objects.bulk_create(
        CatalogEdge(
            catalog_id=catalog, offer_a_id=a, offer_b_id=b, similarity=round(s, 4), cut=cut, matched=hit,
            parts={"char": round(char, 3), "words": round(words, 3), "model": bool(model)},
        )
        for catalog, a, b, s, char, words, model, cut, hit in rows
    )  # fmt: skip


def _edge_catalogs(catalog_a: np.ndarray, catalog_b: np.ndarray) -> pd.DataFrame:
    """(position, catalog) of the edges kept: in edge order, each catalog's first MAX_EDGES_PER_CATALOG
    edges touching it (an edge touches the catalogs of its two ends, once when they share one; -1: none)."""
    position = np.repeat(np.arange(len(catalog_a)), 2)
    catalog = np.stack([catalog_a, np.where(catalog_b == catalog_a, -1, catalog_b)], axis=1).ravel()
    touching = catalog >= 0
    position, catalog = position[touching], catalog[touching]
    kept = rank_in_group(catalog) < MAX_EDGES_PER_CATALOG
    return pd.DataFrame({"position": position[kept], "catalog": catalog[kept]})
