"""A catalog's title from its members: consensus words in their usual order, brand, model number, unit."""

from __future__ import annotations

import re
from collections import Counter, defaultdict

from catalog.normalize import MODEL_PUNCTUATION, NormalizedTitle, model_key

WORD = re.compile(r"\S+")


def _unit(attributes: dict) -> str:
    parts = []
    if "volume_ml" in attributes:
        ml = attributes["volume_ml"]
        parts.append(f"{ml / 1000:g}L" if ml >= 1000 else f"{ml:g}ml")
    if "weight_g" in attributes:
        g = attributes["weight_g"]
        parts.append(f"{g / 1000:g}kg" if g >= 1000 else f"{g:g}g")
    if "storage_gb" in attributes:
        parts.append(f"{attributes['storage_gb']:g}GB")
    if "count" in attributes:
        parts.append(f"{attributes['count']:g}개")
    return " ".join(parts)


def catalog_title(titles: list[NormalizedTitle], brands: list[str] | None = None, *, limit: int = 120) -> str:
    """Words that at least half of the members use, in their average position; then model number and unit."""
    if not titles:
        return ""
    counts: Counter[str] = Counter()
    positions: defaultdict[str, list[float]] = defaultdict(list)
    shown: defaultdict[str, Counter] = defaultdict(Counter)
    for title in titles:
        words = [w.strip("-,;:") for w in WORD.findall(title.text)]
        words = [w for w in words if w]
        keys = [MODEL_PUNCTUATION.sub("", word.lower()) for word in words]  # "-" and "." left out
        for place, (word, key) in enumerate(zip(words, keys, strict=True)):
            positions[key].append(place / max(len(words), 1))
            shown[key][word] += 1
        counts.update(set(keys))
    needed = max(2, (len(titles) + 1) // 2) if len(titles) > 1 else 1  # a pair: words both use
    chosen = [word for word, count in counts.items() if count >= needed]
    if not chosen:  # nothing shared: the shortest member's title
        return min((t.text for t in titles if t.text), key=len, default="")[:limit]
    chosen.sort(key=lambda word: sum(positions[word]) / len(positions[word]))
    words = [shown[word].most_common(1)[0][0] for word in chosen]
    brand = Counter(b.strip() for b in brands or [] if b and b.strip()).most_common(1)
    if brand and brand[0][0].lower() not in {w.lower() for w in words}:
        words.insert(0, brand[0][0])
    models = Counter(m for t in titles for m in t.model_numbers).most_common(1)
    if models and not any(models[0][0] == model_key(w) for w in words):
        words.append(models[0][0])
    attributes = Counter(tuple(sorted(t.attributes.items())) for t in titles if t.attributes).most_common(1)
    unit = _unit(dict(attributes[0][0])) if attributes else ""
    return " ".join(words + ([unit] if unit else []))[:limit]
