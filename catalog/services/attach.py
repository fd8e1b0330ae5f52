"""Incremental runs: new and changed offers join existing catalogs without a rebuild of the category.

A new offer (in no catalog) joins the catalog of its most similar member whose edge no rule cuts, when that
catalog has no offer of the new offer's shop yet and no reviewer split them. Word vectors are skipped here
(character n-grams and model numbers only), so an attach costs seconds, not a rebuild.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from django.db import transaction

from catalog.grouping.features import features_build
from catalog.grouping.graph import candidate_pairs, rule_cuts
from catalog.models import CatalogMembership, Offer
from catalog.services.build import category_params, decisions_for, offers_frame
from core.inserts import insert_with_history


@dataclass
class CategoryAttach:
    category_id: int
    offers: int
    new_offers: int
    attached: int

    def as_dict(self) -> dict:
        return self.__dict__.copy()


@transaction.atomic
def category_attach(*, category_id: int, user) -> CategoryAttach:
    frame = offers_frame(category_id)
    catalog_of = dict(
        CatalogMembership.objects.filter(offer__category_id=category_id).values_list("offer_id", "catalog_id")
    )
    offer_ids = frame["offer_id"].to_numpy()
    in_catalog = np.asarray([offer in catalog_of for offer in offer_ids], bool)
    new = int((~in_catalog).sum())
    if new == 0 or in_catalog.sum() == 0:
        return CategoryAttach(category_id, len(frame), new, 0)
    params, _ = category_params(category_id)
    params.graph.weights = {**params.graph.weights, "words": 0.0}
    features = features_build(frame, word_vectors=False)
    edges = candidate_pairs(features, params.graph)
    shops = frame["shop"].astype(str).to_numpy()
    prices = frame["price"].fillna(0).to_numpy()
    edges["cut"] = rule_cuts(edges, features, shops, prices, params.graph.rules) if len(edges) else []
    edges = edges[edges["cut"] == ""]
    crossing = in_catalog[edges["a"].to_numpy()] != in_catalog[edges["b"].to_numpy()]
    edges = edges[crossing].sort_values("similarity", ascending=False)
    _, split = decisions_for(offer_ids.tolist())
    split = set(split)
    shops_in: dict[int, set] = {catalog: set() for catalog in catalog_of.values()}
    position_shop = dict(zip(offer_ids.tolist(), shops.tolist(), strict=True))
    for offer, catalog in catalog_of.items():
        shops_in[catalog].add(position_shop.get(offer))
    members = {}
    for offer, catalog in catalog_of.items():
        members.setdefault(catalog, []).append(offer)
    rows, placed = [], set()
    for a, b, similarity in edges[["a", "b", "similarity"]].itertuples(index=False):
        new_row, old_row = (a, b) if not in_catalog[a] else (b, a)
        offer, member = int(offer_ids[new_row]), int(offer_ids[old_row])
        catalog = catalog_of[member]
        if offer in placed or shops[new_row] in shops_in[catalog]:
            continue
        if any(tuple(sorted((offer, other))) in split for other in members[catalog]):
            continue
        placed.add(offer)
        shops_in[catalog].add(shops[new_row])
        rows.append(
            {"catalog_id": catalog, "offer_id": offer, "score": round(float(similarity), 4), "source": "auto"}
        )
    insert_with_history(CatalogMembership, rows, user=user, reason="catalog attach")
    return CategoryAttach(category_id, len(frame), new, len(rows))


def new_offer_count(category_id: int) -> int:
    return Offer.objects.filter(category_id=category_id, membership__isnull=True).count()
