"""The work of bench/catalog.py: quality on Abt-Buy and WDC against two peers, then the scale rows."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from bench.catalog_data import abt_buy, same_record_pairs, score, wdc_block_small
from bench.common import ROOT, say

PYJEDAI_DIR = ROOT / "var" / "bench-pyjedai"
QUALITY_STEPS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
TARGET_PRECISION = 0.95


def _pools(quick: bool) -> dict[str, pd.DataFrame]:
    abt = abt_buy()
    wdc = wdc_block_small()
    # WDC's offers come from many web shops that the set does not name (page_url is mostly empty), so
    # tables A and B are no shops: every offer counts as its own shop and the shop rule has nothing to act on.
    wdc["shop"] = "wdc" + wdc["offer_id"].astype(str)
    if quick:
        wdc = wdc[wdc["gold"].isin(wdc["gold"].drop_duplicates().sample(400, random_state=0))]
        wdc = wdc.reset_index(drop=True).assign(offer_id=lambda f: np.arange(len(f)))
    return {"abt-buy": abt, "wdc-block-small": wdc}


def _ours(frame: pd.DataFrame, threshold: float) -> dict:
    from catalog.grouping.build import GroupingParams, offers_group

    started, cpu = time.perf_counter(), time.process_time()
    grouping = offers_group(frame, GroupingParams.from_dict({"threshold": threshold}))
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    gold = frame["gold"].to_numpy()
    quality = dict(zip(grouping.groups["label"], grouping.groups["quality"], strict=True))
    group_quality = np.asarray([quality.get(label, -1.0) for label in grouping.labels])
    known = ~frame["gold_unknown"].to_numpy() if "gold_unknown" in frame else None
    table = []
    for step in QUALITY_STEPS:
        keep = group_quality >= step
        row = {"quality_at_least": step, **score(grouping.labels, gold, keep)}
        if known is not None:  # offers whose gold is the filler id left out of the pairs
            row["precision_known_gold"] = score(grouping.labels, gold, keep & known)["precision"]
        table.append(row)
    return {
        "threshold": threshold,
        "seconds": round(seconds, 2),
        "cpu_seconds": round(cpu_seconds, 2),
        "all_groups": score(grouping.labels, gold),
        "published_by_quality": table,
        "by_quality_bucket": _buckets(grouping.labels, gold, group_quality),
        "cuts": grouping.edges["cut"].replace("", "kept").value_counts().to_dict(),
    }


def _buckets(labels: np.ndarray, gold: np.ndarray, group_quality: np.ndarray) -> list[dict]:
    """Precision of the groups whose quality falls in each step's bucket (not cumulative)."""
    rows = []
    for low, high in zip(QUALITY_STEPS, (*QUALITY_STEPS[1:], 1.01), strict=True):
        keep = (group_quality >= low) & (group_quality < high)
        figures = score(labels, gold, keep)
        groups = len(np.unique(labels[keep])) if keep.any() else 0
        rows.append(
            {
                "quality_from": low,
                "groups": groups,
                "pairs": figures["pairs_found"],
                "precision": figures["precision"],
            }
        )
    return rows


def _tfidf_components(frame: pd.DataFrame) -> dict:
    """Peer 1: word TF-IDF cosine, top-10 neighbours, connected components, at each threshold."""
    import igraph
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.neighbors import NearestNeighbors

    started = time.perf_counter()
    matrix = TfidfVectorizer(sublinear_tf=True).fit_transform(frame["title"].fillna("").astype(str))
    distances, neighbours = NearestNeighbors(n_neighbors=11, metric="cosine").fit(matrix).kneighbors(matrix)
    rows = np.repeat(np.arange(len(frame)), neighbours.shape[1])
    similarity, cols = 1 - distances.ravel(), neighbours.ravel()
    gold = frame["gold"].to_numpy()
    table = []
    for threshold in np.arange(0.3, 1.0, 0.05):
        keep = (similarity >= threshold) & (rows != cols)
        graph = igraph.Graph(n=len(frame), edges=np.stack([rows[keep], cols[keep]], axis=1).tolist())
        labels = np.asarray(graph.connected_components().membership)
        table.append({"threshold": round(float(threshold), 2), **score(labels, gold)})
    best = max(table, key=lambda row: row["f1"])
    return {"seconds": round(time.perf_counter() - started, 2), "best": best, "by_threshold": table}


def _pyjedai(frame: pd.DataFrame, folder: Path) -> dict:
    """Peer 2: pyJedAI's unsupervised workflow (blocking, pruning, char 3-gram TF-IDF, unique mapping)."""
    if not folder.exists():
        return {"skipped": f"pyJedAI not installed in {folder} (make bench installs it)"}
    sys.path.insert(0, str(folder))
    os.environ.setdefault("TQDM_DISABLE", "1")
    from pyjedai.block_building import StandardBlocking
    from pyjedai.block_cleaning import BlockFiltering, BlockPurging
    from pyjedai.clustering import UniqueMappingClustering
    from pyjedai.comparison_cleaning import CardinalityEdgePruning
    from pyjedai.datamodel import Data
    from pyjedai.matching import EntityMatching

    sides = sorted(frame["table"].unique())
    tables = [frame[frame["table"] == side].assign(pid=lambda f: f["offer_id"].astype(str)) for side in sides]
    d1, d2 = (t[["pid", "title"]].fillna("").astype(str) for t in tables)
    started = time.perf_counter()
    data = Data(
        dataset_1=d1,
        id_column_name_1="pid",
        dataset_2=d2,
        id_column_name_2="pid",
        attributes_1=["title"],
        attributes_2=["title"],
    )
    blocking = StandardBlocking(disable_ray=False)  # 0.3.6 starts a Ray cluster when asked *not* to use Ray
    blocking.disable_ray = True  # ... and builds serially with this flag set after construction
    blocks = blocking.build_blocks(data, attributes_1=["title"], attributes_2=["title"], tqdm_disable=True)
    blocks = BlockPurging().process(blocks, data, tqdm_disable=True)
    blocks = BlockFiltering(ratio=0.8).process(blocks, data, tqdm_disable=True)
    candidates = CardinalityEdgePruning(weighting_scheme="X2").process(blocks, data, tqdm_disable=True)
    matcher = EntityMatching(
        metric="cosine", tokenizer="char_tokenizer", vectorizer="tfidf", qgram=3, similarity_threshold=0.0
    )
    graph = matcher.predict(candidates, data, tqdm_disable=True)
    gold = frame["gold"].to_numpy()
    table = []
    for threshold in (0.1, 0.17, 0.25, 0.35, 0.45, 0.55):
        clustering = UniqueMappingClustering()
        pairs = clustering.export_to_df(clustering.process(graph, data, similarity_threshold=threshold))
        labels = np.arange(len(frame))
        for left, right in zip(pairs["id1"].astype(int), pairs["id2"].astype(int), strict=True):
            labels[labels == labels[right]] = labels[left]
        table.append({"threshold": threshold, **score(labels, gold)})
    best = max(table, key=lambda row: row["f1"])
    return {"seconds": round(time.perf_counter() - started, 2), "best": best, "by_threshold": table}


def _gold_pairs_at_precision(rows: list[dict]) -> int:
    return max((row["gold_pairs_found"] for row in rows if row["precision"] >= TARGET_PRECISION), default=0)


def quality(quick: bool, thresholds: dict[str, list[float]], pyjedai_dir: Path) -> dict:
    results = {}
    for name, frame in _pools(quick).items():
        say(f"{name}: {len(frame)} offers, {int((frame.groupby('gold').size() > 1).sum())} gold groups")
        runs = [_ours(frame, threshold) for threshold in thresholds[name]]
        for run in runs:
            say(f"  ours t={run['threshold']}: all groups {run['all_groups']} ({run['seconds']} s)")
        best = max(runs, key=lambda run: run["all_groups"]["f1"])
        peer_tfidf = _tfidf_components(frame)
        say(f"  TF-IDF kNN + components, best: {peer_tfidf['best']}")
        peer_jedai = _pyjedai(frame, pyjedai_dir)
        say(f"  pyJedAI: {peer_jedai.get('best', peer_jedai.get('skipped'))}")
        results[name] = {
            "offers": len(frame),
            "same_record_pairs": same_record_pairs(frame),
            "ours_by_threshold": runs,
            "ours": best,
            "tfidf_components": peer_tfidf,
            "pyjedai": peer_jedai,
            "gold_pairs_at_p95": {
                "ours_published": _gold_pairs_at_precision(best["published_by_quality"]),
                "tfidf_components": _gold_pairs_at_precision(peer_tfidf["by_threshold"]),
                "pyjedai": _gold_pairs_at_precision(peer_jedai.get("by_threshold", [])),
            },
        }
    return results


def scale_one(count: int) -> dict:
    """One scale row in this process (run in a child so its peak RSS is its own)."""
    from bench.catalog_scale import synthetic_offers
    from catalog.grouping.build import offers_group

    offers = synthetic_offers(count)
    started, cpu = time.perf_counter(), time.process_time()
    labels, groups = [], 0
    for category, frame in offers.groupby("category"):
        grouping = offers_group(frame)
        labels.append(pd.Series(grouping.labels, index=frame.index).astype(str) + f"-{category}")
        groups += len(grouping.groups)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu
    predicted = pd.concat(labels).reindex(offers.index).astype("category").cat.codes.to_numpy()
    figures = score(predicted, offers["gold"].to_numpy()) if count <= 200_000 else {}
    return {
        "offers": count,
        "categories": int(offers["category"].nunique()),
        "groups": groups,
        "seconds": round(seconds, 1),
        "cpu_seconds": round(cpu_seconds, 1),
        "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "quality": figures,
    }


def scale(counts: list[int], timeout: float) -> list[dict]:
    rows = []
    for count in counts:
        say(f"scale: {count:,} synthetic offers")
        command = [sys.executable, str(ROOT / "bench" / "catalog.py"), "--scale-one", str(count)]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
        except subprocess.TimeoutExpired:
            rows.append({"offers": count, "error": f"did not finish within {timeout:.0f} s"})
            continue
        if done.returncode:
            rows.append({"offers": count, "error": done.stderr[-2000:]})
            continue
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
        say(f"  {rows[-1]}")
    return rows
