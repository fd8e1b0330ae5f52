"""CPU seconds per stage of the grouping of one synthetic category (no database, no profiler overhead).

    OMP_NUM_THREADS=1 .venv/bin/python bench/catalog_stages.py [--offers 1000000] [--category 0]

Generates `--offers` synthetic offers as the scale rows do (bench/catalog_scale.py, ~50,000 per category),
groups one category with catalog.grouping.build.offers_group and prints one JSON line: the CPU seconds
(time.process_time) spent in each stage, the rest under "other". The 1M data's categories are denser in
near-duplicates than a 50k run's (see bench/results/catalog.md), so the default is a category of the 1M data.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.catalog_scale import synthetic_offers  # noqa: E402
from catalog.grouping import build  # noqa: E402

STAGES = ("features_build", "candidate_pairs", "best_per_shop", "rule_cuts", "cross_shop_best",
          "communities_find", "constrained_merge", "_groups")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--offers", type=int, default=1_000_000)
    parser.add_argument("--category", type=int, default=0)
    args = parser.parse_args()
    offers = synthetic_offers(args.offers)
    frame = offers[offers["category"] == args.category].reset_index(drop=True)
    spent: dict[str, float] = {}

    def timed(name, function):
        def wrapper(*positional, **named):
            started = time.process_time()
            try:
                return function(*positional, **named)
            finally:
                spent[name] = spent.get(name, 0.0) + time.process_time() - started

        return wrapper

    for name in STAGES:
        setattr(build, name, timed(name, getattr(build, name)))
    started, wall = time.process_time(), time.perf_counter()
    grouping = build.offers_group(frame)
    total = time.process_time() - started
    spent["other"] = total - sum(spent.values())
    print(json.dumps({
        "offers": len(frame), "edges": len(grouping.edges), "groups": len(grouping.groups),
        "cpu_seconds": round(total, 2), "wall_seconds": round(time.perf_counter() - wall, 2),
        "stages": {name: round(seconds, 2) for name, seconds in spent.items()},
    }))  # fmt: skip


if __name__ == "__main__":
    main()
