"""Communities of the matched-offer graph and how well connected each one is."""

from __future__ import annotations

import math
from dataclasses import dataclass

import igraph
import numpy as np

from catalog.grouping.graph import shop_codes

METHODS = ("label_propagation", "leiden", "components")


@dataclass
class GroupQuality:
    edge_proportion: float  # edges present / possible (pairs of offers from different shops)
    mean_similarity: float
    conductance: float  # weight leaving the group / its weighted degree (0: nothing leaves)
    score: float
    min_similarity: float = 0.0  # the weakest edge inside: a group is as sure as its loosest join


def communities_find(
    n: int, edges: np.ndarray, weights: np.ndarray, *, method: str = "label_propagation", seed: int = 7
) -> np.ndarray:
    """A community label for every node (isolated nodes get their own)."""
    if method not in METHODS:
        raise ValueError(f"Unknown community method {method!r}; choose one of {', '.join(METHODS)}.")
    graph = igraph.Graph(n=n, edges=edges.tolist(), directed=False)
    graph.es["weight"] = weights.tolist()
    if method == "components" or len(edges) == 0:
        return np.asarray(graph.connected_components().membership)
    import random

    random.seed(seed)  # igraph draws from Python's generator
    if method == "leiden":
        found = graph.community_leiden(objective_function="modularity", weights="weight", n_iterations=-1)
    else:
        found = graph.community_label_propagation(weights="weight")
    return np.asarray(found.membership)


def group_quality(
    members: np.ndarray, inside: np.ndarray, leaving_weight: float, shops: np.ndarray
) -> GroupQuality:
    """Edge proportion, similarities, conductance, and the score that decides publish or review.

    `inside` holds the similarities of the candidate edges within the group (after the rules), and
    `leaving_weight` the total similarity of candidate edges from the group to offers outside it.
    score = edge proportion x weakest inside edge x (1 - conductance) / size_penalty(size): the weakest
    edge rather than the mean because one loose join makes a group wrong, and a penalty on size because
    a group of n offers rests on n - 1 joins and pairwise precision counts its n(n-1)/2 pairs.
    """
    size = len(members)
    if size < 2:
        return GroupQuality(0.0, 0.0, 1.0, 0.0, 0.0)
    _, per_shop = np.unique(shops[members], return_counts=True)
    possible = (size * (size - 1) - int((per_shop * (per_shop - 1)).sum())) / 2
    present = len(inside)
    proportion = min(present / possible, 1.0) if possible else 0.0
    mean = float(inside.mean()) if present else 0.0
    weakest = float(inside.min()) if present else 0.0
    volume = 2 * float(inside.sum()) + leaving_weight
    conductance = leaving_weight / volume if volume else 1.0
    score = proportion * weakest * (1.0 - conductance) / size_penalty(size)
    return GroupQuality(
        round(proportion, 4), round(mean, 4), round(conductance, 4), round(score, 4), round(weakest, 4)
    )


def size_penalty(size: int) -> float:
    """1 for a pair, 2 for four offers, 3 for eight: each doubling adds one more way to be wrong."""
    return 1.0 + math.log2(max(size, 2) / 2)


def constrained_merge(
    labels: np.ndarray, edges: np.ndarray, weights: np.ndarray, shops: np.ndarray, conflicts: np.ndarray
) -> np.ndarray:
    """Inside each community, join offers along its edges strongest first, refusing a join that would put
    two offers of one shop, or two offers a rule kept apart (`conflicts`: pairs), in one group.

    Label propagation spreads a label along chains: A-B and B-C pass, though a rule cut A-C (different model
    numbers) or A and C come from one shop. This keeps the communities' edges but never such a group.
    """
    labels = np.asarray(labels)
    edges = np.asarray(edges, dtype=np.int64).reshape(-1, 2)
    conflicts = np.asarray(conflicts, dtype=np.int64).reshape(-1, 2)
    codes = shop_codes(np.asarray(shops))
    # joins stay inside a community, and two offers of one shop are kept apart by the shops anyway: only
    # conflicts inside a community between two shops can refuse a join
    useful = (labels[conflicts[:, 0]] == labels[conflicts[:, 1]]) & (
        codes[conflicts[:, 0]] != codes[conflicts[:, 1]]
    )
    ends = np.concatenate([conflicts[useful], conflicts[useful][:, ::-1]])
    ends = ends[np.argsort(ends[:, 0], kind="stable")]
    enemy_start = np.searchsorted(ends[:, 0], np.arange(len(labels) + 1)).astype(np.int64)
    order = np.argsort(-np.asarray(weights), kind="stable")
    order = order[labels[edges[order, 0]] == labels[edges[order, 1]]]
    from catalog.grouping.compiled import merge_along

    return merge_along(
        edges[order, 0].copy(), edges[order, 1].copy(), codes, int(codes.max(initial=0)) + 1,
        enemy_start, ends[:, 1].copy(),
    )  # fmt: skip
