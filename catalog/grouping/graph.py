"""The similar-offer graph: kNN candidates, blended similarity, business rules, the cross-shop constraint.

Every candidate edge carries its similarity and, when a rule cut it, the rule's name, so the catalog page can
say why two offers were kept apart.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse

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


def shared_models(models: list[frozenset[str]], left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Per pair: the two offers share a model number (sparse offer x number products, in chunks)."""
    shared = np.zeros(len(left), bool)
    has = np.fromiter((bool(m) for m in models), bool, len(models))
    both = np.flatnonzero(has[left] & has[right]) if len(left) else np.zeros(0, np.int64)
    if not len(both):
        return shared
    codes = {}
    rows, cols = [], []
    for row, numbers in enumerate(models):
        for number in numbers:
            rows.append(row)
            cols.append(codes.setdefault(number, len(codes)))
    matrix = sparse.csr_matrix(
        (np.ones(len(rows), np.float32), (rows, cols)), shape=(len(models), len(codes)), dtype=np.float32
    )
    for i in range(0, len(both), PAIR_CHUNK):
        chunk = both[i : i + PAIR_CHUNK]
        common = matrix[left[chunk]].multiply(matrix[right[chunk]]).sum(axis=1)
        shared[chunk] = np.asarray(common).ravel() > 0
    return shared


def pair_similarity(
    features: Features, left: np.ndarray, right: np.ndarray, weights: dict, *, model: np.ndarray | None = None
) -> pd.DataFrame:
    """Exact blended similarity of candidate pairs, with its parts (for the catalog page)."""
    if model is None:
        model = shared_models(features.models, np.asarray(left), np.asarray(right))
    if len(left) > PAIR_CHUNK:
        parts = [
            pair_similarity(
                features,
                left[i : i + PAIR_CHUNK],
                right[i : i + PAIR_CHUNK],
                weights,
                model=model[i : i + PAIR_CHUNK],
            )
            for i in range(0, len(left), PAIR_CHUNK)
        ]
        return pd.concat(parts, ignore_index=True)
    char = _row_dots(features.char, left, right)
    words = np.einsum("ij,ij->i", features.words[left], features.words[right])
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


def _row_dots(matrix: sparse.csr_matrix, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Dot products of rows `left[i]` and `right[i]` (compiled: scipy's row products copy both sides)."""
    from catalog.grouping.compiled import row_dots

    if not matrix.has_sorted_indices:
        matrix = matrix.sorted_indices()
    return row_dots(
        matrix.indptr, matrix.indices, matrix.data, np.asarray(left, np.int64), np.asarray(right, np.int64)
    )


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """np.unique of a 1-d array by one sort and a mask (np.unique itself is many times slower here)."""
    values = np.sort(values)
    first = np.ones(len(values), bool)
    np.not_equal(values[1:], values[:-1], out=first[1:])
    return values[first]


def rank_in_group(keys: np.ndarray) -> np.ndarray:
    """Per element, how many elements before it carry the same key (pandas' groupby cumcount)."""
    from catalog.grouping.compiled import running_count

    codes, uniques = pd.factorize(keys)
    return running_count(codes.astype(np.int64), len(uniques))


def shop_codes(shops) -> np.ndarray:
    """One integer per offer, equal for offers of one shop: compared, keyed and counted faster than names."""
    return pd.factorize(pd.Series(shops, dtype=object))[0].astype(np.int64)


def best_per_shop(edges: pd.DataFrame, shops: np.ndarray, keep: int = 3) -> pd.DataFrame:
    """Each offer's `keep` most similar candidates in each other shop (the rest cannot be its match)."""
    if edges.empty:
        return edges
    a, b = edges["a"].to_numpy().astype(np.int64), edges["b"].to_numpy().astype(np.int64)
    codes = shop_codes(shops)
    edge = np.tile(np.arange(len(edges)), 2)
    # one integer per (offer, other shop); both ends of every edge, strongest first (ties: edge order)
    pair = np.concatenate([a * len(codes) + codes[b], b * len(codes) + codes[a]])
    similarity = edges["similarity"].to_numpy()
    order = np.argsort(-np.concatenate([similarity, similarity]), kind="stable")
    rank = rank_in_group(pair[order])
    chosen = np.zeros(len(edges), bool)
    chosen[edge[order][rank < keep]] = True
    return edges[chosen].reset_index(drop=True)


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
    keys = sorted_unique(left.astype(np.int64) * n + right)
    pairs = np.stack([keys // n, keys % n], axis=1) if len(left) else np.zeros((0, 2), np.int64)
    scored = pair_similarity(features, pairs[:, 0], pairs[:, 1], params.weights)
    return scored[scored["similarity"] >= params.threshold].reset_index(drop=True)


PACK_KEYS = ("count", "volume_ml", "weight_g")
CAPACITY_KEYS = ("storage_gb",)


def _attribute_conflict(titles, a: np.ndarray, b: np.ndarray, keys) -> np.ndarray:
    """Per edge: some key is on both offers with different values (arrays built once per offer)."""
    conflict = np.zeros(len(a), bool)
    for key in keys:
        present = np.fromiter((key in t.attributes for t in titles), bool, len(titles))
        if not present.any():
            continue
        values = np.fromiter((t.attributes.get(key, 0.0) for t in titles), np.float64, len(titles))
        conflict |= present[a] & present[b] & (values[a] != values[b])
    return conflict


def _pairwise(codes: np.ndarray, values: list, a: np.ndarray, b: np.ndarray, test) -> np.ndarray:
    """`test(values[x], values[y])` per edge, called once per distinct pair of per-offer codes."""
    keys, inverse = np.unique(codes[a].astype(np.int64) * len(values) + codes[b], return_inverse=True)
    outcome = np.fromiter(
        (test(values[key // len(values)], values[key % len(values)]) for key in keys.tolist()),
        bool,
        len(keys),
    )
    return outcome[inverse.ravel()]


def rule_cuts(edges: pd.DataFrame, features: Features, shops: np.ndarray, prices: np.ndarray, rules: Rules):
    """The name of the rule that cuts each edge ('' when none does): the first that applies, in the order
    same shop, pack size, capacity, model number, option, price ratio (array comparisons per rule; model
    numbers and options are compared once per distinct pair of values, only where both offers have some)."""
    titles, models = features.titles, features.models
    a, b = edges["a"].to_numpy().astype(np.int64), edges["b"].to_numpy().astype(np.int64)
    cuts: list[tuple[str, np.ndarray]] = []
    if rules.one_offer_per_shop:
        codes = shop_codes(shops)
        cuts.append(("same shop", codes[a] == codes[b]))
    if rules.pack_size:
        cuts.append(("pack size", _attribute_conflict(titles, a, b, PACK_KEYS)))
        cuts.append(("capacity", _attribute_conflict(titles, a, b, CAPACITY_KEYS)))
    if rules.model_numbers:
        model_codes, model_values = pd.factorize(pd.Series(models, dtype=object))
        has = np.fromiter((bool(m) for m in models), bool, len(models))
        both = np.flatnonzero(has[a] & has[b] & (model_codes[a] != model_codes[b]))  # equal sets agree
        disagree = np.zeros(len(a), bool)
        disagree[both] = ~_pairwise(model_codes, list(model_values), a[both], b[both], _models_agree)
        cuts.append(("model number", disagree))
    if rules.options:
        keyed = pd.Series([tuple(sorted(t.options.items())) for t in titles], dtype=object)
        option_codes, option_values = pd.factorize(keyed)
        has = np.fromiter((bool(t.options) for t in titles), bool, len(titles))
        both = np.flatnonzero(has[a] & has[b] & (option_codes[a] != option_codes[b]))  # equal ones agree
        differ = np.zeros(len(a), bool)
        values = [dict(v) for v in option_values]
        differ[both] = _pairwise(option_codes, values, a[both], b[both], _options_differ)
        cuts.append(("option", differ))
    if rules.price_ratio:
        price = np.asarray(prices, dtype=np.float64)
        pa, pb = price[a], price[b]
        with np.errstate(divide="ignore", invalid="ignore"):
            far = (pa > 0) & (pb > 0) & (np.maximum(pa, pb) / np.minimum(pa, pb) > rules.price_ratio)
        cuts.append(("price ratio", far))
    reasons = np.full(len(a), "", dtype=object)
    undecided = np.ones(len(a), bool)
    for name, applies in cuts:  # the first rule that applies names the cut
        hit = undecided & applies
        reasons[hit] = name
        undecided &= ~hit
    return reasons


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


GREEDY_ROUNDS = 20  # vectorised rounds of cross_shop_best before the few edges left are taken one by one


def cross_shop_best(edges: pd.DataFrame, shops: np.ndarray) -> np.ndarray:
    """Mask of the edges a greedy matching keeps: strongest first, each offer at most one partner per other
    shop (an offer whose best partner went to a closer rival can still take its next best).

    An edge takes two keys, (offer a, shop of b) and (offer b, shop of a). In rounds, every edge that comes
    first (strongest, then edge order) among the remaining edges holding either of its keys is kept, as the
    one-by-one greedy would keep it, and the edges sharing a key with it drop out; the remainder after
    GREEDY_ROUNDS rounds goes through the plain loop. The result is the one-by-one greedy's, edge for edge.
    """
    mask = np.zeros(len(edges), bool)
    if edges.empty:
        return mask
    order = np.argsort(-edges["similarity"].to_numpy(), kind="stable")
    codes = shop_codes(shops)
    a, b = edges["a"].to_numpy().astype(np.int64)[order], edges["b"].to_numpy().astype(np.int64)[order]
    both, keys = pd.factorize(np.concatenate([a * len(codes) + codes[b], b * len(codes) + codes[a]]))
    key_a, key_b = both[: len(a)], both[len(a) :]
    taken = np.zeros(len(keys), bool)
    left = np.arange(len(a))  # positions (in strength order) still undecided, ascending
    for _ in range(GREEDY_ROUNDS):
        if not len(left):
            break
        # the first remaining edge of each key: keys interleaved so that the earlier edge comes first
        interleaved = np.stack([key_a[left], key_b[left]], axis=1).ravel()
        first = np.full(len(keys), -1, np.int64)
        unique, at = np.unique(interleaved, return_index=True)
        first[unique] = left[at // 2]
        kept = left[(first[key_a[left]] == left) & (first[key_b[left]] == left)]
        mask[order[kept]] = True
        taken[key_a[kept]] = taken[key_b[kept]] = True
        left = left[~mask[order[left]] & ~taken[key_a[left]] & ~taken[key_b[left]]]
    taken_keys = set(np.flatnonzero(taken).tolist())
    for position, first_key, second_key in zip(
        left.tolist(), key_a[left].tolist(), key_b[left].tolist(), strict=True
    ):
        if first_key in taken_keys or second_key in taken_keys:
            continue
        taken_keys.add(first_key)
        taken_keys.add(second_key)
        mask[order[position]] = True
    return mask
