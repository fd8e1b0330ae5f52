"""Bulk classification counts the words of a plain file's ASCII texts in the file's bytes
(`labeling.importing.records.text_byte_rows`, `WordTable.span_counts`): the rows it gives are the rows the
import reads, and the words it counts are the words of the text the import reads, on random files."""

import csv
import dataclasses
import io
import random
import re

import numpy as np

from labeling.importing import CategoryRef
from labeling.importing.parser import ExamplesReader
from labeling.importing.records import part_bounds, plain_records_in, text_byte_rows
from training.algorithms.text import document
from training.algorithms.word_counts import TextSpans, WordTable

CATEGORIES = [
    CategoryRef(1, "rec", "rec.autos"),
    CategoryRef(2, "sci", "sci.space"),
    CategoryRef(3, "IT", "AI"),
]
PIECES = [
    "a",
    "Word ",
    "x1",
    "_b",
    ",",
    '"',
    '""',
    "\n",
    "\r\n",
    "\r",
    "\t",
    " ",
    "'",
    "'=",
    "!",
    "é",
    "한",
    "AI",
]
COLUMNS = ["external_id", "title", "body", "category", "note"]
MAX_CHARS, MAX_FIELD = 60, 90  # small limits, so that texts over them are frequent


def random_file(rng: random.Random) -> bytes:
    """Random rows under a random header (columns in any order, title, category or a spare column missing at
    times), written by the csv module (quoting where it must), some records then broken or padded."""
    header = [name for name in COLUMNS if name in ("external_id", "body") or rng.random() < 0.7]
    rng.shuffle(header)
    rows = [header]
    for _ in range(rng.randint(0, 12)):
        cells = {name: "".join(rng.choice(PIECES) for _ in range(rng.randint(0, 8))) for name in COLUMNS}
        cells["external_id"] = rng.choice(["", "id1", "id2", f"id{rng.random()}", "'=x", "a,b", 'q"q', " "])
        cells["category"] = rng.choice(["rec.autos", "sci/sci.space", "AI", "nope", "", cells["category"]])
        if rng.random() < 0.1:
            cells["body"] = "word " * rng.randint(10, 25)  # over the length limits
        rows.append([cells[name] for name in header])
    buffer = io.StringIO()
    lineterminator = rng.choice(["\n", "\r\n", "\r"])
    csv.writer(buffer, delimiter=rng.choice([",", ",", "\t"]), lineterminator=lineterminator).writerows(rows)
    text = buffer.getvalue() + rng.choice(["", "\n\n", "\r\n"])
    if rng.random() < 0.2:
        cut = rng.randint(len(text) // 2, len(text))
        text = text[:cut] + rng.choice(['"', "\n", 'q"q', ",", "\0", "\r\n"]) + text[cut:]
    encoding = rng.choice(["utf-8", "utf-8-sig", "cp949"])
    return text.encode(encoding) if encoding != "cp949" or "é" not in text else text.encode("utf-8")


def word_table(texts: list[str]) -> WordTable:
    """A vocabulary of every word and word pair of the texts (as the default analyzer finds them)."""
    terms = set()
    for text in texts:
        tokens = re.findall(r"\w\w+", text.lower())
        terms.update(tokens, map(" ".join, zip(tokens, tokens[1:], strict=False)))
    return WordTable({term: column for column, term in enumerate(sorted(terms))})


def compare_part(reader: ExamplesReader, data: bytes, start: int, end: int) -> tuple[int, int]:
    """One part read both ways; (rows whose text stayed in the bytes, rows read as text)."""
    fast, slow = reader.part(start, end), reader.part(start, end)
    found, read = (
        text_byte_rows(fast, data, np.frombuffer(data, np.uint8), start, end, MAX_CHARS),
        slow.plain_rows(),
    )
    assert (found is None) == (read is None or "external_id" not in reader.columns), data
    if found is None:
        return 0, 0
    rows, bounds = found
    in_bytes = bounds[:, 0] >= 0
    assert bounds.shape == (len(read), 4) and len(rows) == len(read)
    for row, expected, kept in zip(rows, read, in_bytes.tolist(), strict=True):
        text = document(expected.title, expected.body)
        if kept:  # only a text the models count as it is (ASCII, a word, short enough) stays in the bytes
            assert text.isascii() and re.search(r"[A-Za-z0-9_]", text) and len(text) <= MAX_CHARS, text
            expected = dataclasses.replace(expected, title="", body="")
        assert row == expected, data
    assert (fast.builder.unchecked, fast.rows_read) == (slow.builder.unchecked, slow.rows_read)
    texts = [document(row.title, row.body) for row, kept in zip(read, in_bytes, strict=True) if kept]
    if texts:
        table = word_table(texts)
        spans = TextSpans(np.frombuffer(data, np.uint8), bounds[in_bytes])
        for got, want in zip(table.span_counts(spans), table.counts(texts), strict=True):
            np.testing.assert_array_equal(got, want)
    return int(in_bytes.sum()), int((~in_bytes).sum())


def test_rows_left_in_the_bytes_are_the_rows_and_words_the_import_reads():
    rng = random.Random(19)
    kept = as_text = 0
    for _ in range(800):
        data = random_file(rng)
        reader = ExamplesReader(
            data, categories=CATEGORIES, category_required=False, max_field_chars=MAX_FIELD
        )
        if not reader.open():
            continue
        for start, end in reader.part_bounds(rng.choice([1, 2, 3])):
            counted = compare_part(reader, data, start, end)
            kept, as_text = kept + counted[0], as_text + counted[1]
    assert kept > 250 and as_text > 250  # both kinds of row, many times


def test_the_compiled_part_bounds_are_the_readers():
    """`records.part_bounds` cuts a file where `ExamplesReader.part_bounds` does, with the same line counts
    before each part (random files: quoted line ends, CR, CR LF, blank lines)."""
    rng = random.Random(5)
    compared = 0
    for _ in range(300):
        data = random_file(rng) * rng.choice([1, 3])
        pure = ExamplesReader(data, categories=CATEGORIES, category_required=False)
        compiled = ExamplesReader(data, categories=CATEGORIES, category_required=False)
        if not (pure.open() and compiled.open()):
            continue
        parts = rng.choice([1, 2, 3, 8])
        bounds = part_bounds(compiled, np.frombuffer(data, np.uint8), parts)
        assert (bounds, compiled.lines_at) == (pure.part_bounds(parts), pure.lines_at), data
        compared += len(bounds)
    assert compared > 500


def test_a_wide_files_records_take_memory_in_proportion_to_its_bytes():
    """A record holds at least a byte per cell (its delimiters, its line end): the scanner's arrays of cells
    stay within a few times the part's size however many columns the header names (a guess of records per
    byte that ignores the width allocated width / 256 times too much: a 5 MB file of 50,000 columns took
    more than a gigabyte)."""
    width, rows = 5000, 200
    header = "external_id,title,body,category," + ",".join(f"c{n}" for n in range(width - 4))
    lines = [header, *(f"id{n},a title,a body,AI" + "," * (width - 4) for n in range(rows))]
    data = ("\n".join(lines) + "\n").encode()
    start, end = len(header) + 1, len(data)
    records = plain_records_in(np.frombuffer(data, np.uint8), start, end, width, ",")
    assert len(records.lines) == rows
    arrays = (records.lines, records.starts, records.ends, records.flags)
    allocated = sum(array.base.nbytes for array in arrays)  # the views' whole arrays
    assert allocated <= 20 * (end - start)


def test_a_part_whose_texts_cannot_stay_in_the_bytes_is_left_to_the_one_pass_reader():
    """With `some_kept` (the command's way), a part where no text can stay in the bytes (Korean posts) is
    not read record by record: None, and `plain_rows` reads it; a part with one ASCII text still is."""
    korean = "external_id,title,body\n" + "".join(f"k{n},제목 {n},본문 내용 {n}\n" for n in range(30))
    mixed = korean + "e1,English title,an English body\n"
    for text, expected in ((korean, None), (mixed, 1)):
        data = text.encode()
        reader = ExamplesReader(data, categories=CATEGORIES, category_required=False)
        assert reader.open()
        ((start, end),) = reader.part_bounds(1)
        array = np.frombuffer(data, np.uint8)
        found = text_byte_rows(reader.part(start, end), data, array, start, end, MAX_CHARS, some_kept=True)
        if expected is None:
            assert found is None
            assert len(reader.part(start, end).plain_rows()) == 30
        else:
            rows, bounds = found
            assert len(rows) == 31 and int((bounds[:, 0] >= 0).sum()) == expected
