"""Build catalog/demo_data/offers.csv.gz from the Abt-Buy complete mapping (deterministic, standard library).

Run from the project root:
    python scripts/build_catalog_demo.py --datasets ../shared/datasets --out catalog/demo_data

Takes every Abt and Buy offer whose title names one of the demo categories' words (TVs, cameras, audio, GPS,
phones), so the demo shows matched catalogs, offers alone in their shop, and near-duplicates that the rules
keep apart. Categories are assigned here by keyword (Abt-Buy has none); gzip with mtime 0, rows sorted.
"""

import argparse
import csv
import gzip
import io
import re
from pathlib import Path

CATEGORIES = [  # (small category, words in the title), first match wins
    ("TV & video", r"\b(tv|hdtv|lcd|plasma|television|dvd|blu-ray|projector)\b"),
    ("cameras", r"\b(camera|camcorder|lens|slr|cyber-shot|powershot|coolpix)\b"),
    ("audio", r"\b(speaker|speakers|headphones?|receiver|subwoofer|turntable|ipod|stereo|audio|earbuds?)\b"),
    ("navigation & phones", r"\b(gps|navigator|nuvi|phone|cordless|handset|bluetooth)\b"),
]
PRICE = re.compile(r"[^0-9.]")


def category_of(title: str) -> str:
    lower = title.lower()
    return next((name for name, words in CATEGORIES if re.search(words, lower)), "")


def rows(folder: Path):
    for shop, name, brand_column in (("Abt", "Abt.csv", None), ("Buy", "Buy.csv", "manufacturer")):
        with (folder / name).open(encoding="latin-1", newline="") as handle:
            for record in csv.DictReader(handle):
                title = " ".join(record["name"].split())
                category = category_of(title)
                if not category:
                    continue
                price = PRICE.sub("", record.get("price") or "")
                brand = (record.get(brand_column) or "") if brand_column else ""
                price = price if price.count(".") <= 1 else ""
                yield [shop, record["id"], title, price, brand, f"electronics/{category}"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--datasets", type=Path, default=Path("../shared/datasets"))
    parser.add_argument("--out", type=Path, default=Path("catalog/demo_data"))
    args = parser.parse_args()
    found = sorted(
        rows(args.datasets / "product-matching" / "abt-buy-complete-mapping"), key=lambda r: (r[0], r[1])
    )
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["shop", "external_id", "title", "price", "brand", "category"])
    writer.writerows(found)
    target = args.out / "offers.csv.gz"
    with target.open("wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as packed:
        packed.write(text.getvalue().encode("utf-8"))
    print(f"{len(found)} offers")


if __name__ == "__main__":
    main()
