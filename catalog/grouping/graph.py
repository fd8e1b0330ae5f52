"""The similar-offer graph: kNN candidates, blended similarity, business rules, the cross-shop constraint.

Every candidate edge carries its similarity and, when a rule cut it, the rule's name, so the catalog page can
say why two offers were kept apart.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from catalog.grouping.features import Features, dense_for_search

FLAT_SEARCH_MAX = 30_000  # up to this many offers in a category the kNN search is exact
IVF_PROBES = 16  # inverted lists searched per offer above that (of 4 * sqrt(n))


@dataclass
class Rules:
    """The business rules of one category (each can be switched off on the rules page)."""

    one_offer_per_shop: bool = True  # each offer matched at most once per other shop; never two of one shop
    pack_size: bool = True  # different count / volume / weight / storage
    model_numbers: bool = True  # both carry rare model numbers and share none
    options: bool = True  # different colour / edition / platform
    price_ratio: float = 3.0  # 0 switches the rule off

    @classmethod
    def from_dict(cls, values: dict | None) -> Rules:
        known = cls.__dataclass_fields__
        return cls(**{key: value for key, value in (values or {}).items() if key in known})


@dataclass
class GraphParams:
    k: int = 100
    threshold: float = 0.45
    weights: dict[str, float] = field(
        default_factory=lambda: {"char": 0.75, "words": 0.1, "model": 0.15, "image": 0.0}
    )
    rules: Rules = field(default_factory=Rules)


def knn(vectors: np.ndarray, k: int, *, batch: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """Top-k inner-product neighbours of every row (itself excluded): (scores, indices), -1 where none."""
    logging.getLogger("faiss.loader").setLevel(logging.WARNING)  # it reports each CPU variant it tries
    import faiss

    n, dimensions = vectors.shape
    k = min(k, n - 1)
    if k <= 0:
        return np.zeros((n, 0), np.float32), np.zeros((n, 0), np.int64)
    if n <= FLAT_SEARCH_MAX:
        index = faiss.IndexFlatIP(dimensions)
    else:
        # inverted lists: at 50k offers a third of HNSW's CPU time (build + search) for the same edges
        lists = int(4 * np.sqrt(n))
        index = faiss.IndexIVFFlat(
            faiss.IndexFlatIP(dimensions), dimensions, lists, faiss.METRIC_INNER_PRODUCT
        )
        sample = np.random.default_rng(7).choice(n, min(n, 64 * lists), replace=False)
        index.train(vectors[np.sort(sample)])
        index.nprobe = IVF_PROBES
    index.add(vectors)
    scores = np.empty((n, k), np.float32)
    neighbours = np.empty((n, k), np.int64)
    for start in range(0, n, batch):
        found_scores, found = index.search(vectors[start : start + batch], k + 1)
        own = found == np.arange(start, min(start + batch, n))[:, None]
        # drop the row itself (or the last column when it was not found among its own neighbours)
        drop = np.where(own.any(axis=1), own.argmax(axis=1), k)
        keep = np.ones_like(own)
        keep[np.arange(len(found)), drop] = False
        scores[start : start + batch] = found_scores[keep].reshape(len(found), k)
        neighbours[start : start + batch] = found[keep].reshape(len(found), k)
    return scores, neighbours


PAIR_CHUNK = 200_000  # pairs rescored at once: the row products of sparse n-grams are large


def pair_similarity(features: Features, left: np.ndarray, right: np.ndarray, weights: dict) -> pd.DataFrame:
    """Exact blended similarity of candidate pairs, with its parts (for the catalog page)."""
    if len(left) > PAIR_CHUNK:
        parts = [
            pair_similarity(features, left[i : i + PAIR_CHUNK], right[i : i + PAIR_CHUNK], weights)
            for i in range(0, len(left), PAIR_CHUNK)
        ]
        return pd.concat(parts, ignore_index=True)
    char = np.asarray(features.char[left].multiply(features.char[right]).sum(axis=1)).ravel()
    words = np.einsum("ij,ij->i", features.words[left], features.words[right])
    models = features.models
    model = np.fromiter(
        (bool(models[a] & models[b]) for a, b in zip(left, right, strict=True)), bool, len(left)
    )
    total = weights.get("char", 0) * char + weights.get("words", 0) * words + weights.get("model", 0) * model
    norm = weights.get("char", 0) + weights.get("words", 0) + weights.get("model", 0)
    if features.image is not None and weights.get("image", 0):
        image = np.einsum("ij,ij->i", features.image[left], features.image[right])
        total, norm = total + weights["image"] * image, norm + weights["image"]
    return pd.DataFrame(
        {
            "a": left,
            "b": right,
            "similarity": (total / max(norm, 1e-9)).astype(np.float32),
            "char": char.astype(np.float32),
            "words": words.astype(np.float32),
            "model": model,
        }
    )


def best_per_shop(edges: pd.DataFrame, shops: np.ndarray, keep: int = 3) -> pd.DataFrame:
    """Each offer's `keep` most similar candidates in each other shop (the rest cannot be its match)."""
    if edges.empty:
        return edges
    both = pd.DataFrame(
        {
            "edge": np.concatenate([edges.index, edges.index]),
            "me": np.concatenate([edges["a"], edges["b"]]),
            "other_shop": shops[np.concatenate([edges["b"], edges["a"]])],
            "s": np.concatenate([edges["similarity"], edges["similarity"]]),
        }
    ).sort_values("s", ascending=False, kind="stable")
    chosen = both[both.groupby(["me", "other_shop"], sort=False).cumcount() < keep]["edge"].unique()
    return edges.loc[np.sort(chosen)].reset_index(drop=True)


def candidate_pairs(features: Features, params: GraphParams) -> pd.DataFrame:
    """Unique pairs (a < b) among each offer's top-k neighbours whose blended similarity passes."""
    vectors = dense_for_search(features, params.weights)
    approximate, neighbours = knn(vectors, params.k)
    n, k = neighbours.shape
    rows = np.repeat(np.arange(n), k)
    cols = neighbours.ravel()
    # the projection only approximates the blend: keep a margin below the threshold, rescore exactly
    keep = (cols >= 0) & (approximate.ravel() >= params.threshold - 0.25)
    left, right = np.minimum(rows[keep], cols[keep]), np.maximum(rows[keep], cols[keep])
    # one int64 key per pair: np.unique on rows (axis=0) sorts structured records, several times slower
    keys = np.unique(left.astype(np.int64) * n + right)
    pairs = np.stack([keys // n, keys % n], axis=1) if len(left) else np.zeros((0, 2), np.int64)
    scored = pair_similarity(features, pairs[:, 0], pairs[:, 1], params.weights)
    return scored[scored["similarity"] >= params.threshold].reset_index(drop=True)


def _conflict(a: dict, b: dict, keys) -> bool:
    return any(key in a and key in b and a[key] != b[key] for key in keys)


def rule_cuts(edges: pd.DataFrame, features: Features, shops: np.ndarray, prices: np.ndarray, rules: Rules):
    """The name of the rule that cuts each edge ('' when none does)."""
    titles, models = features.titles, features.models
    reasons = []
    for a, b in zip(edges["a"].to_numpy(), edges["b"].to_numpy(), strict=True):
        ta, tb = titles[a], titles[b]
        if rules.one_offer_per_shop and shops[a] == shops[b]:
            reasons.append("same shop")
        elif rules.pack_size and _conflict(ta.attributes, tb.attributes, ("count", "volume_ml", "weight_g")):
            reasons.append("pack size")
        elif rules.pack_size and _conflict(ta.attributes, tb.attributes, ("storage_gb",)):
            reasons.append("capacity")
        elif rules.model_numbers and models[a] and models[b] and not _models_agree(models[a], models[b]):
            reasons.append("model number")
        elif rules.options and _options_differ(ta.options, tb.options):
            reasons.append("option")
        elif rules.price_ratio and _price_far(prices[a], prices[b], rules.price_ratio):
            reasons.append("price ratio")
        else:
            reasons.append("")
    return np.asarray(reasons, dtype=object)


def _options_differ(a: dict, b: dict) -> bool:
    """Both name a colour (edition, platform) and none in common ("Cobalt/Black" and "Black" agree)."""
    return any(key in a and key in b and not set(a[key].split("|")) & set(b[key].split("|")) for key in a)


def _models_agree(left: frozenset, right: frozenset) -> bool:
    """No model number of one title that the other contradicts: each side's own numbers must find a match
    ("PSLX350H" and "PSLX350HK", a colour suffix, match) unless the other side has nothing left to match."""

    def same(x: str, y: str) -> bool:
        # a letter suffix is a colour or finish code: "FDB130WH" and "FDB130RGS" are one dishwasher
        stem_x, stem_y = x.rstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"), y.rstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        return x == y or (stem_x == stem_y and len(stem_x) >= 4)

    only_left = {x for x in left if not any(same(x, y) for y in right)}
    only_right = {y for y in right if not any(same(x, y) for x in left)}
    return not (only_left and only_right)


def _price_far(a: float, b: float, bound: float) -> bool:
    if not (a > 0 and b > 0):
        return False
    return max(a, b) / min(a, b) > bound


def cross_shop_best(edges: pd.DataFrame, shops: np.ndarray) -> np.ndarray:
    """Mask of the edges a greedy matching keeps: strongest first, each offer at most one partner per other
    shop (an offer whose best partner went to a closer rival can still take its next best)."""
    mask = np.zeros(len(edges), bool)
    if edges.empty:
        return mask
    order = np.argsort(-edges["similarity"].to_numpy(), kind="stable")
    a, b = edges["a"].to_numpy()[order], edges["b"].to_numpy()[order]
    taken: set[tuple[int, str]] = set()
    for position, left, right in zip(order, a, b, strict=True):
        key_left, key_right = (left, shops[right]), (right, shops[left])
        if key_left in taken or key_right in taken:
            continue
        taken.add(key_left)
        taken.add(key_right)
        mask[position] = True
    return mask
