"""Offer files (CSV/TSV or JSONL, bytes) -> validated rows, with a reason on every refused row.

Pure standard library, no Django: decoding (UTF-8, BOM, CP949 detected), delimiter choice, quoting errors and
category matching come from the examples import (`labeling.importing.parser`), so both imports read files
the same way. Columns: shop, external_id, title, price, brand, category (price, brand, category optional).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from labeling.importing.parser import (
    CategoryMatcher,
    CategoryRef,
    ImportFileError,
    choose_delimiter,
    clean,
    csv_problem,
    decode,
    numbered_rows,
    read_header,
    shown,
)

COLUMNS = ("shop", "external_id", "title", "price", "brand", "category")
REQUIRED = ("shop", "external_id", "title")
MAX_TITLE = 500
MAX_PRICE = Decimal("999999999999")
PROGRESS_ROWS = 5_000  # rows between two calls of a parse's `progress`
PACKED_FORMAT = 1  # of `pack_rows`: a kept pack of another format is read as stale (the file is parsed again)


@dataclass
class OfferRow:
    line: int
    shop: str
    external_id: str
    title: str
    price: Decimal | None = None
    brand: str = ""
    category_id: int | None = None
    category_text: str = ""
    error: str = ""

    def as_dict(self) -> dict:
        return {
            "line": self.line,
            "shop": self.shop,
            "external_id": self.external_id,
            "title": shown(self.title),
            "price": str(self.price) if self.price is not None else "",
            "brand": self.brand,
            "category": self.category_text,
            "error": self.error,
        }


@dataclass
class OfferFile:
    encoding: str = ""
    rows: list[OfferRow] = field(default_factory=list)
    file_errors: list[str] = field(default_factory=list)

    @property
    def errors(self) -> list[OfferRow]:
        return [row for row in self.rows if row.error]


def _price(text: str) -> tuple[Decimal | None, str]:
    text = text.strip().replace(",", "").lstrip("$₩")
    if not text:
        return None, ""
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None, f"price '{shown(text)}' is not a number"
    if not value.is_finite() or math.isnan(float(value)):
        return None, f"price '{shown(text)}' is not a number"
    if value < 0 or value > MAX_PRICE:
        return None, f"price {shown(text)} is out of range"
    return value.quantize(Decimal("0.01")), ""


def _row(line: int, values: dict, matcher: CategoryMatcher, seen: dict) -> OfferRow:
    cell = {name: clean(str(values.get(name) or "")) for name in COLUMNS}
    row = OfferRow(line, cell["shop"], cell["external_id"], cell["title"], brand=cell["brand"][:100])
    row.category_text = cell["category"]
    problems = [f"no {name.replace('_', ' ')}" for name in REQUIRED if not cell[name]]
    if len(row.title) > MAX_TITLE:
        problems.append(f"title has {len(row.title):,} characters (at most {MAX_TITLE})")
    if len(row.shop) > 100 or len(row.external_id) > 100:
        problems.append("shop or external id longer than 100 characters")
    row.price, problem = _price(cell["price"])
    problems += [problem] if problem else []
    if cell["category"]:
        row.category_id, problem = matcher.resolve(cell["category"])
        problems += [problem] if problem else []
    key = (row.shop, row.external_id)
    if all(key) and key in seen:
        problems.append(f"same shop and external id as line {seen[key]}")
    seen.setdefault(key, line)
    row.error = "; ".join(problems)
    return row


def _csv_records(text: str, delimiter: str | None):
    reader = csv.reader(io.StringIO(text), delimiter=choose_delimiter(text, delimiter), strict=True)
    header = [name.lower() for name in read_header(reader)]
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise ImportFileError(f"missing column(s) {', '.join(missing)}; the header has {', '.join(header)}")
    for line, cells, error in numbered_rows(reader):
        if error is not None:
            raise ImportFileError(f"line {line}: {csv_problem(error, reader.dialect.delimiter)}")
        yield line, dict(zip(header, cells, strict=False))


def _jsonl_records(text: str):
    for line, raw in enumerate(text.split("\n"), start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ImportFileError(f"line {line}: not JSON ({exc.msg})") from None
        if not isinstance(record, dict):
            raise ImportFileError(f"line {line}: a JSON object is expected")
        yield line, record


def parse_offers_file(
    data: bytes,
    *,
    categories: list[CategoryRef],
    file_name: str = "",
    encoding: str | None = None,
    delimiter: str | None = None,
    max_rows: int = 200_000,
    progress: Callable[[int, int], None] | None = None,
) -> OfferFile:
    """Parse an offer file; never raises for bad input (problems are in `file_errors` and rows' `error`).
    `progress(line, lines)` is called every PROGRESS_ROWS rows with the line reached and the file's lines."""
    result = OfferFile()
    try:
        text, result.encoding = decode(data, encoding)
        text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
        if not text.strip():
            raise ImportFileError("the file is empty")
        as_json = file_name.lower().endswith((".jsonl", ".json")) or text.lstrip().startswith("{")
        records = _jsonl_records(text) if as_json else _csv_records(text, delimiter)
        matcher, seen, lines = CategoryMatcher(categories), {}, text.count("\n") + 1
        for line, values in records:
            if len(result.rows) >= max_rows:
                raise ImportFileError(f"more than {max_rows:,} rows: split the file")
            result.rows.append(_row(line, values, matcher, seen))
            if progress is not None and len(result.rows) % PROGRESS_ROWS == 0:
                progress(line, lines)
        if not result.rows:
            raise ImportFileError("the file has no offers")
    except ImportFileError as exc:
        result.file_errors, result.rows = [str(exc)], []
    return result


def fingerprint(data: bytes, categories: list[CategoryRef], encoding: str | None) -> str:
    """What a parse's result depends on: the file's bytes, the categories it was matched against, the
    encoding asked for, the pack's format. Equal fingerprints, equal parses."""
    digest = hashlib.sha256(data)
    refs = sorted([ref.id, ref.large, ref.small] for ref in categories)
    digest.update(json.dumps([PACKED_FORMAT, encoding or "", refs]).encode())
    return digest.hexdigest()


def pack_rows(parsed: OfferFile, key: str) -> bytes:
    """A checked file's rows (no refused row), compact: what an apply needs to write them without reading
    the file again, under the `fingerprint` of what they were parsed from."""
    fields = ("line", "shop", "external_id", "title", "brand", "category_id")
    columns = {name: [getattr(row, name) for row in parsed.rows] for name in fields}
    columns["price"] = [None if row.price is None else str(row.price) for row in parsed.rows]
    packed = {"key": key, "encoding": parsed.encoding, "columns": columns}
    return zlib.compress(json.dumps(packed, ensure_ascii=False, separators=(",", ":")).encode(), 1)


def unpack_rows(packed: bytes | None, key: str) -> OfferFile | None:
    """The rows `pack_rows` kept, when they were parsed from what `key` fingerprints; else None."""
    if not packed:
        return None
    kept = json.loads(zlib.decompress(packed))
    if kept.get("key") != key:
        return None
    c = kept["columns"]
    prices = [None if price is None else Decimal(price) for price in c["price"]]
    rows = [
        OfferRow(line, shop, external_id, title, price, brand, category_id)
        for line, shop, external_id, title, price, brand, category_id in zip(
            c["line"],
            c["shop"],
            c["external_id"],
            c["title"],
            prices,
            c["brand"],
            c["category_id"],
            strict=True,
        )
    ]
    return OfferFile(encoding=kept["encoding"], rows=rows)
