"""One category's offers -> groups, their quality and titles, and the edges with the rules that cut them."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from catalog.grouping.communities import communities_find, constrained_merge, group_quality
from catalog.grouping.features import features_build
from catalog.grouping.graph import (
    GraphParams,
    Rules,
    best_per_shop,
    candidate_pairs,
    cross_shop_best,
    rule_cuts,
    shop_codes,
)
from catalog.grouping.titles import catalog_title


@dataclass
class GroupingParams:
    graph: GraphParams = field(default_factory=GraphParams)
    community: str = "label_propagation"

    @classmethod
    def from_dict(cls, values: dict | None) -> GroupingParams:
        values = values or {}
        graph = GraphParams(
            k=int(values.get("k", 100)),
            threshold=float(values.get("threshold", GraphParams.threshold)),
            rules=Rules.from_dict(values.get("rules")),
        )
        if values.get("weights"):
            graph.weights = {**graph.weights, **{k: float(v) for k, v in values["weights"].items()}}
        return cls(graph=graph, community=values.get("community", "label_propagation"))


@dataclass
class Grouping:
    labels: np.ndarray  # a group label per offer (row order of the input frame)
    groups: pd.DataFrame  # label, size, edge proportion, mean / min similarity, conductance, quality, title
    edges: pd.DataFrame  # a, b (row positions), similarity, char, words, model, cut (rule or ''), matched


def _pinned(frame: pd.DataFrame, pairs) -> set[tuple[int, int]]:
    position = {offer: row for row, offer in enumerate(frame["offer_id"].to_numpy())}
    found = set()
    for left, right in pairs or ():
        if left in position and right in position:
            a, b = sorted((position[left], position[right]))
            found.add((a, b))
    return found


def offers_group(
    frame: pd.DataFrame,
    params: GroupingParams | None = None,
    *,
    joined: list[tuple[int, int]] | None = None,
    split: list[tuple[int, int]] | None = None,
) -> Grouping:
    """Group one category's offers (columns offer_id, shop, title, optional price, brand, image_vector).

    `joined` and `split` are reviewers' decisions as pairs of offer ids: joined pairs are kept together
    whatever the rules say, split pairs never share a group.
    """
    params = params or GroupingParams()
    frame = frame.reset_index(drop=True)
    n = len(frame)
    shops = frame["shop"].astype(str).to_numpy()
    prices = pd.to_numeric(frame.get("price", pd.Series([np.nan] * n)), errors="coerce").fillna(0).to_numpy()
    features = features_build(frame)
    edges = (
        candidate_pairs(features, params.graph) if n > 1 else pd.DataFrame(columns=["a", "b", "similarity"])
    )
    if params.graph.rules.one_offer_per_shop:  # only an offer's best few in a shop can become its match
        edges = best_per_shop(edges, shops)
    edges["cut"] = rule_cuts(edges, features, shops, prices, params.graph.rules) if len(edges) else []
    keep_joined, keep_split = _pinned(frame, joined), _pinned(frame, split)
    if keep_split or keep_joined:  # (a pass over every edge in Python: only when a reviewer decided)
        pairs = list(zip(edges["a"].to_numpy(), edges["b"].to_numpy(), strict=True))
        edges.loc[[pair in keep_split for pair in pairs], "cut"] = "split by a reviewer"
        edges.loc[[pair in keep_joined for pair in pairs], "cut"] = ""
    alive = edges[edges["cut"] == ""]
    edges["matched"] = False
    if params.graph.rules.one_offer_per_shop:
        edges.loc[alive.index[cross_shop_best(alive, shops)], "matched"] = True
    else:
        edges.loc[alive.index, "matched"] = True
    matched = edges[edges["matched"]]
    extra = sorted(keep_joined - set(zip(matched["a"], matched["b"], strict=True))) if keep_joined else []
    link = np.asarray([*zip(matched["a"], matched["b"], strict=True), *extra], dtype=np.int64).reshape(-1, 2)
    weights = np.concatenate([matched["similarity"].to_numpy(np.float64), np.ones(len(extra))])
    labels = communities_find(n, link, weights, method=params.community)
    if params.graph.rules.one_offer_per_shop:
        cut = edges[edges["cut"] != ""]
        conflicts = np.stack([cut["a"].to_numpy(), cut["b"].to_numpy()], axis=1).astype(np.int64)
        labels = constrained_merge(labels, link, weights, shops, conflicts)
    labels = _apart(_together(labels, keep_joined), keep_split)
    groups = _groups(frame, features, labels, alive, shops)
    return Grouping(labels=labels, groups=groups, edges=edges)


def _together(labels: np.ndarray, joined: set[tuple[int, int]]) -> np.ndarray:
    """A reviewer's join wins over the graph and the one-offer-per-shop rule."""
    labels = labels.copy()
    for a, b in sorted(joined):
        if labels[a] != labels[b]:
            labels[labels == labels[b]] = labels[a]
    return labels


def _apart(labels: np.ndarray, split: set[tuple[int, int]]) -> np.ndarray:
    """A reviewer's split wins over the graph: the second offer of a split pair leaves the group."""
    labels = labels.copy()
    next_label = labels.max() + 1 if len(labels) else 0
    for a, b in sorted(split):
        if labels[a] == labels[b]:
            labels[b] = next_label
            next_label += 1
    return labels


def values_by_label(labels: np.ndarray, values: np.ndarray) -> dict[int, np.ndarray]:
    """The values of each label, in their order (one stable sort, not a groupby apply per label)."""
    if not len(labels):
        return {}
    order = np.argsort(labels, kind="stable")
    ordered = labels[order]
    bounds = np.flatnonzero(np.diff(ordered)) + 1
    starts = ordered[np.r_[0, bounds]].tolist()
    return dict(zip(starts, np.split(values[order], bounds), strict=True))


def _groups(frame, features, labels, alive: pd.DataFrame, shops) -> pd.DataFrame:
    a, b = alive["a"].to_numpy(), alive["b"].to_numpy()
    similarity = alive["similarity"].to_numpy(np.float64)
    same = labels[a] == labels[b]
    inside = values_by_label(labels[a][same], similarity[same])
    leaving = (
        pd.Series(np.concatenate([similarity[~same]] * 2))
        .groupby(np.concatenate([labels[a][~same], labels[b][~same]]))
        .sum()
    )
    brands = frame["brand"].fillna("").astype(str).to_numpy() if "brand" in frame else None
    shops = shop_codes(shops)  # counted per group: integers count faster
    rows = []
    for label, members in values_by_label(labels, np.arange(len(labels))).items():
        if len(members) < 2:
            continue
        quality = group_quality(
            members, inside.get(label, np.zeros(0)), float(leaving.get(label, 0.0)), shops
        )
        title = catalog_title(
            [features.titles[m] for m in members], list(brands[members]) if brands is not None else None
        )
        rows.append(
            {
                "label": int(label),
                "size": len(members),
                "edge_proportion": quality.edge_proportion,
                "mean_similarity": quality.mean_similarity,
                "min_similarity": quality.min_similarity,
                "conductance": quality.conductance,
                "quality": quality.score,
                "title": title,
            }
        )
    columns = [
        "label",
        "size",
        "edge_proportion",
        "mean_similarity",
        "min_similarity",
        "conductance",
        "quality",
        "title",
    ]
    return pd.DataFrame(rows, columns=columns)
