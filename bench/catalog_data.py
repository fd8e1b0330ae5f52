"""The product-matching pools of bench/catalog.py and their gold groups, plus pairwise scoring.

Abt-Buy (complete mapping): both shops' offers as one pool; gold = the mapping's transitive closure.
WDC Products block-small: tables A and B as two shops; gold = `cluster_id` merged by the labelled positive
pairs, closed transitively; the filler cluster 2432 is no product (its offers are singletons).
"""

from __future__ import annotations

from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "datasets" / "product-matching"
WDC_FILLER = 2432


class UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, x: int) -> int:
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: int, b: int) -> None:
        self.parent[self.find(a)] = self.find(b)

    def labels(self) -> np.ndarray:
        return np.asarray([self.find(x) for x in range(len(self.parent))])


def abt_buy(data: Path = DATA) -> pd.DataFrame:
    folder = data / "abt-buy-complete-mapping"
    abt = pd.read_csv(folder / "Abt.csv", encoding="latin-1")
    buy = pd.read_csv(folder / "Buy.csv", encoding="latin-1")
    mapping = pd.read_csv(folder / "abt_buy_perfectMapping.csv")
    frame = pd.concat(
        [
            pd.DataFrame(
                {
                    "shop": "abt",
                    "external_id": abt["id"].astype(str),
                    "title": abt["name"],
                    "description": abt["description"],
                    "price": abt["price"],
                    "brand": "",
                }
            ),
            pd.DataFrame(
                {
                    "shop": "buy",
                    "external_id": buy["id"].astype(str),
                    "title": buy["name"],
                    "description": buy["description"],
                    "price": buy["price"],
                    "brand": buy["manufacturer"].fillna(""),
                }
            ),
        ],
        ignore_index=True,
    )
    frame["price"] = pd.to_numeric(
        frame["price"].astype(str).str.replace(r"[$,]", "", regex=True), errors="coerce"
    )
    position = {(s, e): i for i, (s, e) in enumerate(zip(frame["shop"], frame["external_id"], strict=True))}
    union = UnionFind(len(frame))
    for left, right in zip(mapping["idAbt"].astype(str), mapping["idBuy"].astype(str), strict=True):
        if ("abt", left) in position and ("buy", right) in position:
            union.union(position["abt", left], position["buy", right])
    frame["gold"] = union.labels()
    frame["offer_id"] = np.arange(len(frame))
    frame["category"] = "electronics"
    frame["table"] = frame["shop"]
    return frame


def wdc_block_small(data: Path = DATA) -> pd.DataFrame:
    folder = data / "wdc-products-block-small"
    sides = []
    for shop, name in (("A", "tableA.csv"), ("B", "tableB.csv")):
        table = pd.read_csv(folder / name)
        columns = {
            "external_id": table["id"].astype(str),
            "title": table["title"],
            "price": table["price"],
            "description": table["description"],
            "brand": table["brand"].fillna(""),
            "cluster": table["cluster_id"],
        }
        sides.append(pd.DataFrame({"shop": shop, **columns}))
    frame = pd.concat(sides, ignore_index=True)
    frame["price"] = pd.to_numeric(frame["price"], errors="coerce")
    union = UnionFind(len(frame))
    first: dict[int, int] = {}
    for row, cluster in enumerate(frame["cluster"]):
        if cluster != WDC_FILLER:
            union.union(row, first.setdefault(cluster, row))
    position = {(s, e): i for i, (s, e) in enumerate(zip(frame["shop"], frame["external_id"], strict=True))}
    for split in ("train", "valid", "test"):
        pairs = pd.read_csv(folder / f"{split}.csv")
        positive = pairs[pairs["label"] == 1]
        for left, right in zip(positive["ltable_id"], positive["rtable_id"], strict=True):
            union.union(position["A", str(left)], position["B", str(right)])
    frame["gold"] = union.labels()
    frame["gold_unknown"] = frame["cluster"] == WDC_FILLER  # no product known: a singleton in the gold
    frame["offer_id"] = np.arange(len(frame))
    frame["category"] = "products"
    frame["table"] = frame["shop"]
    return frame


def pair_set(labels: np.ndarray, keep: np.ndarray | None = None) -> set[tuple[int, int]]:
    """Pairs of row positions that share a label (rows outside `keep` are in no group)."""
    series = pd.Series(np.arange(len(labels)))
    if keep is not None:
        series = series[keep]
    pairs = set()
    for _, members in series.groupby(np.asarray(labels)[series.index.to_numpy()]):
        if len(members) > 1:
            pairs.update(combinations(sorted(members.tolist()), 2))
    return pairs


def score(predicted: np.ndarray, gold: np.ndarray, keep: np.ndarray | None = None) -> dict:
    """Pairwise precision / recall / F1, purity and coverage of groups (rows outside `keep` are ungrouped)."""
    found, truth = pair_set(predicted, keep), pair_set(gold)
    hits = len(found & truth)
    precision = hits / len(found) if found else 1.0
    recall = hits / len(truth) if truth else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    mask = np.ones(len(predicted), bool) if keep is None else keep
    sizes = pd.Series(predicted[mask]).map(pd.Series(predicted[mask]).value_counts())
    grouped = mask.copy()
    grouped[mask] = sizes.to_numpy() > 1
    frame = pd.DataFrame({"group": predicted[grouped], "gold": gold[grouped]})
    purity = frame.groupby("group")["gold"].agg(lambda g: g.value_counts().iloc[0]).sum() / max(len(frame), 1)
    return {
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "pairs_found": len(found),
        "gold_pairs_found": hits,
        "gold_pairs": len(truth),
        "purity": round(float(purity), 4),
        "coverage": round(float(grouped.mean()), 4),
    }


def same_record_pairs(frame: pd.DataFrame) -> dict:
    """Pairs of rows of the two tables identical in title, description, price and brand (one offer copied
    into both tables) and how many of them the gold calls two products: pairs that any method grouping an
    offer with its own copy gets wrong by this gold."""
    columns = [c for c in ("title", "description", "price", "brand") if c in frame]
    key = frame[columns].fillna("").astype(str).agg("|".join, axis=1)
    gold = frame["gold"].to_numpy()
    unknown = frame["gold_unknown"].to_numpy() if "gold_unknown" in frame else np.zeros(len(frame), bool)
    tables = frame["table"].to_numpy()
    pairs = [
        (a, b)
        for rows in frame.groupby(key).indices.values()
        for a, b in combinations(rows, 2)
        if tables[a] != tables[b]
    ]
    apart = [(a, b) for a, b in pairs if gold[a] != gold[b]]
    return {
        "pairs": len(pairs),
        "gold_apart": len(apart),
        "gold_apart_unknown": sum(1 for a, b in apart if unknown[a] or unknown[b]),
        "precision": round(1 - len(apart) / len(pairs), 4) if pairs else 1.0,
    }
