"""Offer intake: preview and apply an offer file (all or nothing), and classify uncategorised offers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from catalog.errors import CatalogError
from catalog.importing import OfferFile, parse_offers_file
from catalog.models import Offer, Shop
from core.history import history_insert_select, save_with_history
from core.inserts import insert_with_history
from labeling.importing.parser import CategoryRef
from labeling.models import Category

PREVIEW_ROWS = 200
Progress = Callable[[float, str], None]  # (share done, what is being done): a job's progress


def _silent(share: float, stage: str) -> None:
    """No one is watching (a command, a test)."""


def _within(progress: Progress, start: float, width: float) -> Progress:
    """`progress` for a step that covers [start, start + width] of the whole."""
    return lambda share, stage: progress(start + width * share, stage)


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


def offers_preview(
    *, data: bytes, file_name: str = "", encoding: str | None = None, progress: Progress = _silent
) -> OfferPreview:
    """What applying the file would do: new / changed / unchanged offers, new shops, refused rows."""
    parsed = parse_offers_file(
        data,
        categories=category_refs(),
        file_name=file_name,
        encoding=encoding,
        progress=lambda line, lines: progress(0.85 * line / lines, f"reading line {line:,} of {lines:,}"),
    )
    progress(0.9, f"comparing {len(parsed.rows):,} rows with the offers")
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
def offers_apply(
    *,
    data: bytes,
    user,
    file_name: str = "",
    encoding: str | None = None,
    classify_with=None,
    progress: Progress = _silent,
) -> dict:
    """Create and update offers by (shop, external id); refuses the whole file when any row is refused.

    With `classify_with` (a dataset), the file's offers left without a category get the category its
    champion predicts, in the same transaction: a classification that fails leaves nothing imported."""
    preview = offers_preview(
        data=data, file_name=file_name, encoding=encoding, progress=_within(progress, 0, 0.4)
    )
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
    ids = _write(parsed, preview.new_shops, user=user, reason=reason, progress=progress)
    result = {
        "new": preview.new,
        "changed": preview.changed,
        "unchanged": preview.unchanged,
        "shops": preview.new_shops,
    }
    if classify_with is not None:
        result["classified"] = offers_classify(
            dataset=classify_with, user=user, offer_ids=ids, progress=_within(progress, 0.9, 0.1)
        )
    return result


def _write(parsed: OfferFile, new_shops: list[str], *, user, reason: str, progress: Progress) -> list[int]:
    """Shops, new offers (COPY) and changed offers (bulk update), all with history; the file's offer ids."""
    for name in new_shops:
        save_with_history(Shop(name=name), user=user, reason=reason)
    shops = dict(Shop.objects.values_list("name", "id"))
    existing = _existing(parsed, shops)
    now = timezone.now()
    fresh, stale = [], []
    for row in parsed.rows:
        offer = existing.get((shops[row.shop], row.external_id))
        if offer is None:
            fresh.append(
                {"shop_id": shops[row.shop], "external_id": row.external_id, "title": row.title,
                 "price": row.price, "brand": row.brand, "category_id": row.category_id, "attributes": {},
                 "image_url": "", "image_vector": None, "created_at": now, "modified_at": now}
            )  # fmt: skip
        elif _differs(offer, row):
            offer.title, offer.price, offer.brand, offer.modified_at = row.title, row.price, row.brand, now
            if row.category_id is not None:
                offer.category_id = row.category_id
            stale.append(offer)
    _offers_update(stale, user=user, reason=reason, progress=_within(progress, 0.45, 0.2))
    fresh_ids = []
    for start in range(0, len(fresh), UPDATE_CHUNK):
        progress(0.65 + 0.25 * start / len(fresh), f"adding new offers: {start:,} of {len(fresh):,}")
        fresh_ids += insert_with_history(Offer, fresh[start : start + UPDATE_CHUNK], user=user, reason=reason)
    return [offer.id for offer in existing.values()] + fresh_ids


def offers_classify(
    *,
    dataset,
    user,
    limit: int | None = None,
    offer_ids: list[int] | None = None,
    progress: Progress = _silent,
) -> int:
    """Give uncategorised offers (all, or those of `offer_ids`) the category the dataset's champion (its
    ensemble) predicts: in process, in batches, not logged as API predictions; every change is a history
    row. Returns the number of offers classified."""
    from training.services.classify import MAX_BATCH, TextToClassify, ensemble_top
    from training.serving import ensemble_for

    pending = Offer.objects.filter(category__isnull=True).order_by("id")
    if offer_ids is not None:
        pending = pending.filter(id__in=offer_ids)
    offers = list(pending[:limit] if limit else pending)
    if not offers:
        return 0
    ensemble = ensemble_for(dataset)
    if not ensemble.members and not ensemble.rules:
        raise CatalogError(f"Dataset {dataset.name} has no champion and no rules yet: train a model first.")
    for start in range(0, len(offers), MAX_BATCH):
        progress(0.9 * start / len(offers), f"classifying: {start:,} of {len(offers):,} offers")
        batch = offers[start : start + MAX_BATCH]
        items = [TextToClassify(text=f"{o.brand} {o.title}".strip() or "-", title=o.title) for o in batch]
        for offer, (ids, _) in zip(batch, ensemble_top(ensemble, items, 1), strict=True):
            offer.category_id = ids[0] if ids else None
    placed, now = [offer for offer in offers if offer.category_id is not None], timezone.now()
    for offer in placed:
        offer.modified_at = now  # so the next incremental run attaches it
    progress(0.9, f"writing the categories of {len(placed):,} offers")
    _offers_update(placed, user=user, reason=f"classified by the champion of {dataset.name}")
    return len(placed)


UPDATED = ("title", "price", "brand", "category_id", "modified_at")
UPDATE_CHUNK = 20_000


@transaction.atomic
def _offers_update(offers: list[Offer], *, user, reason: str, progress: Progress = _silent) -> None:
    """Write the UPDATED fields of `offers`, with one history row each. PostgreSQL: one UPDATE ... FROM
    unnest(arrays) per chunk and the history rows by INSERT ... SELECT (Django's bulk_update builds a CASE
    expression per row and field, which costs more than the rest of an import)."""
    if connection.vendor != "postgresql":
        bulk_update_with_history(
            offers, Offer, list(UPDATED), batch_size=500, default_user=user, default_change_reason=reason
        )
        return
    assignments = ", ".join(f"{name} = c.{name}" for name in UPDATED)
    sql = (
        f"UPDATE {Offer._meta.db_table} AS o SET {assignments} FROM unnest(%s::bigint[], %s::text[], "
        f"%s::numeric[], %s::text[], %s::bigint[], %s::timestamptz[]) AS c(id, {', '.join(UPDATED)}) "
        "WHERE o.id = c.id"
    )
    with connection.cursor() as cursor:
        for start in range(0, len(offers), UPDATE_CHUNK):
            progress(start / len(offers), f"updating offers: {start:,} of {len(offers):,}")
            chunk = offers[start : start + UPDATE_CHUNK]
            columns = [[offer.id for offer in chunk]]
            columns += [[getattr(offer, name) for offer in chunk] for name in UPDATED]
            cursor.execute(sql, columns)
    history_insert_select(Offer, [offer.id for offer in offers], user=user, reason=reason)
