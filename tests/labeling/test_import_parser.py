"""The import file parser: pure Python, so these tests need no database (the conftest still wants one)."""

import ast
import csv
import io
import unicodedata
from pathlib import Path

from labeling.importing import CategoryRef, parse_examples_file

CATEGORIES = [
    CategoryRef(1, "사회/복지", "육아/교육"),
    CategoryRef(2, "사회", "기타"),
    CategoryRef(3, "문화", "기타"),
    CategoryRef(4, "IT", "AI"),
    CategoryRef(5, "경제", "부동산"),
]


def parse(text: str, encoding: str = "utf-8", **kwargs):
    return parse_examples_file(text.encode(encoding), categories=CATEGORIES, **kwargs)


def errors_by_line(parsed) -> dict[int, str]:
    return {row.line: row.error for row in parsed.error_rows}


KOREAN_CSV = "id,title,body,category\nk1,집값,서울 아파트 값이 올랐다,부동산\nk2,챗봇,생성형 AI 이야기,AI\n"


# ------------------------------------------------------------------------------------- encodings


def test_utf8_file_gives_rows_with_category_ids():
    parsed = parse(KOREAN_CSV)
    assert parsed.file_errors == []
    assert (parsed.encoding, parsed.delimiter) == ("utf-8", ",")
    assert [(r.line, r.external_id, r.title, r.category_id) for r in parsed.rows] == [
        (2, "k1", "집값", 5),
        (3, "k2", "챗봇", 4),
    ]


def test_utf8_with_bom_is_detected_and_the_first_header_still_matches():
    parsed = parse_examples_file(b"\xef\xbb\xbf" + KOREAN_CSV.encode(), categories=CATEGORIES)
    assert parsed.encoding == "utf-8-sig"
    assert parsed.columns["external_id"] == "id"
    assert [r.external_id for r in parsed.valid_rows] == ["k1", "k2"]


def test_excel_cp949_file_is_detected():
    parsed = parse(KOREAN_CSV, encoding="cp949")
    assert parsed.encoding == "cp949"
    assert parsed.rows[0].body == "서울 아파트 값이 올랐다"


def test_euc_kr_is_read_as_cp949():
    data = KOREAN_CSV.replace("챗봇", "똠방각하").encode(
        "cp949"
    )  # 똠: a CP949 extension byte pair, not EUC-KR
    parsed = parse_examples_file(data, categories=CATEGORIES, encoding="EUC-KR")
    assert parsed.file_errors == []
    assert parsed.encoding == "cp949"
    assert parsed.rows[1].title == "똠방각하"


def test_wrong_explicit_encoding_names_the_byte_offset():
    data = KOREAN_CSV.encode("cp949")
    parsed = parse_examples_file(data, categories=CATEGORIES, encoding="utf-8")
    offset = len(b"id,title,body,category\nk1,")
    assert parsed.file_errors == [f"not valid utf-8 at byte {offset}: choose another encoding"]
    assert parsed.rows == []


def test_bytes_neither_utf8_nor_cp949_are_a_file_error():
    parsed = parse_examples_file(b"title,category\n\x80\x80,AI\n", categories=CATEGORIES)
    assert parsed.file_errors == ["cannot tell the encoding: save the file as UTF-8, or choose the encoding"]


def test_utf16_file_from_excel_unicode_text_gets_a_specific_message():
    parsed = parse_examples_file(KOREAN_CSV.encode("utf-16"), categories=CATEGORIES)
    assert "UTF-16" in parsed.file_errors[0]


# ------------------------------------------------------------------------------- shape and columns


def test_tab_separated_file_is_detected_and_commas_stay_in_the_text():
    parsed = parse("title\tcategory\n쉼표, 그리고 쉼표\tAI\n")
    assert parsed.delimiter == "\t"
    assert parsed.rows[0].title == "쉼표, 그리고 쉼표"
    assert parsed.rows[0].category_id == 4


def test_korean_headers_are_recognised():
    parsed = parse("아이디,제목,본문,분류\nx1,제목이다,본문이다,AI\n")
    assert parsed.columns == {"external_id": "아이디", "title": "제목", "body": "본문", "category": "분류"}
    assert parsed.valid_rows[0].body == "본문이다"


def test_headers_match_ignoring_case_spaces_and_underscores():
    parsed = parse(" External ID ,TITLE,Label\nx1,hello,AI\n")
    assert parsed.columns == {"external_id": "External ID", "title": "TITLE", "category": "Label"}


def test_column_override_picks_the_named_columns():
    text = "번호,헤드라인,기사,주제,category\n7,헤드,기사 본문,AI,unused\n"
    columns = {"external_id": "번호", "title": "헤드라인", "body": "기사", "category": "주제"}
    parsed = parse(text, columns=columns)
    row = parsed.rows[0]
    assert (row.external_id, row.title, row.body, row.category_id) == ("7", "헤드", "기사 본문", 4)


def test_override_with_empty_name_ignores_the_id_column():
    parsed = parse("id,title,category\n1,hello,AI\n", columns={"external_id": ""})
    assert "external_id" not in parsed.columns
    assert parsed.rows[0].external_id.startswith("sha1:")


def test_override_naming_a_missing_header_is_a_file_error():
    parsed = parse("title,category\nhello,AI\n", columns={"body": "본문"})
    assert parsed.file_errors == [
        "the column '본문' chosen for body is not in the file; headers found: 'title', 'category'"
    ]


def test_missing_category_column_lists_the_headers_found():
    parsed = parse("id,title,body\n1,a,b\n")
    assert parsed.rows == []
    assert parsed.file_errors == [
        "no category column (category or label or 분류 or 카테고리); headers found: 'id', 'title', 'body'"
    ]


def test_missing_text_columns_is_a_file_error():
    parsed = parse("id,category\n1,AI\n")
    assert parsed.file_errors[0].startswith("no text column (title: title or 제목;")


def test_repeated_header_is_a_file_error():
    parsed = parse("title,title,category\na,b,AI\n")
    assert parsed.file_errors == ["the column 'title' appears 2 times: rename one"]


# -------------------------------------------------------------------------------------- categories


def test_path_category_with_slashes_inside_the_names():
    parsed = parse("title,category\n어린이집,사회/복지/육아/교육\n어린이집2,육아/교육\n")
    assert [r.category_id for r in parsed.rows] == [1, 1]
    assert parsed.rows[0].category_text == "사회/복지/육아/교육"


def test_ambiguous_small_name_asks_for_the_path():
    parsed = parse("title,category\n잡담,기타\n잡담2,문화/기타\n")
    assert (
        parsed.rows[0].error
        == "category '기타' is ambiguous: write it as large › small (사회 › 기타 or 문화 › 기타)"
    )
    assert parsed.rows[0].category_id is None
    assert parsed.rows[1].category_id == 3


def test_path_that_splits_two_ways_is_reported_and_the_separator_tells_them_apart():
    categories = [CategoryRef(1, "a", "b/c"), CategoryRef(2, "a/b", "c")]
    data = "title,category\nx,a/b/c\ny,a › b/c\nz,a/b › c\n".encode()
    parsed = parse_examples_file(data, categories=categories)
    assert (
        parsed.rows[0].error
        == "category 'a/b/c' is ambiguous: write it as large › small (a › b/c or a/b › c)"
    )
    assert [r.category_id for r in parsed.rows[1:]] == [1, 2]


def test_paths_as_pages_and_exports_write_them_are_read_back():
    parsed = parse("title,category\n어린이집,사회/복지 › 육아/교육\n")
    assert parsed.rows[0].category_id == 1


def test_loose_match_after_nfc_trimming_and_ascii_case():
    decomposed = unicodedata.normalize("NFD", "문화 / 기타")
    parsed = parse(f"title,category\na,{decomposed}\nb,  ai \nc,it/Ai\n")
    assert [r.category_id for r in parsed.rows] == [3, 4, 4]


def test_unknown_and_missing_categories_are_row_errors():
    parsed = parse("title,category\na,xyz\nb,\nc,AI\n")
    assert errors_by_line(parsed) == {2: "unknown category 'xyz'", 3: "no category"}
    assert [r.line for r in parsed.valid_rows] == [4]


# ---------------------------------------------------------------------------------------- row text


def test_row_without_title_and_body_is_empty_text():
    parsed = parse("id,title,body,category\n1,  ,,AI\n2,,본문만,AI\n")
    assert errors_by_line(parsed) == {2: "empty text"}
    assert parsed.rows[1].body == "본문만"


def test_text_is_stripped_and_nfc_normalised():
    parsed = parse(f"title,category\n  {unicodedata.normalize('NFD', '한글')}  ,AI\n")
    assert parsed.rows[0].title == "한글"


def test_field_longer_than_the_limit_is_a_row_error():
    parsed = parse(f"title,body,category\na,{'가' * 11},AI\nb,{'가' * 10},AI\n", max_field_chars=10)
    assert errors_by_line(parsed) == {2: "body is longer than 10 characters"}


def test_fully_blank_lines_are_skipped_not_errors():
    parsed = parse("title,category\n\na,AI\n,\n\nb,AI\n")
    assert [r.line for r in parsed.rows] == [3, 6]
    assert parsed.error_rows == []


# ------------------------------------------------------------------------------------ csv problems


def test_unclosed_quote_is_reported_on_its_line_and_reading_stops():
    parsed = parse('title,category\na,AI\n"b,AI\nc,AI\nd,AI\n')
    assert [r.line for r in parsed.valid_rows] == [2]
    assert parsed.error_rows[0].line == 3
    assert "never closed" in parsed.error_rows[0].error
    assert "rows after line 3 were not read" in parsed.error_rows[0].error
    assert parsed.notes and parsed.file_errors == []


def test_stray_quote_is_reported_on_its_line():
    parsed = parse('title,category\na,AI\nb,AI\n"c"x,AI\nd,AI\n')
    assert errors_by_line(parsed) == {
        4: "stray quote: a closing quote must be followed by a comma or the end of the line; "
        "rows after line 4 were not read"
    }


def test_wrong_number_of_fields():
    parsed = parse("id,title,category\n1,a,AI\n2,b\n3,c,AI,extra\n")
    assert errors_by_line(parsed) == {3: "expected 3 fields, found 2", 4: "expected 3 fields, found 4"}


def test_multiline_quoted_body_counts_physical_lines():
    text = 'title,body,category\na,"첫 줄\r\n둘째 줄\r\n셋째 줄",AI\r\nb,짧다,nope\r\n'
    parsed = parse(text)
    assert parsed.rows[0].body == "첫 줄\n둘째 줄\n셋째 줄"
    assert errors_by_line(parsed) == {5: "unknown category 'nope'"}


# ------------------------------------------------------------------------------------ external ids


def test_duplicate_external_ids_point_to_the_first_line():
    parsed = parse("id,title,category\nx,a,AI\ny,b,AI\nx,c,AI\nx,d,AI\n")
    assert errors_by_line(parsed) == {
        4: "duplicate external id 'x' (first on line 2)",
        5: "duplicate external id 'x' (first on line 2)",
    }


def test_derived_ids_are_stable_across_parses_and_encodings():
    text = "title,body,category\n집값,서울 아파트,부동산\n챗봇,AI 이야기,AI\n"
    first = [r.external_id for r in parse(text).rows]
    again = [r.external_id for r in parse(text, encoding="cp949").rows]
    assert first == again
    assert first[0].startswith("sha1:") and len(first[0]) == len("sha1:") + 16
    assert first[0] != first[1]


def test_same_text_twice_without_ids_is_a_duplicate():
    parsed = parse("title,body,category\n집값,오른다,부동산\n 집값 , 오른다 ,부동산\n")
    assert parsed.rows[1].error.startswith("duplicate external id 'sha1:")
    assert parsed.rows[1].error.endswith("(first on line 2)")


# ------------------------------------------------------------------------------------- whole file


def test_zero_byte_and_whitespace_only_files_are_empty():
    for data in (b"", b"  \r\n\n\t"):
        parsed = parse_examples_file(data, categories=CATEGORIES)
        assert parsed.file_errors == ["the file is empty"]


def test_header_only_file():
    for text in ("title,category\n", "title,category\n\n\n"):
        assert parse(text).file_errors == ["the file has a header but no rows"]


def test_more_rows_than_allowed_is_a_file_error():
    parsed = parse("title,category\n" + "a,AI\n" * 4, max_rows=3)
    assert parsed.file_errors == ["more than 3 rows: split the file"]
    assert parsed.rows == []


def test_parser_imports_only_the_standard_library():
    source = Path(__file__).resolve().parents[2].joinpath("labeling/importing/parser.py").read_text()
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    # labeling.paths (how a category path is written) is itself pure: it imports nothing.
    assert imported <= {
        "__future__",
        "codecs",
        "collections",
        "copy",
        "functools",
        "itertools",
        "math",
        "operator",
        "typing",
        "csv",
        "dataclasses",
        "hashlib",
        "io",
        "re",
        "unicodedata",
        "labeling",
    }
    paths = Path(__file__).resolve().parents[2].joinpath("labeling/paths.py").read_text()
    assert not [node for node in ast.walk(ast.parse(paths)) if isinstance(node, (ast.Import, ast.ImportFrom))]


def test_ten_thousand_rows_of_about_1kb():
    """Many long rows keep every row (bench/import_export.py and bench/import_job.py time big files)."""
    body = ('서울 아파트 값이 "또" 올랐다, 전세도 올랐다. ' * 14)[:330].replace('"', '""')
    lines = [f'{i},제목 {i},"{body}",{("부동산", "AI", "문화/기타")[i % 3]}' for i in range(10_000)]
    data = ("id,title,body,category\n" + "\n".join(lines) + "\n").encode()
    parsed = parse_examples_file(data, categories=CATEGORIES)
    assert parsed.file_errors == []
    assert len(parsed.valid_rows) == 10_000
    assert parsed.rows[-1].line == 10_001


def test_a_header_of_a_million_unknown_columns_makes_a_short_message():
    header = ",".join(f"col{n}" for n in range(1_000_000))
    parsed = parse_examples_file((header + "\n" + "x," * 10 + "\n").encode(), categories=[])
    message = " ".join(parsed.file_errors)
    assert "'col0'" in message and "'col19'" in message and "'col20'" not in message
    assert "and 999,980 more" in message and len(message) < 1_000


def _read_in_parts(data: bytes, parts: int):
    """The rows of a file read as bulk classification reads it (each range of bytes on its own), or None
    when a range did not end at a record's end (the caller reads the file whole then)."""
    from labeling.importing.parser import ExamplesReader, duplicate_problems

    reader = ExamplesReader(data, categories=CATEGORIES, category_required=False)
    assert reader.open()
    bounds, rows, ids = reader.part_bounds(parts), [], []
    for number, (start, end) in enumerate(bounds):
        part = reader.part(start, end)
        rows += part.rows()
        ids += part.builder.unchecked
        if part.csv_failed:
            if number < len(bounds) - 1:
                return None
            break
    for line, problem in duplicate_problems(ids).items():
        row = next(row for row in rows if row.line == line)
        row.error, row.category_id = f"{row.error}; {problem}" if row.error else problem, None
    return rows


def test_a_file_read_in_parts_gives_the_rows_of_a_whole_reading():
    """Quoted cells over several lines, CRLF and CR line ends, blank lines, a BOM, duplicate ids in different
    parts, bad rows: every range a part reads starts a record (or the reading says it may not)."""
    import random

    rng = random.Random(7)
    pieces = ["a", "b ", ",", '"', "\n", "\r\n", "é", '""', "x1", "\t", "AI", "nope"]
    checked = whole_readings = 0
    for _ in range(200):
        rows = [["id", "title", "body", "category"]]
        for _ in range(rng.randint(0, 14)):
            cells = ["".join(rng.choice(pieces) for _ in range(rng.randint(0, n))) for n in (1, 5, 25, 2)]
            rows.append([rng.choice(["", "id1", "id2", "id3"]), *cells[1:]])
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator=rng.choice(["\n", "\r\n"])).writerows(rows)
        text = rng.choice(["", "\n", "\r\n \n"]) + buffer.getvalue()
        if rng.random() < 0.3:  # a stray quote or line end somewhere
            cut = rng.randint(0, len(text))
            text = text[:cut] + rng.choice(['"', "\n", "\r", 'q"q']) + text[cut:]
        data = text.encode(rng.choice(["utf-8", "utf-8-sig"]))
        whole = parse_examples_file(data, categories=CATEGORIES, category_required=False)
        if whole.file_errors:
            continue
        for parts in (1, 2, 3, 5):
            found = _read_in_parts(data, parts)
            whole_readings += found is None
            if found is not None:
                assert found == whole.rows, (text, parts)
                checked += 1
    assert checked > 500 and whole_readings < checked / 5


def test_a_plain_part_read_by_the_regular_expression_gives_the_csv_readers_rows():
    """`plain_rows` (bulk classification's fast reading of a part) gives exactly the rows, line numbers and
    ids `rows()` gives, or None; random files, most of them plain, some not (stray quotes, CR line ends,
    blank and short rows, tabs, a NUL)."""
    import random

    from labeling.importing.parser import ExamplesReader

    rng = random.Random(11)
    pieces = ["a", "b ", ",", '"', "\n", "\r\n", "\r", "é", '""', "x1", "\t", "AI", "nope", "한"]
    plain = 0
    for number in range(300):
        rows = [["id", "title", "body", "category"]]
        for _ in range(rng.randint(0, 14)):
            cells = ["".join(rng.choice(pieces) for _ in range(rng.randint(0, n))) for n in (1, 5, 25, 2)]
            rows.append([rng.choice(["", "id1", "id2", "id3"]), *cells[1:]])
        buffer = io.StringIO()
        delimiter = "\t" if number % 5 == 0 else ","
        csv.writer(buffer, delimiter=delimiter, lineterminator=rng.choice(["\n", "\r\n", "\r"])).writerows(
            rows
        )
        text = rng.choice(["", "\n", "\r\n \n"]) + buffer.getvalue() + rng.choice(["", "\n\n", "\r\n"])
        if rng.random() < 0.3:
            cut = rng.randint(len(text) // 2, len(text))
            text = text[:cut] + rng.choice(['"', "\n", "\r", 'q"q', ",", "\0", " \n"]) + text[cut:]
        data = text.encode(rng.choice(["utf-8", "utf-8-sig", "cp949"]) if "é" not in text else "utf-8")
        reader = ExamplesReader(data, categories=CATEGORIES, category_required=False)
        if not reader.open():
            continue
        for start, end in reader.part_bounds(rng.choice([1, 2, 3])):
            fast, slow = reader.part(start, end), reader.part(start, end)
            found, read = fast.plain_rows(), list(slow.rows())
            if found is not None:
                plain += 1
                assert (found, fast.builder.unchecked) == (read, slow.builder.unchecked), text
                assert not slow.csv_failed and fast.rows_read == slow.rows_read
    assert plain > 150


def test_a_part_that_is_not_plain_is_read_by_the_csv_reader_as_if_plain_rows_never_ran():
    """Bulk classification reads a part that `plain_rows` declines with that same part's `rows()`."""
    from labeling.importing.parser import ExamplesReader

    texts = [
        'id,title,body\na,t,"b\nc"\nb,t,st"ray\nc,t,x\n',  # a stray quote
        "id,title,body\na,t,b\nb,short\nc,t,x\n",  # a short row
        'id,title,body\na,t,b\nb,t,"never closed\nc,t,x\n',  # broken quoting: an error row
    ]
    for text in texts:
        reader = ExamplesReader(text.encode(), categories=CATEGORIES, category_required=False)
        assert reader.open()
        [(start, end)] = reader.part_bounds(1)
        declined, fresh = reader.part(start, end), reader.part(start, end)
        assert declined.plain_rows() is None
        assert list(declined.rows()) == list(fresh.rows()), text
        assert (declined.notes, declined.csv_failed, declined.rows_read, declined.builder.unchecked) == (
            fresh.notes,
            fresh.csv_failed,
            fresh.rows_read,
            fresh.builder.unchecked,
        )
