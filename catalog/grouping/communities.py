"""Communities of the matched-offer graph and how well connected each one is."""

from __future__ import annotations

from dataclasses import dataclass

import igraph
import numpy as np

METHODS = ("label_propagation", "leiden", "components")


@dataclass
class GroupQuality:
    edge_proportion: float  # edges present / possible (pairs of offers from different shops)
    mean_similarity: float
    conductance: float  # weight leaving the group / its weighted degree (0: nothing leaves)
    score: float


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


def split_shop_duplicates(labels: np.ndarray, shops: np.ndarray, strength: np.ndarray) -> np.ndarray:
    """One offer per shop per group: the strongest offer of a shop stays, the others leave as singletons."""
    labels = labels.copy()
    next_label = labels.max() + 1 if len(labels) else 0
    order = np.lexsort((-strength, shops, labels))
    seen = set()
    for node in order:
        key = (labels[node], shops[node])
        if key in seen:
            labels[node] = next_label
            next_label += 1
        else:
            seen.add(key)
    return labels


def group_quality(
    members: np.ndarray, inside: np.ndarray, leaving_weight: float, shops: np.ndarray
) -> GroupQuality:
    """Edge proportion, mean similarity, conductance, and the score that decides publish or review.

    `inside` holds the similarities of the candidate edges within the group (after the rules), and
    `leaving_weight` the total similarity of candidate edges from the group to offers outside it.
    """
    size = len(members)
    if size < 2:
        return GroupQuality(0.0, 0.0, 1.0, 0.0)
    _, per_shop = np.unique(shops[members], return_counts=True)
    possible = (size * (size - 1) - int((per_shop * (per_shop - 1)).sum())) / 2
    present = len(inside)
    proportion = min(present / possible, 1.0) if possible else 0.0
    mean = float(inside.mean()) if present else 0.0
    volume = 2 * float(inside.sum()) + leaving_weight
    conductance = leaving_weight / volume if volume else 1.0
    score = proportion * mean * (1.0 - conductance)
    return GroupQuality(round(proportion, 4), round(mean, 4), round(conductance, 4), round(score, 4))
