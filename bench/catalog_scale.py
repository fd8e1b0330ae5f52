"""Synthetic offers for the scale rows of bench/catalog.py, made from the shared product titles.

Each synthetic product is a real title (Abt, Buy, WDC) with a product code; its offers (2-5 shops) rewrite
the title the way shops do: dropped and reordered tokens, unit rewrites (2L -> 2000ml), shop noise
([무료배송], "Free Shipping"). Products fall into categories of about `per_category` offers.
"""

from __future__ import annotations

import random
import re

import pandas as pd

from bench.catalog_data import abt_buy, wdc_block_small

NOISE = ["[무료배송]", "【특가】", "당일발송", "Free Shipping", "NEW", "(정품)", "Best Price", "[HOT]"]
UNIT = re.compile(r"(\d+)\s*(l|L)\b")


def base_titles() -> list[str]:
    titles = pd.concat([abt_buy()["title"], wdc_block_small()["title"]]).dropna().astype(str)
    return sorted({title.strip() for title in titles if 3 <= len(title.split()) <= 25})


def _rewrite(words: list[str], rng: random.Random) -> str:
    kept = [w for w in words if rng.random() > 0.12 or any(c.isdigit() for c in w)] or words
    if len(kept) > 3 and rng.random() < 0.4:
        i = rng.randrange(len(kept) - 1)
        kept[i], kept[i + 1] = kept[i + 1], kept[i]
    text = " ".join(kept)
    if rng.random() < 0.3:
        text = UNIT.sub(lambda m: f"{int(m.group(1)) * 1000}ml", text)
    if rng.random() < 0.35:
        noise = rng.choice(NOISE)
        text = f"{noise} {text}" if rng.random() < 0.5 else f"{text} {noise}"
    return text


def synthetic_offers(
    count: int, *, per_category: int = 50_000, shops: int = 60, seed: int = 0
) -> pd.DataFrame:
    """`count` offers with columns offer_id, shop, title, price, category, gold."""
    rng = random.Random(seed)
    titles = base_titles()
    rows, product = [], 0
    categories = max(1, round(count / per_category))
    while len(rows) < count:
        base = titles[product % len(titles)].split()
        letters = "ABCDEFGHJKLMNPRSTUVWXZ"
        code = f"{rng.choice(letters)}{rng.choice(letters)}-{rng.randrange(100, 99999)}"
        words = (
            [*base, code] if rng.random() < 0.6 else [*base, rng.choice(["v2", "mk3", "2024", "plus", "x"])]
        )
        price = round(rng.uniform(5, 2000), 2)
        for shop in rng.sample(range(shops), rng.randint(2, 5)):
            rows.append(
                (
                    len(rows),
                    f"shop{shop}",
                    _rewrite(list(words), rng),
                    round(price * rng.uniform(0.85, 1.15), 2),
                    product % categories,
                    product,
                )
            )
            if len(rows) >= count:
                break
        product += 1
    return pd.DataFrame(rows, columns=["offer_id", "shop", "title", "price", "category", "gold"])
