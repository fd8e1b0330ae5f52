"""Incremental runs: new and changed offers join existing catalogs without a rebuild of the category.

A new offer (in no catalog) joins the catalog of its most similar member whose edge no rule cuts, when that
catalog has no offer of the new offer's shop yet and no reviewer split them. The cost follows the new offers,
not the category: each new offer's closest catalogued offers are found by character 3-gram TF-IDF on the raw
titles (one sparse product), and only the new offers and those candidates go through normalisation and the
build's exact similarity (character n-grams and model numbers; word vectors are skipped here) and rules.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from django.db import transaction
from sklearn.feature_extraction.text import TfidfVectorizer

from catalog.grouping.features import features_build
from catalog.grouping.graph import pair_similarity, rule_cuts
from catalog.models import CatalogMembership, Offer, PairDecision
from catalog.services.build import category_params, offers_frame
from core.inserts import insert_with_history

CANDIDATES = 10  # catalogued offers compared exactly with each new offer
NEW_CHUNK = 500  # new offers whose 3-gram similarities to the category are held at once


@dataclass
class CategoryAttach:
    category_id: int
    offers: int
    new_offers: int
    attached: int

    def as_dict(self) -> dict:
        return self.__dict__.copy()


def nearest_catalogued(titles: pd.Series, new_rows: np.ndarray, old_rows: np.ndarray, k: int) -> np.ndarray:
    """(new row, old row) pairs: each new offer's k most similar catalogued offers by raw-title 3-grams."""
    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 3), sublinear_tf=True, dtype=np.float32)
    try:
        matrix = vectorizer.fit_transform(titles.fillna("").astype(str)).tocsr()
    except ValueError:  # no n-gram at all
        return np.zeros((0, 2), np.int64)
    old = matrix[old_rows].T.tocsc()
    pairs = []
    for start in range(0, len(new_rows), NEW_CHUNK):  # the product's rows are dense-ish: bound its memory
        rows = new_rows[start : start + NEW_CHUNK]
        similarity = (matrix[rows] @ old).tocsr()
        for position, row in enumerate(rows):
            begin, end = similarity.indptr[position], similarity.indptr[position + 1]
            scores, columns = similarity.data[begin:end], similarity.indices[begin:end]
            if len(scores) > k:
                best = np.argpartition(-scores, k - 1)[:k]
                scores, columns = scores[best], columns[best]
            pairs += [(row, old_rows[column]) for column in columns]
    return np.asarray(pairs, dtype=np.int64).reshape(-1, 2)


def _splits(category_id: int) -> set[tuple[int, int]]:
    """Pairs a reviewer split among the category's offers."""
    rows = PairDecision.objects.filter(offer_a__category_id=category_id, kind=PairDecision.Kind.SPLIT)
    return set(rows.values_list("offer_a_id", "offer_b_id"))


@transaction.atomic
def category_attach(*, category_id: int, user) -> CategoryAttach:
    """Attach the category's offers that are in no catalog to existing catalogs (see the module's text)."""
    frame = offers_frame(category_id)
    catalog_of = dict(
        CatalogMembership.objects.filter(offer__category_id=category_id).values_list("offer_id", "catalog_id")
    )
    offer_ids = frame["offer_id"].to_numpy()
    in_catalog = np.fromiter((offer in catalog_of for offer in offer_ids.tolist()), bool, len(offer_ids))
    new = int((~in_catalog).sum())
    if new == 0 or in_catalog.sum() == 0:
        return CategoryAttach(category_id, len(frame), new, 0)
    params, _ = category_params(category_id)
    params.graph.weights = {**params.graph.weights, "words": 0.0}
    pairs = nearest_catalogued(
        frame["title"], np.flatnonzero(~in_catalog), np.flatnonzero(in_catalog), CANDIDATES
    )
    used = np.unique(pairs)  # rows of `frame` compared: the new offers and their candidates
    part = frame.iloc[used].reset_index(drop=True)
    features = features_build(part, word_vectors=False)
    local = np.searchsorted(used, pairs)
    left, right = local.min(axis=1), local.max(axis=1)
    edges = pair_similarity(features, left, right, params.graph.weights)
    edges = edges[edges["similarity"] >= params.graph.threshold].reset_index(drop=True)
    shops = part["shop"].astype(str).to_numpy()
    prices = part["price"].fillna(0).to_numpy()
    edges["cut"] = rule_cuts(edges, features, shops, prices, params.graph.rules) if len(edges) else []
    edges = edges[edges["cut"] == ""].sort_values("similarity", ascending=False)
    shop_of = dict(zip(offer_ids.tolist(), frame["shop"].astype(str).tolist(), strict=True))
    rows = _placements(edges, part["offer_id"].to_numpy(), shop_of, catalog_of, _splits(category_id))
    insert_with_history(CatalogMembership, rows, user=user, reason="catalog attach")
    return CategoryAttach(category_id, len(frame), new, len(rows))


def _placements(edges: pd.DataFrame, offer_ids, shop_of: dict, catalog_of: dict, split: set) -> list[dict]:
    """Strongest edges first: a new offer joins its partner's catalog unless that catalog already has an
    offer of its shop or a member a reviewer split from it."""
    shops_in: dict[int, set] = {}
    members: dict[int, list[int]] = {}
    for offer, catalog in catalog_of.items():
        members.setdefault(catalog, []).append(offer)
    rows, placed = [], set()
    for a, b, similarity in edges[["a", "b", "similarity"]].itertuples(index=False):
        offer, member = int(offer_ids[a]), int(offer_ids[b])
        if offer in catalog_of:
            offer, member = member, offer
        if offer in placed or member not in catalog_of:
            continue
        catalog = catalog_of[member]
        if catalog not in shops_in:
            shops_in[catalog] = {shop_of.get(m) for m in members[catalog]}
        if shop_of[offer] in shops_in[catalog]:
            continue
        if any(tuple(sorted((offer, other))) in split for other in members[catalog]):
            continue
        placed.add(offer)
        shops_in[catalog].add(shop_of[offer])
        rows.append(
            {"catalog_id": catalog, "offer_id": offer, "score": round(float(similarity), 4), "source": "auto"}
        )
    return rows


def new_offer_count(category_id: int) -> int:
    return Offer.objects.filter(category_id=category_id, membership__isnull=True).count()
