"""Offer intake: preview and apply an offer file (all or nothing), and classify uncategorised offers."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from catalog.errors import CatalogError
from catalog.importing import OfferFile, parse_offers_file
from catalog.models import Offer, Shop
from core.history import save_with_history
from core.inserts import insert_with_history
from labeling.importing.parser import CategoryRef
from labeling.models import Category

PREVIEW_ROWS = 200


@dataclass
class OfferPreview:
    parsed: OfferFile
    new: int
    changed: int
    unchanged: int
    new_shops: list[str]

    def as_dict(self) -> dict:
        return {
            "encoding": self.parsed.encoding,
            "file_errors": self.parsed.file_errors,
            "rows": len(self.parsed.rows),
            "errors": [row.as_dict() for row in self.parsed.errors[:PREVIEW_ROWS]],
            "error_count": len(self.parsed.errors),
            "sample": [row.as_dict() for row in self.parsed.rows[:20]],
            "new": self.new,
            "changed": self.changed,
            "unchanged": self.unchanged,
            "new_shops": self.new_shops,
        }


def category_refs() -> list[CategoryRef]:
    small = Category.objects.filter(level=Category.Level.SMALL, status=Category.Status.ACTIVE)
    return [CategoryRef(c.id, c.parent.name, c.name) for c in small.select_related("parent")]


def offers_preview(*, data: bytes, file_name: str = "", encoding: str | None = None) -> OfferPreview:
    """What applying the file would do: new / changed / unchanged offers, new shops, refused rows."""
    parsed = parse_offers_file(data, categories=category_refs(), file_name=file_name, encoding=encoding)
    shops = dict(Shop.objects.values_list("name", "id"))
    existing = _existing(parsed, shops)
    new = changed = unchanged = 0
    for row in parsed.rows:
        if row.error:
            continue
        old = existing.get((shops.get(row.shop), row.external_id))
        if old is None:
            new += 1
        elif _differs(old, row):
            changed += 1
        else:
            unchanged += 1
    new_shops = sorted({row.shop for row in parsed.rows if row.shop and row.shop not in shops})
    return OfferPreview(parsed, new, changed, unchanged, new_shops)


def _existing(parsed: OfferFile, shops: dict) -> dict:
    ids = {row.external_id for row in parsed.rows}
    rows = Offer.objects.filter(shop_id__in=list(shops.values()), external_id__in=ids)
    return {(offer.shop_id, offer.external_id): offer for offer in rows}


def _differs(offer: Offer, row) -> bool:
    category = row.category_id if row.category_id is not None else offer.category_id
    return (offer.title, offer.price, offer.brand, offer.category_id) != (
        row.title,
        row.price,
        row.brand,
        category,
    )


@transaction.atomic
def offers_apply(*, data: bytes, user, file_name: str = "", encoding: str | None = None) -> dict:
    """Create and update offers by (shop, external id); refuses the whole file when any row is refused."""
    preview = offers_preview(data=data, file_name=file_name, encoding=encoding)
    parsed = preview.parsed
    if parsed.file_errors:
        raise CatalogError(f"Nothing imported: {parsed.file_errors[0]}.")
    if parsed.errors:
        first = parsed.errors[0]
        raise CatalogError(
            f"Nothing imported: {len(parsed.errors)} row(s) refused, "
            f"first at line {first.line}: {first.error}."
        )
    reason = f"offer import {file_name}".strip()
    for name in preview.new_shops:
        save_with_history(Shop(name=name), user=user, reason=reason)
    shops = dict(Shop.objects.values_list("name", "id"))
    existing = _existing(parsed, shops)
    fresh = []
    for row in parsed.rows:
        offer = existing.get((shops[row.shop], row.external_id))
        if offer is None:
            fresh.append(
                {"shop_id": shops[row.shop], "external_id": row.external_id, "title": row.title,
                 "price": row.price, "brand": row.brand, "category_id": row.category_id, "attributes": {},
                 "image_url": "", "image_vector": None}
            )  # fmt: skip
        elif _differs(offer, row):
            offer.title, offer.price, offer.brand = row.title, row.price, row.brand
            if row.category_id is not None:
                offer.category_id = row.category_id
            save_with_history(offer, user=user, reason=reason)
    _stamp(fresh)
    insert_with_history(Offer, fresh, user=user, reason=reason)
    return {
        "new": preview.new,
        "changed": preview.changed,
        "unchanged": preview.unchanged,
        "shops": preview.new_shops,
    }


def _stamp(rows: list[dict]) -> None:
    from django.utils import timezone

    now = timezone.now()
    for row in rows:
        row.update(created_at=now, modified_at=now)


def offers_classify(*, dataset, user, limit: int | None = None) -> int:
    """Give uncategorised offers the category the dataset's champion (its ensemble) predicts, in process.

    Runs in the job (not through HTTP), in batches of the classifier's maximum; every offer's change is a
    history row. Returns the number of offers classified.
    """
    from training.services.classify import MAX_BATCH, TextToClassify, classify

    pending = Offer.objects.filter(category__isnull=True).order_by("id")
    if limit:
        pending = pending[:limit]
    done = 0
    offers = list(pending.only("id", "title", "brand", "category_id"))
    for start in range(0, len(offers), MAX_BATCH):
        batch = offers[start : start + MAX_BATCH]
        items = [TextToClassify(text=f"{o.brand} {o.title}".strip() or "-", title=o.title) for o in batch]
        answers = classify(dataset=dataset, items=items, k=1, user=user)
        with transaction.atomic():
            for offer, answer in zip(batch, answers, strict=True):
                offer.category_id = answer["category"]["id"]
                save_with_history(offer, user=user, reason=f"classified by the champion of {dataset.name}")
        done += len(batch)
    return done
