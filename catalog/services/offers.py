"""Offer intake: preview and apply an offer file (all or nothing), and classify uncategorised offers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from catalog.errors import CatalogError
from catalog.importing import OfferFile, fingerprint, pack_rows, parse_offers_file, unpack_rows
from catalog.models import Offer, Shop
from core.history import UPDATE_CHUNK, save_with_history, update_with_history
from core.inserts import insert_with_history
from labeling.importing.parser import CategoryRef
from labeling.models import Category

PREVIEW_ROWS = 200
IMPORT_LOCK = (0x6F66, 0)  # advisory lock ("of"): one offer file applied at a time
Progress = Callable[[float, str], None]  # (share done, what is being done): a job's progress


def _silent(share: float, stage: str) -> None:
    """No one is watching (a command, a test)."""


def _within(progress: Progress, start: float, width: float) -> Progress:
    """`progress` for a step that covers [start, start + width] of the whole."""
    return lambda share, stage: progress(start + width * share, stage)


Known = tuple  # an offer already there: (id, title, price, brand, category_id)


@dataclass
class OfferPreview:
    parsed: OfferFile
    new: int
    changed: int
    unchanged: int
    new_shops: list[str]
    existing: dict[tuple[int, str], Known]  # the file's offers already there, by (shop id, external id)
    key: str = ""  # the parse's fingerprint (catalog.importing.fingerprint)

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

    def packed(self) -> bytes | None:
        """The checked rows for the apply (`offers_apply(checked=...)`); None when any row is refused."""
        if self.parsed.file_errors or self.parsed.errors:
            return None
        return pack_rows(self.parsed, self.key)


def category_refs() -> list[CategoryRef]:
    small = Category.objects.filter(level=Category.Level.SMALL, status=Category.Status.ACTIVE)
    return [CategoryRef(c.id, c.parent.name, c.name) for c in small.select_related("parent")]


def offers_preview(
    *, data: bytes, file_name: str = "", encoding: str | None = None, progress: Progress = _silent
) -> OfferPreview:
    """What applying the file would do: new / changed / unchanged offers, new shops, refused rows."""
    categories = category_refs()
    parsed = _parsed(data, categories, file_name=file_name, encoding=encoding, progress=progress)
    return _compared(parsed, fingerprint(data, categories, encoding), progress)


def _parsed(
    data: bytes, categories, *, file_name: str, encoding: str | None, progress: Progress
) -> OfferFile:
    return parse_offers_file(
        data,
        categories=categories,
        file_name=file_name,
        encoding=encoding,
        progress=lambda line, lines: progress(0.85 * line / lines, f"reading line {line:,} of {lines:,}"),
    )


def _compared(parsed: OfferFile, key: str, progress: Progress) -> OfferPreview:
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
        elif _update_of(old, row) is not None:
            changed += 1
        else:
            unchanged += 1
    new_shops = sorted({row.shop for row in parsed.rows if row.shop and row.shop not in shops})
    return OfferPreview(parsed, new, changed, unchanged, new_shops, existing, key)


def _existing(parsed: OfferFile, shops: dict) -> dict[tuple[int, str], Known]:
    """The file's offers already there, read as plain values (100k model instances cost seconds). PostgreSQL:
    joined on the file's (shop, external id) pairs sent as two arrays, not an IN list of 100k values."""
    keys = [(shops[row.shop], row.external_id) for row in parsed.rows if row.shop in shops]
    if not keys:
        return {}
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT o.shop_id, o.external_id, o.id, o.title, o.price, o.brand, o.category_id "
                f"FROM {Offer._meta.db_table} o JOIN unnest(%s::bigint[], %s::text[]) "
                "AS f(shop_id, external_id) USING (shop_id, external_id)",
                [list(column) for column in zip(*keys, strict=True)],
            )
            found = cursor.fetchall()
    else:  # the two IN lists match every shop with every external id: keep the file's pairs only
        wanted = set(keys)
        found = [
            offer
            for offer in Offer.objects.filter(
                shop_id__in={shop for shop, _ in keys}, external_id__in={external for _, external in keys}
            ).values_list("shop_id", "external_id", "id", "title", "price", "brand", "category_id")
            if offer[:2] in wanted
        ]
    return {(shop, external): tuple(rest) for shop, external, *rest in found}


def _update_of(old: Known, row) -> tuple | None:
    """(title, price, brand, category_id) the row gives an offer already there; None when it has them
    already (a row without a category keeps the offer's)."""
    category = row.category_id if row.category_id is not None else old[4]
    values = (row.title, row.price, row.brand, category)
    return None if values == old[1:] else values


@transaction.atomic
def offers_apply(
    *,
    data: bytes,
    user,
    file_name: str = "",
    encoding: str | None = None,
    classify_with=None,
    progress: Progress = _silent,
    checked: bytes | None = None,
) -> dict:
    """Create and update offers by (shop, external id); refuses the whole file when any row is refused.

    `checked`: the rows its preview kept (`OfferPreview.packed`), used when they were parsed from these
    bytes against the categories as they are now; else the file is read and checked again.
    With `classify_with` (a dataset), the file's offers left without a category get the category its
    champion predicts, in the same transaction: a classification that fails leaves nothing imported."""
    _one_apply_at_a_time()
    categories, checking = category_refs(), _within(progress, 0, 0.4)
    key = fingerprint(data, categories, encoding)
    parsed = unpack_rows(checked, key)
    if parsed is None:
        parsed = _parsed(data, categories, file_name=file_name, encoding=encoding, progress=checking)
    preview = _compared(parsed, key, checking)
    if parsed.file_errors:
        raise CatalogError(f"Nothing imported: {parsed.file_errors[0]}.")
    if parsed.errors:
        first = parsed.errors[0]
        raise CatalogError(
            f"Nothing imported: {len(parsed.errors)} row(s) refused, "
            f"first at line {first.line}: {first.error}."
        )
    reason = f"offer import {file_name}".strip()
    ids = _write(preview, user=user, reason=reason, progress=progress)
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


def _one_apply_at_a_time() -> None:
    """Wait for another file's apply to commit (PostgreSQL): this one then reads the offers that one wrote,
    instead of adding them a second time (refused by the unique constraint: the whole file failed)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", list(IMPORT_LOCK))


def _write(preview: OfferPreview, *, user, reason: str, progress: Progress) -> list[int]:
    """Shops, new offers (COPY) and changed offers (set-based update), all with history; the file's offer
    ids. The offers already there are those the counts were made from, read in this transaction."""
    for name in preview.new_shops:
        save_with_history(Shop(name=name), user=user, reason=reason)
    shops = dict(Shop.objects.values_list("name", "id"))
    now = timezone.now()
    fresh, stale = [], []
    for row in preview.parsed.rows:
        old = preview.existing.get((shops[row.shop], row.external_id))
        if old is None:
            fresh.append(
                {"shop_id": shops[row.shop], "external_id": row.external_id, "title": row.title,
                 "price": row.price, "brand": row.brand, "category_id": row.category_id, "attributes": {},
                 "image_url": "", "image_vector": None, "created_at": now, "modified_at": now}
            )  # fmt: skip
        elif (values := _update_of(old, row)) is not None:
            stale.append((old[0], *values, now))
    _offers_update(stale, user=user, reason=reason, progress=_within(progress, 0.45, 0.2))
    fresh_ids = []
    for start in range(0, len(fresh), UPDATE_CHUNK):
        progress(0.65 + 0.25 * start / len(fresh), f"adding new offers: {start:,} of {len(fresh):,}")
        fresh_ids += insert_with_history(Offer, fresh[start : start + UPDATE_CHUNK], user=user, reason=reason)
    return [old[0] for old in preview.existing.values()] + fresh_ids


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
    now = timezone.now()  # modified now: the next incremental run attaches them
    placed = [
        (o.id, o.title, o.price, o.brand, o.category_id, now) for o in offers if o.category_id is not None
    ]
    progress(0.9, f"writing the categories of {len(placed):,} offers")
    _offers_update(placed, user=user, reason=f"classified by the champion of {dataset.name}")
    return len(placed)


UPDATED = ("title", "price", "brand", "category_id", "modified_at")


@transaction.atomic
def _offers_update(values: list[tuple], *, user, reason: str, progress: Progress = _silent) -> None:
    """Write offers' UPDATED fields, `values` = (id, *UPDATED) each, with one history row each (set-based)."""
    update_with_history(
        Offer, UPDATED, values, user=user, reason=reason,
        progress=lambda done, total: progress(done / total, f"updating offers: {done:,} of {total:,}"),
    )  # fmt: skip
