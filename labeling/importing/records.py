"""The records of a plain CSV part found in its bytes, compiled (numba, without the GIL).

What `parser.plain_records` reads with a regular expression over the decoded text, found in the bytes: per
record its line and, per cell, where it lies and what it holds, so a caller decodes only the cells it needs
(a classifier counts the words of the others in the bytes themselves). The quote, the delimiter and the line
ends are ASCII bytes in both encodings the import reads (UTF-8, cp949: its trail bytes are letters or 0x81
and above), so bytes and characters cut alike. A part that is not plain (a record of another width, a stray
quote, a quoted cell never closed, a NUL) gives nothing: the caller reads it the slow way, messages and all.
"""

import functools
import itertools
from dataclasses import dataclass

import numba
import numpy as np

from labeling.importing.parser import (
    ExamplesReader,
    ParsedRow,
    RowBuilder,
    after_start,
    is_blank,
    line_end_offset,
    plain_records,
)

# a cell's flags
QUOTED = 1  # the cell is quoted (its bounds include the quotes)
DOUBLED = 2  # a doubled quote inside
LINE_END = 4  # a line end inside (quoted)
NOT_ASCII = 8  # a byte of 128 or more
WORDS = 16  # an ASCII letter, digit or underscore: a word's byte, so the cell is no empty text
NUL_BYTE = 32  # a NUL: the part is not plain
# what a byte does to the cell it is read in
ENDS_UNQUOTED = 64  # the delimiter, a quote, a line end
SPECIAL_QUOTED = 128  # a quote, a line end

QUOTE, CR, LF = 34, 13, 10
DELIMITERS = (",", "\t")


@functools.cache
def byte_table(delimiter: str) -> np.ndarray:
    """Per byte: the flags it gives its cell, and whether it ends or is special in a cell."""
    table = np.array(
        [NOT_ASCII if c >= 128 else WORDS if chr(c).isalnum() or c == 95 else 0 for c in range(256)],
        dtype=np.uint8,
    )
    table[0] = NUL_BYTE
    table[[QUOTE, CR, LF]] |= ENDS_UNQUOTED | SPECIAL_QUOTED
    table[ord(delimiter)] |= ENDS_UNQUOTED
    return table


@dataclass(frozen=True)
class Records:
    """A part's records: line (from 1 in the part), and per cell its bytes [start, end) in the file (quotes
    included) and its flags."""

    lines: np.ndarray  # records
    starts: np.ndarray  # records x width
    ends: np.ndarray
    flags: np.ndarray


@numba.njit(cache=True, nogil=True, inline="always")
def _quoted(data, position, end, table):
    """A quoted cell's end (after its closing quote; -1: never closed), its flags and its line ends (as the
    text reader counts them: CR LF, CR and LF one each)."""
    flags, lines, position = QUOTED, 0, position + 1
    while position < end:
        byte = data[position]
        effect = table[byte]
        if not effect & SPECIAL_QUOTED:
            flags |= effect
        elif byte == QUOTE:
            if position + 1 < end and data[position + 1] == QUOTE:
                flags |= DOUBLED
                position += 2
                continue
            return position + 1, flags, lines
        else:  # a line end
            flags |= LINE_END
            if not (byte == CR and position + 1 < end and data[position + 1] == LF):
                lines += 1
        position += 1
    return -1, flags, lines


@numba.njit(cache=True, nogil=True, inline="always")
def _unquoted(data, position, end, table):
    """An unquoted cell's end (at a delimiter, a quote, a line end or the end) and its flags."""
    flags = 0
    while position < end:
        effect = table[data[position]]
        if effect & ENDS_UNQUOTED:
            break
        flags |= effect
        position += 1
    return position, flags


@numba.njit(cache=True, nogil=True)
def _grown(lines, starts, ends, flags):
    """The records' arrays twice as long, the records found so far kept."""
    size, width = 2 * len(lines), starts.shape[1]
    more = np.empty(size, np.int64), np.empty((size, width), np.int64), np.empty((size, width), np.int64)
    more[0][: len(lines)], more[1][: len(lines)], more[2][: len(lines)] = lines, starts, ends
    wider = np.zeros((size, width), np.uint8)
    wider[: len(lines)] = flags
    return more[0], more[1], more[2], wider


@numba.njit(cache=True, nogil=True)
def _scan(data, start, end, width, delimiter, table):
    """(records found, or -1 when the part is not plain; lines; cells' starts, ends, flags)."""
    capacity = (end - start) // max(256, width) + 4  # grown as needed (a record has a byte per cell at least)
    while end > start and (data[end - 1] == LF or data[end - 1] == CR):
        end -= 1  # as `text.rstrip("\r\n")`
    lines = np.empty(capacity, np.int64)
    starts = np.empty((capacity, width), np.int64)
    ends = np.empty((capacity, width), np.int64)
    flags = np.zeros((capacity, width), np.uint8)
    records, line, position = 0, 1, start
    while position < end:
        while data[position] == LF or data[position] == CR:  # blank lines (the text ends with no line end)
            position += 2 if data[position] == CR and data[position + 1] == LF else 1
            line += 1
        if records == len(lines):
            lines, starts, ends, flags = _grown(lines, starts, ends, flags)
        lines[records], within = line, 0
        for cell in range(width):
            starts[records, cell] = position
            if position < end and data[position] == QUOTE:
                position, found, inside = _quoted(data, position, end, table)
                within += inside
            else:
                position, found = _unquoted(data, position, end, table)
            flags[records, cell] = found
            if position < 0 or found & NUL_BYTE:
                return -1, lines, starts, ends, flags
            ends[records, cell] = position
            if cell < width - 1:
                if position >= end or data[position] != delimiter:
                    return -1, lines, starts, ends, flags
                position += 1
            elif position < end:
                if data[position] != LF and data[position] != CR:
                    return -1, lines, starts, ends, flags
                position += (
                    2 if data[position] == CR and position + 1 < end and data[position + 1] == LF else 1
                )
        line += 1 + within
        records += 1
    return records, lines, starts, ends, flags


def plain_records_in(data: np.ndarray, start: int, end: int, width: int, delimiter: str) -> Records | None:
    """The records of data[start:end] (a part of a file, starting at a record), or None when it is not
    plain (as `parser.plain_records` says)."""
    found, lines, starts, ends, flags = _scan(data, start, end, width, ord(delimiter), byte_table(delimiter))
    if found < 0:
        return None
    return Records(lines[:found], starts[:found], ends[:found], flags[:found])


def text_byte_rows(
    reader: ExamplesReader,
    data: bytes,
    array: np.ndarray,
    start: int,
    end: int,
    max_chars: int,
    *,
    some_kept: bool = False,
) -> tuple[list[ParsedRow], np.ndarray] | None:
    """The rows of the file's bytes [start, end) as `reader.part(start, end).plain_rows()` gives them, except
    that the title and body of a row whose text is ASCII, has a word and is at most `max_chars` long (title,
    a separator, body) are left in the bytes (`array` is `data`): the row's are empty, and `bounds`
    (rows x 4) says where its title and body lie (quotes excluded), -1 for a row read as text. None when the
    part is not plain or its rows have no id column (each id is derived from its text); with `some_kept`, also
    when no text can stay in the bytes (Korean texts, say: `plain_rows` reads such a part faster in one pass
    than this record by record)."""
    builder, width = reader.builder, reader.builder.width
    if reader.delimiter not in DELIMITERS or width < 2 or "external_id" not in builder.columns:
        return None
    records = plain_records_in(array, start, end, width, reader.delimiter)
    if records is None:
        return None
    inside = records.flags & QUOTED  # a quoted cell's content lies within its quotes
    starts, ends = records.starts + inside, records.ends - inside
    kept = _in_bytes(builder, records, ends - starts, max_chars).tolist()
    if some_kept and not any(kept):
        return None
    encoding, lines = after_start(reader.encoding), (records.lines + reader.line_offset).tolist()
    ids, categories = (_cells(builder, name, starts, ends) for name in ("external_id", "category"))
    firsts, lasts = records.starts[:, 0].tolist(), records.ends[:, -1].tolist()
    rows, given = [], []
    for number, line in enumerate(lines):
        row = None
        if kept[number]:
            category = data[categories[0][number] : categories[1][number]].decode(encoding)
            external_id = data[ids[0][number] : ids[1][number]].decode(encoding)
            row = builder.build_without_text(line, external_id, category)
        if row is not None:
            given.append(number)
        else:  # the record read as `plain_records` reads it
            text = data[firsts[number] : lasts[number]].decode(encoding)
            ((_, values),) = plain_records(text, width, reader.delimiter)
            if is_blank(values):
                continue
            given.append(-1)
            row = builder.build(line, values)
        rows.append(row)
    reader.rows_read += len(rows)
    given = np.array(given, dtype=np.int64)
    bounds = _text_bounds(builder.columns, starts, ends)[given]
    bounds[given < 0] = -1
    return rows, bounds


def _in_bytes(builder: RowBuilder, records: Records, lengths: np.ndarray, max_chars: int) -> np.ndarray:
    """Per record: its text can be left in the bytes (ASCII, a word in it, short enough; no cell over the
    import's limit; an id and a category that decode as they are)."""
    columns, flags = builder.columns, records.flags
    text = [columns[name] for name in ("title", "body") if name in columns]
    short = [columns[name] for name in ("external_id", "category") if name in columns]
    ascii_words = ~(flags[:, text] & NOT_ASCII).any(axis=1) & (flags[:, text] & WORDS).any(axis=1)
    plain = ~(flags[:, short] & (DOUBLED | LINE_END)).any(axis=1)
    fits = ((records.ends - records.starts) <= builder.max_field_chars).all(axis=1)
    return ascii_words & plain & fits & (lengths[:, text].sum(axis=1) + 1 <= max_chars)


def _cells(builder: RowBuilder, name: str, starts: np.ndarray, ends: np.ndarray) -> tuple[list, list]:
    """Where the column's cells lie (empty spans when the file has no such column), as lists."""
    column = builder.columns.get(name)
    if column is None:
        return [0] * len(starts), [0] * len(starts)
    return starts[:, column].tolist(), ends[:, column].tolist()


def _text_bounds(columns: dict[str, int], starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Per record: title start, end, body start, end (an empty span for a column the file has not)."""
    empty = np.zeros(len(starts), dtype=np.int64)
    spans = [
        (starts[:, columns[name]], ends[:, columns[name]]) if name in columns else (empty, empty)
        for name in ("title", "body")
    ]
    return np.column_stack([bound for span in spans for bound in span])


@numba.njit(cache=True, nogil=True)
def _part_ends(data, start, size, parts):
    """`ExamplesReader.part_bounds` in one pass: the offsets after the first LF at or after start + n * size
    (and after the bound before) with an even count of quotes in data[start:LF], never the last byte; and
    the line ends (CR LF, CR, LF: one each) before each."""
    ends, lines = np.empty(parts, np.int64), np.empty(parts, np.int64)
    found, quotes, line_ends, target = 0, 0, 0, start + size
    for position in range(start, len(data) - 1 if parts > 1 else start):
        byte = data[position]
        if byte == QUOTE:
            quotes += 1
        elif byte == CR:
            line_ends += data[position + 1] != LF
        elif byte == LF:
            line_ends += 1
            if position >= target and quotes % 2 == 0:
                ends[found], lines[found] = position + 1, line_ends
                found += 1
                if found == parts - 1:
                    break
                target = start + (found + 1) * size  # (the LFs read next lie after this one)
    return ends[:found], lines[:found]


def part_bounds(reader: ExamplesReader, array: np.ndarray, parts: int) -> list[tuple[int, int]]:
    """`reader.part_bounds(parts)` (its ranges, and the lines before each for `reader.part`), compiled."""
    data, header_lines = reader.data, reader.reader.line_num
    start = line_end_offset(data, header_lines)
    ends, lines = _part_ends(array, start, max(1, (len(data) - start) // parts), parts)
    offsets, before = [start, *ends.tolist()], [0, *lines.tolist()]
    reader.lines_at = {offset: lines + header_lines for offset, lines in zip(offsets, before, strict=True)}
    return list(itertools.pairwise([start, *ends.tolist(), len(data)]))
