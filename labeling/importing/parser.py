"""Turn an uploaded CSV/TSV file (bytes) into validated rows for an import of labelled examples.

Pure standard library on purpose: no Django, no database. The caller passes every small category of the
taxonomy as `CategoryRef`s and gets back a `ParsedFile`; problems with the whole file are in
`file_errors` (and then there are no rows), problems with one row are in that row's `error`.
`parse_examples_file` and `ExamplesReader` never raise for bad input.
"""

from __future__ import annotations

import codecs
import copy
import csv
import dataclasses
import functools
import hashlib
import io
import itertools
import math
import operator
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO, TextIO

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
#
# The file is read as a stream of bytes (a file object, or bytes wrapped in one), never decoded whole: the
# encoding is checked in one pass of slices, then the rows are decoded line by line (bounded memory).

SLICE = 1 << 20  # bytes read at a time


def as_stream(data) -> BinaryIO:
    return io.BytesIO(data) if isinstance(data, bytes | bytearray | memoryview) else data


def resolve_encoding(stream: BinaryIO, encoding: str | None) -> str:
    """The encoding to read the stream with, checked over the whole stream; raises ImportFileError."""
    stream.seek(0)
    start = stream.read(len(codecs.BOM_UTF8))
    stream.seek(0)
    if encoding is None:
        return detect(stream, start)
    name = ENCODINGS.get(encoding.strip().lower().replace("_", "-"))
    if name is None:
        raise ImportFileError(f"unknown encoding '{encoding}': choose utf-8, utf-8-sig or cp949")
    if name == "utf-8" and start.startswith(codecs.BOM_UTF8):
        name = "utf-8-sig"
    bad = bad_byte(stream, name)
    if bad is not None:
        raise ImportFileError(f"not valid {name} at byte {bad}: choose another encoding")
    return name


def after_start(name: str) -> str:
    """The encoding of a file's bytes past its start (a UTF-8 BOM comes only first)."""
    return "utf-8" if name == "utf-8-sig" else name


def bad_byte(stream: BinaryIO, name: str) -> int | None:
    """The offset of the first byte that does not decode as `name`, or None; reads slice by slice."""
    decoder = codecs.getincrementaldecoder(after_start(name))()
    stream.seek(0)
    offset = 0
    if name == "utf-8-sig" and stream.read(len(codecs.BOM_UTF8)) == codecs.BOM_UTF8:
        offset = len(codecs.BOM_UTF8)
    else:
        stream.seek(0)
    try:
        while piece := stream.read(SLICE):
            held = len(decoder.getstate()[0])
            try:
                decoder.decode(piece)
            except UnicodeDecodeError as exc:
                return offset - held + exc.start
            offset += len(piece)
        held = len(decoder.getstate()[0])
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            return offset - held + exc.start
        return None
    finally:
        stream.seek(0)


def detect(stream: BinaryIO, start: bytes) -> str:
    if start.startswith(codecs.BOM_UTF8):
        return resolve_encoding(stream, "utf-8-sig")
    if start.startswith(UTF16_BOMS):
        raise ImportFileError("the file is UTF-16 (Excel's “Unicode text”): save it as CSV UTF-8")
    for name in ("utf-8", "cp949"):
        if bad_byte(stream, name) is None:
            return name
    raise ImportFileError("cannot tell the encoding: save the file as UTF-8, or choose the encoding")


def decode(data: bytes, encoding: str | None) -> tuple[str, str]:
    """(text, encoding used) of a whole small file; raises ImportFileError."""
    name = resolve_encoding(as_stream(data), encoding)
    return bytes(data).decode("utf-8-sig" if name == "utf-8-sig" else name), name


def choose_delimiter(text: str, delimiter: str | None) -> str:
    """The delimiter chosen, or the one the header (the text's first line that is not blank) uses most."""
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


class _Borrowed(io.RawIOBase):
    """The caller's stream, read through without being closed when the text reader over it is dropped (the
    caller may read it again: a preview, then an apply)."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        piece = self.stream.read(len(buffer))
        buffer[: len(piece)] = piece
        return len(piece)


def text_lines(stream: BinaryIO, name: str) -> TextIO:
    """The stream decoded line by line; \\r\\n and \\r read as \\n (also inside quoted cells, as before)."""
    stream.seek(0)
    return io.TextIOWrapper(io.BufferedReader(_Borrowed(stream), SLICE), encoding=name, newline=None)


def peek_header_line(lines: TextIO) -> tuple[list[str], str]:
    """(lines read, the first line that is not blank): the header line, to choose the delimiter by."""
    read = []
    for line in lines:
        read.append(line)
        if line.strip():
            return read, line.removeprefix("\ufeff")
    raise ImportFileError("the file is empty")


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
    # False for a part of a file read apart (ExamplesReader.part): the ids the check would have seen are kept
    # in `unchecked`, (line, id), for `duplicate_problems` over the whole file
    check_duplicates: bool = True
    unchecked: list[tuple[int, str]] = field(default_factory=list)

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
        return self.checked(row, problems)

    def build_without_text(self, line: int, external_id: str, category: str) -> ParsedRow | None:
        """`build` of a record whose text is read elsewhere (title and body left empty here), known to have
        the header's width, no cell over the limit and a text: its id and category cells read and checked.
        None when the id is empty (derived from the text: `build` must read it)."""
        row = ParsedRow(line, clean(cell_unescape(external_id)), "", "", None, "")
        if not row.external_id:
            return None
        row.category_text = cell_unescape(category).strip()
        return self.checked(row, [])

    def checked(self, row: ParsedRow, problems: list[str]) -> ParsedRow:
        """The row's category resolved, its id derived when empty and checked for duplicates, its
        problems (those found before, then these) as its error."""
        category_id, category_error = None, ""
        if "category" in self.columns:  # optional only when the caller said so (classification files)
            category_id, category_error = self.matcher.resolve(row.category_text)
        problems += [category_error] if category_error else []
        if not row.external_id and (row.title or row.body):
            row.external_id = derived_id(row.title, row.body)
        if self.check_duplicates:
            problems += self.duplicate(row)
        elif row.external_id:
            self.unchecked.append((row.line, row.external_id))
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
        problem = duplicate_problem(self.first_line, row.line, row.external_id)
        return [problem] if problem else []


def duplicate_problem(first_line: dict[str, int], line: int, external_id: str) -> str:
    """The row's problem when its id was on an earlier line ("" when not); remembers the id's first line."""
    first = first_line.setdefault(external_id, line)
    if first == line:
        return ""
    return f"duplicate external id '{shown(external_id)}' (first on line {first})"


def duplicate_problems(ids: list[tuple[int, str]]) -> dict[int, str]:
    """Line -> problem of every row whose id came on an earlier line, given (line, id) in line order: what
    RowBuilder adds to a row's error, for the parts of a file read apart."""
    if len({external_id for _, external_id in ids}) == len(ids):
        return {}  # every id once (the usual case): no row to look at
    first_line: dict[str, int] = {}
    found = ((line, duplicate_problem(first_line, line, external_id)) for line, external_id in ids)
    return {line: problem for line, problem in found if problem}


def is_blank(cells: list[str]) -> bool:
    return not any(map(str.strip, cells))


def numbered_rows(reader) -> Iterator[tuple[int, list[str], csv.Error | None]]:
    """A csv reader's non-blank rows with the line each starts on; a quoting error is yielded (with no
    cells) and ends them, since the reader cannot say where the next row starts."""
    while True:
        line = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield line, [], exc
            return
        if not is_blank(cells):
            yield line, cells, None


def csv_problem(exc: csv.Error, delimiter: str) -> str:
    message = str(exc)
    if "unexpected end of data" in message:
        return "a quoted field is never closed (the quote opened here runs to the end of the file)"
    if "expected after" in message:
        after = "a tab" if delimiter == "\t" else "a comma"
        return f"stray quote: a closing quote must be followed by {after} or the end of the line"
    return f"broken quoting: {message}"


# ------------------------------------------------------------------------------------------------- main


class ExamplesReader:
    """An examples file read in chunks of rows: `open()` reads the header (False and `file_errors` when the
    file cannot be read at all), then `chunks(size)` yields lists of at most `size` rows. A problem met later
    with the whole file (too many rows, no rows) ends the chunks and is put in `file_errors`: the caller must
    then drop what it did with the chunks (an apply rolls back). Memory: one chunk, plus the external ids
    seen (to report duplicates)."""

    def __init__(
        self,
        data,
        *,
        categories: list[CategoryRef],
        encoding: str | None = None,
        delimiter: str | None = None,
        columns: dict[str, str] | None = None,
        max_rows: int = 200_000,
        max_field_chars: int = 100_000,
        category_required: bool = True,
    ):
        self.stream = as_stream(data)
        self.data = bytes(data) if isinstance(data, bytes | bytearray | memoryview) else None
        self.categories, self.overrides, self.category_required = categories, columns, category_required
        self.wanted_encoding, self.wanted_delimiter = encoding, delimiter
        self.max_rows, self.max_field_chars = max_rows, max_field_chars
        self.encoding, self.delimiter, self.columns = "", "", {}
        self.file_errors: list[str] = []
        self.notes: list[str] = []
        self.rows_read = 0
        self.reader = self.builder = None
        self.line_offset = 0  # lines before the first this reader reads (a part of a file)
        self.lines_at: dict[int, int] = {}  # offset -> lines before it, for the bounds of `part_bounds`
        self.csv_failed = False  # the csv reader stopped on broken quoting (an error row says where)

    def open(self) -> bool:
        try:
            self.encoding = resolve_encoding(self.stream, self.wanted_encoding)
            raise_field_limit(self.stream)
            lines = text_lines(self.stream, self.encoding)
            read, header_line = peek_header_line(lines)
            self.delimiter = choose_delimiter(header_line, self.wanted_delimiter)
            read[0] = read[0].removeprefix("\ufeff")
            self.reader = csv.reader(itertools.chain(read, lines), delimiter=self.delimiter, strict=True)
            header = read_header(self.reader)
            index = map_columns(header, self.overrides, category_required=self.category_required)
            self.columns = {name: header[i] for name, i in index.items()}
            matcher = CategoryMatcher(self.categories)
            self.builder = RowBuilder(index, len(header), matcher, self.max_field_chars)
        except ImportFileError as exc:
            self.file_errors = [str(exc)]
            return False
        return True

    def chunks(self, size: int) -> Iterator[list[ParsedRow]]:
        chunk: list[ParsedRow] = []
        try:
            for row in self.rows():
                chunk.append(row)
                if len(chunk) >= size:
                    yield chunk
                    chunk = []
            if chunk:
                yield chunk
            if not self.rows_read:
                raise ImportFileError("the file has a header but no rows")
        except ImportFileError as exc:
            self.file_errors = [str(exc)]

    def rows(self) -> Iterator[ParsedRow]:
        for line, cells, error in numbered_rows(self.reader):
            line += self.line_offset
            if error is not None:
                self.csv_failed = True
                note = f"rows after line {line} were not read"
                problem = csv_problem(error, self.delimiter)
                self.notes.append(f"line {line}: {problem}; {note}")
                self.rows_read += 1
                yield ParsedRow(line, "", "", "", None, "", f"{problem}; {note}")
                return
            if self.rows_read >= self.max_rows:
                raise ImportFileError(f"more than {self.max_rows} rows: split the file")
            self.rows_read += 1
            yield self.builder.build(line, cells)

    # --- a file read in parts, each by its own worker ------------------------------------------------------

    def part_bounds(self, parts: int) -> list[tuple[int, int]]:
        """The rows' bytes (an opened reader of bytes) cut into about `parts` ranges at line ends with an even
        count of quotes before them: where a record most likely ends. A guess, which the parts confirm: a part
        whose csv reader ends without an error (`csv_failed`) did end at a record's end, so the next one does
        start a record (only a reader of the part before can tell)."""
        data = self.data
        start = line_end_offset(data, self.reader.line_num)  # after the header's lines
        self.lines_at = {start: self.reader.line_num}  # the line count before each bound, for `part`
        bounds, size, quotes, counted = [start], max(1, (len(data) - start) // parts), 0, start
        for number in range(1, parts):
            position = max(bounds[-1], start + number * size)
            while (end := data.find(b"\n", position)) >= 0 and end + 1 < len(data):
                quotes, counted = quotes + data.count(b'"', counted, end), end
                if quotes % 2 == 0:
                    break
                position = end + 1
            else:
                break
            bounds.append(end + 1)
            self.lines_at[end + 1] = self.lines_at[bounds[-2]] + lines_between(data, bounds[-2], end + 1)
        bounds.append(len(data))
        return list(itertools.pairwise(bounds))

    def part(self, start: int, end: int) -> ExamplesReader:
        """A reader of the file's bytes [start, end) (a range of `part_bounds`, called first), whose rows are
        the ones this reader would read there, line numbers and messages included, except that ids are not
        checked for duplicates (the builder's `unchecked`; `duplicate_problems` over the whole file) and rows
        not counted against `max_rows`."""
        part = copy.copy(self)
        part.stream = io.BytesIO(self.data[start:end])
        part.data, part.notes, part.rows_read, part.max_rows = None, [], 0, math.inf
        part.line_offset, part.csv_failed = self.lines_at[start], False
        lines = text_lines(part.stream, after_start(self.encoding))
        part.reader = csv.reader(lines, delimiter=self.delimiter, strict=True)
        part.builder = dataclasses.replace(self.builder, first_line={}, check_duplicates=False, unchecked=[])
        return part

    def plain_rows(self) -> list[ParsedRow] | None:
        """The rows of a part (`part`) as `rows()` reads them, its records split into cells by one regular
        expression over the part instead of the csv module's reader over each line (a fraction of the time),
        when every record of the part is plain: the header's number of cells, each quoted as the csv module
        writes or holding no quote or line end; None when one is not, the part left untouched (then `rows()`
        reads it, messages and all)."""
        if self.delimiter not in DELIMITERS.values() or self.builder.width < 2:
            return None
        try:
            text = self.stream.getvalue().decode(after_start(self.encoding))
        except (AttributeError, UnicodeDecodeError):
            return None
        records = plain_records(text, self.builder.width, self.delimiter)
        if records is None:
            return None
        rows = []
        for line, cells in records:
            if not is_blank(cells):
                self.rows_read += 1
                rows.append(self.builder.build(line + self.line_offset, cells))
        return rows


@functools.cache
def plain_record(width: int, delimiter: str) -> re.Pattern:
    """A record of `width` cells as the csv module reads it in strict mode, for the plain case only: blank
    lines before it (group 1), then each cell either quoted (quotes inside doubled; line ends allowed) or
    unquoted with no quote and no line end (3 groups a cell), then a line end or the end of the text (a
    group); or else the rest of the text (the last group: it is not plain from there; taken whole, so a text
    that is not plain costs no more than one that is)."""
    other = re.escape(delimiter)
    # quoted with no quote inside | quoted with doubled quotes inside | unquoted: one group each
    cell = rf'(?:"([^"]*+)"(?=[{other}\r\n]|\Z)|"([^"]*+(?:""[^"]*+)++)"|([^{other}"\r\n]*+))'
    record = r"((?:\r\n|\n|\r)*+)" + other.join([cell] * width) + r"(\r\n|\n|\r|\Z)"
    return re.compile(rf"{record}|([\s\S]+)")


def plain_records(text: str, width: int, delimiter: str) -> list[tuple[int, list[str]]] | None:
    """(line, cells) of every record of `text` (lines counted from 1 as the text reader counts them: \\r\\n,
    \\r and \\n each end one, also inside quoted cells, where they read as \\n), or None when a record is
    not plain (`plain_record`) or the text holds a NUL."""
    if "\0" in text:
        return None
    found = plain_record(width, delimiter).findall(text.rstrip("\r\n"))  # all records in one call
    if any(map(operator.itemgetter(-1), found)):
        return None
    records, line, cells_end = [], 1, 1 + 3 * width
    for groups in found:
        if groups[0]:
            line += line_ends(groups[0])
        cells, ends = list(groups[3:cells_end:3]), 1
        for number, quoted in enumerate(groups[1:cells_end:3]):
            if doubled := groups[2 + 3 * number]:
                quoted = doubled.replace('""', '"')
            elif not quoted:
                continue  # unquoted (or empty)
            if "\n" in quoted or "\r" in quoted:
                ends += line_ends(quoted)
                quoted = quoted.replace("\r\n", "\n").replace("\r", "\n")
            cells[number] = quoted
        records.append((line, cells))
        line += ends
    return records


def line_ends(text: str) -> int:
    """The line ends the text reader counts in `text` (universal newlines)."""
    return text.count("\n") + text.count("\r") - text.count("\r\n")


BARE_CR = re.compile(rb"\r(?!\n)")
LINE_END = re.compile(rb"\r\n|\r|\n")  # what the text reader (universal newlines) counts as a line's end


def line_end_offset(data: bytes, lines: int) -> int:
    """The offset after the first `lines` line ends of `data`."""
    position = 0
    for _ in range(lines):
        found = LINE_END.search(data, position)
        if found is None:
            return len(data)
        position = found.end()
    return position


def lines_between(data: bytes, start: int, end: int) -> int:
    """The line ends the text reader counts in data[start:end] (both offsets just after a line end)."""
    lines = data.count(b"\n", start, end)
    if data.find(b"\r", start, end) >= 0:  # a CR alone ends a line too
        lines += sum(1 for _ in BARE_CR.finditer(data, start, end))
    return lines


def raise_field_limit(stream: BinaryIO) -> None:
    size = stream.seek(0, io.SEEK_END)
    stream.seek(0)
    if csv.field_size_limit() <= size:
        csv.field_size_limit(size + 1)  # process-wide; only ever raised, so no field trips it


def parse_examples_file(data, **options) -> ParsedFile:
    """Parse a whole examples file (bytes or a binary file object) into one `ParsedFile`; `columns` maps our
    field to a header name ("" = do not use); without `category_required` a file may have no category
    column (its rows then have no category). For big files, read them in chunks with `ExamplesReader`."""
    reader = ExamplesReader(data, **options)
    rows: list[ParsedRow] = []
    if reader.open():
        for chunk in reader.chunks(10_000):
            rows.extend(chunk)
    result = ParsedFile(reader.encoding, reader.delimiter, reader.columns, rows, reader.file_errors)
    result.notes = reader.notes
    if result.file_errors:
        result.rows = []
    return result


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
