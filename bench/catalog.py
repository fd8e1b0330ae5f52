"""Benchmark of catalog auto-generation: grouping quality on Abt-Buy and WDC Products against two peers,
and the cost of a full build on synthetic offers (100k, 200k, 1M).

Quality: pairwise precision / recall / F1, purity and coverage of all groups and of the published ones
across the quality threshold, for the pipeline of catalog/grouping (`offers_group`, per-dataset similarity
threshold chosen from a small sweep, as a category manager sets it per category), a plain TF-IDF cosine kNN +
connected components at its best threshold, and pyJedAI's unsupervised workflow.
Scale (bench/catalog_scale_db.py): the real build on PostgreSQL through a Celery worker with two processes,
one task per category, at each size, then 10,000 new offers attached by an incremental run; wall and CPU
seconds, peak memory. `--scale` adds rows of the pure grouping pipeline alone (no database), in one process.
Writes bench/results/catalog.md and catalog.json; `--part` runs one part and keeps the other part's last
figures from catalog.json (`--part report` only rewrites the report from catalog.json).

Run from the project root:  make bench
                       or:  scripts/with-services.sh .venv/bin/python bench/catalog.py [--quick]
                            [--part quality|scale|report] [--scale-db 100000,200000,1000000]
"""

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.catalog_run import PYJEDAI_DIR, TARGET_PRECISION, quality, scale, scale_one  # noqa: E402
from bench.catalog_scale_report import measured_lines, scale_db_lines, scale_db_verdicts  # noqa: E402
from bench.common import RESULTS, ROOT, write_results  # noqa: E402
from bench.measure import code_version  # noqa: E402

PUBLISH = 0.3  # CategoryRules.publish_threshold's default
THRESHOLDS = {"abt-buy": [0.3, 0.35, 0.4, 0.45], "wdc-block-small": [0.5, 0.6, 0.7, 0.8]}


def _arguments(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: a WDC sample, no scale rows")
    parser.add_argument("--part", choices=["all", "quality", "scale", "report"], default="all")
    parser.add_argument(
        "--scale-db", default="100000,200000,1000000", help="synthetic offer counts of the real build"
    )
    parser.add_argument("--scale", default="", help="offer counts of the pure pipeline alone ('' for none)")
    parser.add_argument("--scale-timeout", type=float, default=5400, help="seconds allowed per scale row")
    parser.add_argument("--scale-one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--scale-db-one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--scale-db-out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument(
        "--scale-from",
        type=Path,
        help="with --part report: take the scale rows from this catalog.json (e.g. another branch's)",
    )
    parser.add_argument(
        "--scale-deadline",
        type=float,
        help="Unix time by which a scale row must end: the full run is cancelled 10 min before it "
        "(figures of the categories done), the incremental run at it",
    )
    parser.add_argument(
        "--pyjedai", type=Path, default=PYJEDAI_DIR, help=f"folder holding pyJedAI ({PYJEDAI_DIR})"
    )
    parser.add_argument("--results", type=Path, default=RESULTS)
    return parser.parse_args(argv)


def verdicts(results: dict) -> list[dict]:
    rows = []
    for name, figures in results["quality"].items():
        # the published catalogs at the default publish threshold (catalog.models.CategoryRules)
        published = next(
            r for r in figures["ours"]["published_by_quality"] if r["quality_at_least"] == PUBLISH
        )
        rows.append(
            {
                "target": f"{name}: published precision (quality >= {PUBLISH}) >= {TARGET_PRECISION}",
                "actual": published["precision"],
                "verdict": "pass" if published["precision"] >= TARGET_PRECISION else "FAIL",
            }
        )
        at = figures["gold_pairs_at_p95"]
        peers = max(at["tfidf_components"], at["pyjedai"])
        rows.append(
            {
                "target": f"{name}: more gold pairs at P >= 0.95 than either peer ({peers})",
                "actual": at["ours_published"],
                "verdict": "pass" if at["ours_published"] > peers else "FAIL",
            }
        )
    if "abt-buy" in results["quality"]:
        f1 = results["quality"]["abt-buy"]["ours"]["all_groups"]["f1"]
        rows.append(
            {
                "target": "abt-buy: F1 >= 0.90 over all groups",
                "actual": f1,
                "verdict": "pass" if f1 >= 0.90 else "FAIL",
            }
        )
    rows += scale_db_verdicts(results.get("scale_db", []))
    return rows


def _score_cells(s: dict) -> str:
    return (
        f"{s['precision']:.3f} | {s['recall']:.3f} | {s['f1']:.3f} | {s['purity']:.3f} | {s['coverage']:.3f}"
    )


def _quality_tables(ours: dict, copies: dict | None) -> list[str]:
    """The precision-recall table across the quality threshold, then the precision of each quality bucket."""
    known = "precision_known_gold" in ours["published_by_quality"][0]
    lines = [
        "",
        "Published catalogs by quality threshold (ours):",
        "",
        "| quality >= | P | R | F1 | purity | coverage | gold pairs found |"
        + (" P, filler offers left out |" if known else ""),
        "|---:|---:|---:|---:|---:|---:|---:|" + ("---:|" if known else ""),
    ]
    lines += [
        f"| {r['quality_at_least']} | {_score_cells(r)} | {r['gold_pairs_found']:,} / {r['gold_pairs']:,} |"
        + (f" {r['precision_known_gold']:.3f} |" if known else "")
        for r in ours["published_by_quality"]
    ]
    lines += [
        "",
        "Groups by quality bucket (ours, not cumulative):",
        "",
        "| quality in | groups | pairs | P |",
        "|---|---:|---:|---:|",
    ]
    buckets = ours.get("by_quality_bucket", [])
    ends = [b["quality_from"] for b in buckets[1:]] + [1.0]
    lines += [
        f"| [{b['quality_from']}, {end}) | {b['groups']:,} | {b['pairs']:,} | {b['precision']:.3f} |"
        for b, end in zip(buckets, ends, strict=True)
    ]
    if copies and copies["pairs"]:
        lines += [
            "",
            f"Same record in both tables (identical title, description, price, brand): {copies['pairs']:,} "
            f"pairs; the gold calls {copies['gold_apart']:,} of them two products "
            f"({copies['gold_apart_unknown']:,} through the filler id), so grouping an offer with its own "
            f"copy is right {copies['precision']:.1%} of the time by this gold.",
        ]
    return lines


def markdown(results: dict) -> str:
    lines = [
        "# Catalog auto-generation: quality and scale",
        "",
        f"Report written {results['date']} on commit "
        f"{results['code']['commit']} ({'quick' if results['quick'] else 'full'} run; "
        f"{results['cpu_cores']} cores). Command: `scripts/with-services.sh .venv/bin/python "
        "bench/catalog.py` (`--part quality` / `--part scale` measure one part, keep the other's figures).",
        *measured_lines(results),
        "",
        "## Verdicts",
        "",
        "| target | actual | verdict |",
        "|---|---|---|",
    ]
    lines += [f"| {v['target']} | {v['actual']} | {v['verdict']} |" for v in results["verdicts"]]
    for name, figures in results["quality"].items():
        ours = figures["ours"]
        lines += [
            "",
            f"## {name} ({figures['offers']:,} offers)",
            "",
            "| method | P | R | F1 | purity | coverage | seconds |",
            "|---|---:|---:|---:|---:|---:|---:|",
            f"| ours, all groups (similarity >= {ours['threshold']}) | {_score_cells(ours['all_groups'])} | "
            f"{ours['seconds']} |",
        ]
        tfidf = figures["tfidf_components"]
        lines.append(
            f"| TF-IDF kNN + components (best, t={tfidf['best']['threshold']}) | "
            f"{_score_cells(tfidf['best'])} | {tfidf['seconds']} |"
        )
        jedai = figures["pyjedai"]
        if "best" in jedai:
            lines.append(
                f"| pyJedAI unsupervised (best, t={jedai['best']['threshold']}) | "
                f"{_score_cells(jedai['best'])} | {jedai['seconds']} |"
            )
        else:
            lines.append(f"| pyJedAI | {jedai['skipped']} | | | | | |")
        lines += _quality_tables(ours, figures.get("same_record_pairs"))
        lines += [
            "",
            "Similarity threshold sweep (ours, all groups): "
            + "; ".join(
                f"t={run['threshold']}: F1 {run['all_groups']['f1']}" for run in figures["ours_by_threshold"]
            ),
            "",
            f"Edges by rule (ours): {ours['cuts']}",
            "",
            f"Gold pairs found at precision >= 0.95: {figures['gold_pairs_at_p95']}",
        ]
    if results["scale"]:
        lines += [
            "",
            "## Pure grouping pipeline alone (no database, one process, categories of ~50k)",
            "",
            *(
                [
                    f"Rows from the run on commit {results['scale_commit']} (not rerun with the quality).",
                    "",
                ]
                if results.get("scale_commit")
                else []
            ),
            "| offers | categories | groups | wall s | CPU s | peak RSS GB | P / R / F1 |",
            "|---:|---:|---:|---:|---:|---:|---|",
        ]
        for row in results["scale"]:
            if "error" in row:
                lines.append(f"| {row['offers']:,} | error: {row['error'][:200]} | | | | | |")
                continue
            q = row["quality"]
            shown = f"{q['precision']} / {q['recall']} / {q['f1']}" if q else "-"
            lines.append(
                f"| {row['offers']:,} | {row['categories']} | {row['groups']:,} | {row['seconds']} | "
                f"{row['cpu_seconds']} | {row['peak_rss_bytes'] / 2**30:.2f} | {shown} |"
            )
    check = results.get("scale_check")
    if check:
        lines += ["", check]
    lines += scale_db_lines(results)
    earlier = results.get("scale_earlier")
    if earlier:
        lines += [
            "",
            f"Earlier full run on commit {earlier['commit']} (before the constrained join inside "
            "communities; same pipeline otherwise): "
            + "; ".join(
                f"{row['offers']:,} offers {row['seconds']} s wall / {row['cpu_seconds']} CPU s, "
                f"{row['peak_rss_bytes'] / 2**30:.2f} GB"
                for row in earlier["rows"]
            )
            + f"; CPU time(200k) / time(100k) = {earlier['ratio']}.",
        ]
    lines += [
        "",
        "WDC names no shops (page_url is mostly empty), so every WDC offer is its own shop and the "
        "cross-shop constraint cannot act.",
    ]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    args = _arguments(argv)
    if args.scale_one:
        print(json.dumps(scale_one(args.scale_one)))
        return 0
    if args.scale_db_one:
        from bench.catalog_scale_db import scale_db_one
        from bench.common import setup_django

        setup_django("bench/catalog.py")
        args.scale_db_out.write_text(json.dumps(scale_db_one(args.scale_db_one, args.scale_deadline)))
        return 0
    import os

    earlier = args.results / "catalog.json"
    results = json.loads(earlier.read_text()) if earlier.exists() and args.part != "all" else {}
    results.update(
        {
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "quick": args.quick,
            "code": code_version(ROOT),
            "cpu_cores": os.cpu_count(),
        }
    )
    if args.part in ("all", "quality"):
        thresholds = {name: values[1:3] if args.quick else values for name, values in THRESHOLDS.items()}
        results["quality"] = quality(args.quick, thresholds, args.pyjedai)
        results["quality_measured"] = {"date": results["date"], "commit": results["code"]["commit"]}
    if args.part in ("all", "scale") and not args.quick:
        from bench.catalog_scale_db import scale_db

        counts = [int(c) for c in args.scale.split(",") if c]
        results["scale"] = scale(counts, args.scale_timeout)
        counts = [int(c) for c in args.scale_db.split(",") if c]
        # sizes not measured now keep their last row (each row says when and on which commit)
        kept = [row for row in results.get("scale_db", []) if row["offers"] not in counts]
        measured = {"date": results["date"], "commit": results["code"]["commit"]}
        fresh = [
            row | {"measured": measured} for row in scale_db(counts, args.scale_timeout, args.scale_deadline)
        ]
        results["scale_db"] = sorted(kept + fresh, key=lambda row: row["offers"])
        results["scale_measured"] = {
            "date": results["date"],
            "commit": results["code"]["commit"],
            "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        }
    if args.scale_from:
        other = json.loads(args.scale_from.read_text())
        results.update({key: other[key] for key in ("scale_db", "scale_measured") if key in other})
    results.setdefault("scale", [])
    results["verdicts"] = verdicts(results)
    results["failed_targets"] = [v["target"] for v in results["verdicts"] if v["verdict"] != "pass"]
    write_results(args.results, "catalog", results, markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
