"""Turn an uploaded CSV/TSV file (bytes) into validated rows for an import of labelled examples.

Pure standard library on purpose: no Django, no database. The caller passes every small category of the
taxonomy as `CategoryRef`s and gets back a `ParsedFile`; problems with the whole file are in
`file_errors` (and then there are no rows), problems with one row are in that row's `error`.
`parse_examples_file` never raises for bad input.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
import unicodedata
from dataclasses import dataclass, field

from labeling.paths import PATH_MARK, category_path

FIELDS = ("external_id", "title", "body", "category")
ALIASES = {
    "external_id": ("external_id", "id", "외부id", "아이디"),
    "title": ("title", "제목"),
    "body": ("body", "text", "content", "본문", "내용"),
    "category": ("category", "label", "분류", "카테고리"),
}
ENCODINGS = {
    "utf-8": "utf-8",
    "utf8": "utf-8",
    "utf-8-sig": "utf-8-sig",
    "utf8-sig": "utf-8-sig",
    "cp949": "cp949",
    "ms949": "cp949",
    "uhc": "cp949",
    "euc-kr": "cp949",
    "euckr": "cp949",
}
DELIMITERS = {",": ",", "\t": "\t", "comma": ",", "tab": "\t"}
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
HEADER_NOISE = re.compile(r"[\s_\-\ufeff]+")
SHOWN_CHARS = 60


class ImportFileError(Exception):
    """A problem with the whole file; raised internally, reported in `ParsedFile.file_errors`."""


@dataclass(frozen=True)
class CategoryRef:
    id: int
    large: str
    small: str


@dataclass
class ParsedRow:
    line: int
    external_id: str
    title: str
    body: str
    category_id: int | None
    category_text: str
    error: str = ""


@dataclass
class ParsedFile:
    encoding: str
    delimiter: str
    columns: dict[str, str]
    rows: list[ParsedRow]
    file_errors: list[str]
    notes: list[str] = field(default_factory=list)  # warnings that do not void the file

    @property
    def valid_rows(self) -> list[ParsedRow]:
        return [row for row in self.rows if not row.error]

    @property
    def error_rows(self) -> list[ParsedRow]:
        return [row for row in self.rows if row.error]


# ---------------------------------------------------------------------------------------------- helpers


# Spreadsheet-safe CSV cells (OWASP's rule against CSV injection), reversible: a round trip changes nothing.
#
# A spreadsheet runs a cell that begins with =, +, -, @, a tab or a carriage return as a formula
# (`=HYPERLINK(...)`). The export puts an apostrophe before such a cell, which spreadsheets show as text and
# hide; it also doubles an apostrophe that begins a cell, so the import can take exactly one away again.
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
QUOTE = "'"


def cell_escape(value: str) -> str:
    """The cell as written to a CSV export."""
    return QUOTE + value if value.startswith((*TRIGGERS, QUOTE)) else value


def cell_unescape(value: str) -> str:
    """The cell as the export had it before `cell_escape`."""
    if value.startswith(QUOTE) and value[1:].startswith((*TRIGGERS, QUOTE)):
        return value[1:]
    return value


def shown(text: str) -> str:
    """A cell as quoted in a message, cut short so a huge cell does not flood the page."""
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…"


def clean(text: str) -> str:
    return unicodedata.normalize("NFC", text.strip())


def derived_id(title: str, body: str) -> str:
    return "sha1:" + hashlib.sha1(f"{title}\n{body}".encode()).hexdigest()[:16]


NAMES_LISTED = 20  # a header of a million unknown columns must not make a million-name message


def quoted_list(names) -> str:
    names = list(names)
    listed = ", ".join(f"'{shown(name)}'" for name in names[:NAMES_LISTED]) or "(none)"
    more = len(names) - NAMES_LISTED
    return f"{listed} and {more:,} more" if more > 0 else listed


# --------------------------------------------------------------------------------------------- decoding


def decode(data: bytes, encoding: str | None) -> tuple[str, str]:
    """(text, encoding used); raises ImportFileError."""
    if encoding is None:
        return detect_and_decode(data)
    name = ENCODINGS.get(encoding.strip().lower().replace("_", "-"))
    if name is None:
        raise ImportFileError(f"unknown encoding '{encoding}': choose utf-8, utf-8-sig or cp949")
    if name == "utf-8" and data.startswith(codecs.BOM_UTF8):
        name = "utf-8-sig"
    return decode_as(data, name), name


def decode_as(data: bytes, name: str) -> str:
    skip = len(codecs.BOM_UTF8) if name == "utf-8-sig" and data.startswith(codecs.BOM_UTF8) else 0
    try:
        return data[skip:].decode("utf-8" if name == "utf-8-sig" else name)
    except UnicodeDecodeError as exc:
        raise ImportFileError(
            f"not valid {name} at byte {skip + exc.start}: choose another encoding"
        ) from None


def detect_and_decode(data: bytes) -> tuple[str, str]:
    if data.startswith(codecs.BOM_UTF8):
        return decode_as(data, "utf-8-sig"), "utf-8-sig"
    if data.startswith(UTF16_BOMS):
        raise ImportFileError("the file is UTF-16 (Excel's “Unicode text”): save it as CSV UTF-8")
    for name in ("utf-8", "cp949"):
        try:
            return data.decode(name), name
        except UnicodeDecodeError:
            continue
    raise ImportFileError("cannot tell the encoding: save the file as UTF-8, or choose the encoding")


def choose_delimiter(text: str, delimiter: str | None) -> str:
    if delimiter is not None:
        if delimiter.lower() not in DELIMITERS:
            raise ImportFileError(f"unknown delimiter '{delimiter}': choose a comma or a tab")
        return DELIMITERS[delimiter.lower()]
    header_line = first_line(text)
    return "\t" if header_line.count("\t") > header_line.count(",") else ","


def first_line(text: str) -> str:
    """The first line that is not blank (the header), without copying the rest of the text."""
    start = 0
    while True:
        end = text.find("\n", start)
        line = text[start:] if end < 0 else text[start:end]
        if line.strip() or end < 0:
            return line
        start = end + 1


# ---------------------------------------------------------------------------------------------- columns


def header_key(name: str) -> str:
    return HEADER_NOISE.sub("", unicodedata.normalize("NFC", name)).lower()


def map_columns(
    header: list[str], overrides: dict[str, str] | None, *, category_required: bool = True
) -> dict[str, int]:
    """Our field -> index in the header; raises ImportFileError listing what is wrong."""
    overrides = dict(overrides or {})
    unknown = set(overrides) - set(FIELDS)
    if unknown:
        raise ValueError(f"unknown fields in columns: {sorted(unknown)}")
    found = {name: find_override(header, name, value) for name, value in overrides.items() if value}
    taken = set(found.values())
    for name in FIELDS:
        if name not in overrides:
            index = find_default(header, name, taken)
            if index is not None:
                found[name] = index
                taken.add(index)
    check_required(header, found, category_required=category_required)
    return found


def find_override(header: list[str], name: str, wanted: str) -> int:
    matches = [i for i, cell in enumerate(header) if cell == wanted.strip()]
    if not matches:
        matches = [i for i, cell in enumerate(header) if header_key(cell) == header_key(wanted)]
    if not matches:
        raise ImportFileError(
            f"the column '{wanted}' chosen for {name} is not in the file; {headers_found(header)}"
        )
    return unique_column(header, matches)


def find_default(header: list[str], name: str, taken: set[int]) -> int | None:
    keys = [header_key(cell) for cell in header]
    for alias in ALIASES[name]:
        matches = [i for i, key in enumerate(keys) if key == header_key(alias) and i not in taken]
        if matches:
            return unique_column(header, matches)
    return None


def unique_column(header: list[str], matches: list[int]) -> int:
    if len(matches) > 1:
        raise ImportFileError(f"the column '{header[matches[0]]}' appears {len(matches)} times: rename one")
    return matches[0]


def check_required(header: list[str], found: dict[str, int], *, category_required: bool = True) -> None:
    problems = []
    if "title" not in found and "body" not in found:
        problems.append(f"no text column (title: {alias_list('title')}; body: {alias_list('body')})")
    if "category" not in found and category_required:
        problems.append(f"no category column ({alias_list('category')})")
    if problems:
        raise ImportFileError("; ".join(problems) + f"; {headers_found(header)}")


def alias_list(name: str) -> str:
    return " or ".join(ALIASES[name])


def headers_found(header: list[str]) -> str:
    return f"headers found: {quoted_list(header)}"


# --------------------------------------------------------------------------------------------- category


def category_key(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip().translate(ASCII_LOWER)


class CategoryMatcher:
    """Resolves a category cell to a small category id, or explains why it cannot."""

    def __init__(self, categories: list[CategoryRef]):
        self.exact_small, self.exact_path = self.index(categories, lambda text: text)
        self.loose_small, self.loose_path = self.index(categories, category_key)
        self.cache: dict[str, tuple[int | None, str]] = {}

    @staticmethod
    def index(categories, key):
        by_small: dict[str, list[CategoryRef]] = {}
        by_path: dict[tuple[str, str], list[CategoryRef]] = {}
        for ref in categories:
            by_small.setdefault(key(ref.small), []).append(ref)
            by_path.setdefault((key(ref.large), key(ref.small)), []).append(ref)
        return by_small, by_path

    def resolve(self, text: str) -> tuple[int | None, str]:
        """(category id, "") or (None, error)."""
        if text not in self.cache:
            self.cache[text] = self.lookup(text)
        return self.cache[text]

    def lookup(self, text: str) -> tuple[int | None, str]:
        if not text or text.isspace():
            return None, "no category"
        stages = (
            self.exact_small.get(text, []),
            self.by_path(text, self.exact_path, lambda part: part),
            self.loose_small.get(category_key(text), []),
            self.by_path(text, self.loose_path, category_key),
        )
        for candidates in stages:
            if len(candidates) == 1:
                return candidates[0].id, ""
        ambiguous = next((c for c in stages if len(c) > 1), None)
        if ambiguous:
            return None, ambiguous_error(text, ambiguous)
        return None, f"unknown category '{shown(text.strip())}'"

    @staticmethod
    def by_path(text: str, index, key) -> list[CategoryRef]:
        """'large › small' (as pages and exports write it: one reading), or 'large/small' (every split)."""
        if PATH_MARK in text:
            large, _, small = text.partition(PATH_MARK)
            return list(index.get((key(large.strip()), key(small.strip())), []))
        parts = text.split("/")
        matches: list[CategoryRef] = []
        for cut in range(1, len(parts)):
            large, small = "/".join(parts[:cut]), "/".join(parts[cut:])
            matches.extend(index.get((key(large), key(small)), []))
        return matches


def ambiguous_error(text: str, candidates: list[CategoryRef]) -> str:
    paths = [category_path(ref.small, ref.large) for ref in candidates]
    options = paths[0] if len(paths) == 1 else ", ".join(paths[:-1]) + " or " + paths[-1]
    return f"category '{shown(text.strip())}' is ambiguous: write it as large {PATH_MARK} small ({options})"


# -------------------------------------------------------------------------------------------------- rows


@dataclass
class RowBuilder:
    """Turns csv records into ParsedRows; remembers external ids to report duplicates."""

    columns: dict[str, int]
    width: int
    matcher: CategoryMatcher
    max_field_chars: int
    first_line: dict[str, int] = field(default_factory=dict)

    def build(self, line: int, cells: list[str]) -> ParsedRow:
        # cells as they were before the export made them safe for spreadsheets (cell_escape)
        values = {name: cell_unescape(cells[i]) if i < len(cells) else "" for name, i in self.columns.items()}
        title, body = clean(values.get("title", "")), clean(values.get("body", ""))
        row = ParsedRow(line, clean(values.get("external_id", "")), title, body, None, "")
        row.category_text = values.get("category", "").strip()
        if len(cells) != self.width:
            row.error = f"expected {self.width} fields, found {len(cells)}"
            return row
        problems = [
            f"{name} is longer than {self.max_field_chars} characters"
            for name in self.too_long(cells, values)
        ]
        if not (title or body):
            problems.append("empty text")
        category_id, category_error = None, ""
        if "category" in self.columns:  # optional only when the caller said so (classification files)
            category_id, category_error = self.matcher.resolve(row.category_text)
        problems += [category_error] if category_error else []
        if not row.external_id and (title or body):
            row.external_id = derived_id(title, body)
        problems += self.duplicate(row)
        row.error = "; ".join(problems)
        row.category_id = None if problems else category_id
        return row

    def too_long(self, cells: list[str], values: dict[str, str]) -> list[str]:
        if max(map(len, cells), default=0) <= self.max_field_chars:
            return []  # the common case, checked in C
        return [name for name in FIELDS if len(values.get(name, "")) > self.max_field_chars]

    def duplicate(self, row: ParsedRow) -> list[str]:
        if not row.external_id:
            return []
        first = self.first_line.setdefault(row.external_id, row.line)
        if first == row.line:
            return []
        return [f"duplicate external id '{shown(row.external_id)}' (first on line {first})"]


def is_blank(cells: list[str]) -> bool:
    return not any(map(str.strip, cells))


def csv_problem(exc: csv.Error, delimiter: str) -> str:
    message = str(exc)
    if "unexpected end of data" in message:
        return "a quoted field is never closed (the quote opened here runs to the end of the file)"
    if "expected after" in message:
        after = "a tab" if delimiter == "\t" else "a comma"
        return f"stray quote: a closing quote must be followed by {after} or the end of the line"
    return f"broken quoting: {message}"


# ------------------------------------------------------------------------------------------------- main


def parse_examples_file(
    data: bytes,
    *,
    categories: list[CategoryRef],
    encoding: str | None = None,
    delimiter: str | None = None,
    columns: dict[str, str] | None = None,
    max_rows: int = 200_000,
    max_field_chars: int = 100_000,
    category_required: bool = True,
) -> ParsedFile:
    """Parse an uploaded examples file. `columns` maps our field to a header name ("" = do not use); without
    `category_required` a file may have no category column (its rows then have no category)."""
    result = ParsedFile(encoding="", delimiter="", columns={}, rows=[], file_errors=[])
    try:
        text, result.encoding = decode(data, encoding)
        text = text.removeprefix("\ufeff")
        if "\r" in text:  # a scan; each replace copies the whole file (20 MB and more)
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        if not text or text.isspace():
            raise ImportFileError("the file is empty")
        result.delimiter = choose_delimiter(text, delimiter)
        read_records(text, result, categories, columns, max_rows, max_field_chars, category_required)
    except ImportFileError as exc:
        result.file_errors, result.rows = [str(exc)], []
    return result


def read_records(
    text, result: ParsedFile, categories, overrides, max_rows, max_field_chars, category_required=True
) -> None:
    if csv.field_size_limit() <= len(text):
        csv.field_size_limit(len(text) + 1)  # process-wide; only ever raised, so no field trips it
    reader = csv.reader(io.StringIO(text), delimiter=result.delimiter, strict=True)
    header = read_header(reader)
    index = map_columns(header, overrides, category_required=category_required)
    result.columns = {name: header[i] for name, i in index.items()}
    builder = RowBuilder(index, len(header), CategoryMatcher(categories), max_field_chars)
    read_rows(reader, builder, result, max_rows)
    if not result.rows:
        raise ImportFileError("the file has a header but no rows")


def read_header(reader) -> list[str]:
    cells: list[str] = []
    while is_blank(cells):
        try:
            cells = next(reader)
        except StopIteration:
            raise ImportFileError("the file is empty") from None
        except csv.Error as exc:
            raise ImportFileError(f"the header line cannot be read: {exc}") from None
    return [unicodedata.normalize("NFC", cell.strip()) for cell in cells]


def read_rows(reader, builder: RowBuilder, result: ParsedFile, max_rows: int) -> None:
    while True:
        line = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            stop_at_broken_record(result, line, exc)
            return
        if is_blank(cells):
            continue
        if len(result.rows) >= max_rows:
            raise ImportFileError(f"more than {max_rows} rows: split the file")
        result.rows.append(builder.build(line, cells))


def stop_at_broken_record(result: ParsedFile, line: int, exc: csv.Error) -> None:
    note = f"rows after line {line} were not read"
    problem = csv_problem(exc, result.delimiter)
    result.rows.append(ParsedRow(line, "", "", "", None, "", f"{problem}; {note}"))
    result.notes.append(f"line {line}: {problem}; {note}")
