"""How the quality score of catalog/grouping/communities.py was chosen, reproducibly.

Four formulas over the same groups (the pipeline's groups at the similarity threshold bench/catalog.py
picks): the earlier edge proportion x mean similarity x (1 - conductance), the weakest edge instead of the
mean, and that divided by two size penalties. The choice is made on one half of WDC's groups (a seeded
random half) by the published precision at the default publish threshold (0.3), and shown on the other half
and on Abt-Buy, which took no part in the choice.

Run from the project root:  .venv/bin/python bench/catalog_score_choice.py
"""

import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.catalog_data import score  # noqa: E402
from bench.catalog_run import _pools  # noqa: E402

PUBLISH = 0.3
THRESHOLDS = {"abt-buy": 0.3, "wdc-block-small": 0.5}  # bench/catalog.py's best-F1 similarity thresholds


def formulas(groups: pd.DataFrame) -> dict[str, pd.Series]:
    tight = groups["edge_proportion"] * (1 - groups["conductance"])
    weakest = tight * groups["min_similarity"]
    size = groups["size"] / 2
    return {
        "proportion x mean x (1 - conductance) (before)": tight * groups["mean_similarity"],
        "proportion x min x (1 - conductance)": weakest,
        "... / sqrt(size / 2)": weakest / np.sqrt(size),
        "... / (1 + log2(size / 2)) (chosen)": weakest / (1 + np.log2(size)),
    }


def published(labels: np.ndarray, gold: np.ndarray, quality: pd.Series, chosen: set) -> str:
    """Precision and gold pairs of the groups (labels in `chosen`) whose quality passes PUBLISH."""
    keep = np.isin(labels, quality.index[(quality >= PUBLISH) & quality.index.isin(chosen)])
    figures = score(labels, gold, keep)
    return f"P {figures['precision']:.3f}, {figures['gold_pairs_found']:,} gold pairs"


def main() -> int:
    from catalog.grouping.build import GroupingParams, offers_group

    for name, frame in _pools(False).items():
        grouping = offers_group(frame, GroupingParams.from_dict({"threshold": THRESHOLDS[name]}))
        groups = grouping.groups.set_index("label")
        gold = frame["gold"].to_numpy()
        labels = np.asarray(groups.index)
        halves = {"all groups": set(labels)}
        if name == "wdc-block-small":
            first = np.random.default_rng(0).random(len(labels)) < 0.5
            halves = {"half 1 (choice)": set(labels[first]), "half 2 (shown)": set(labels[~first])}
        for half, chosen in halves.items():
            print(f"{name}, {half}: published (quality >= {PUBLISH})")
            for formula, quality in formulas(groups).items():
                print(f"  {formula:48s} {published(grouping.labels, gold, quality, chosen)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
