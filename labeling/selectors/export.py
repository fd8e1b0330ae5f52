"""Streamed export of a dataset's examples (working state or a version) as CSV, JSONL or fastText."""

import csv
import io
import json
import re
from collections.abc import Iterator

from core.pauses import pause_point
from labeling.importing.parser import cell_escape
from labeling.models import Category, Content, Dataset, DatasetVersion
from labeling.selectors.versions import version_state, working_state

FORMATS = {"csv": "text/csv", "jsonl": "application/x-ndjson", "fasttext": "text/plain"}
CSV_COLUMNS = ["external_id", "title", "body", "category", "status"]
CHUNK = 2000
_SPACES = re.compile(r"\s+")


def fasttext_label(category: Category) -> str:
    """`__label__<large>/<small>` with spaces made underscores: fastText splits labels on whitespace."""
    return "__label__" + _SPACES.sub("_", category.path)


def _rows(dataset: Dataset, version: DatasetVersion | None) -> Iterator[tuple]:
    """(external id, title, body, category, status) per example, contents read 2,000 at a time; the labels
    are the state read at the start (one statement), whatever is saved while the export streams."""
    state = version_state(version) if version else working_state(dataset)
    categories = Category.objects.filter(taxonomy_id=dataset.taxonomy_id).select_related("parent").in_bulk()
    content_ids = sorted(state)
    for start in range(0, len(content_ids), CHUNK):
        pause_point("export-chunk")
        chunk = content_ids[start : start + CHUNK]
        texts = Content.objects.filter(id__in=chunk).values_list("id", "external_id", "title", "body")
        for content_id, external_id, title, body in sorted(texts):
            category_id, status, _ = state[content_id]
            yield external_id, title, body, categories[category_id], status


def _csv_lines(rows) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    yield "\ufeff"  # BOM: Excel then reads the UTF-8 (Korean) correctly
    writer.writerow(CSV_COLUMNS)
    for external_id, title, body, category, status in rows:
        writer.writerow([cell_escape(cell) for cell in (external_id, title, body, category.path, status)])
        if buffer.tell() > 65536:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _jsonl_lines(rows) -> Iterator[str]:
    for external_id, title, body, category, status in rows:
        record = {
            "external_id": external_id,
            "title": title,
            "body": body,
            "category": category.path,
            "large_category": category.parent.name,
            "small_category": category.name,
            "status": status,
        }
        yield json.dumps(record, ensure_ascii=False) + "\n"


def _fasttext_lines(rows) -> Iterator[str]:
    for _, title, body, category, status in rows:
        if status == "excluded":
            continue  # excluded examples are not trained on
        text = " ".join(f"{title} {body}".split())  # one line: fastText reads one example per line
        yield f"{fasttext_label(category)} {text}\n"


def export_lines(*, dataset: Dataset, fmt: str, version: DatasetVersion | None = None) -> Iterator[str]:
    """Text chunks of the export, produced lazily so 100k rows never sit in memory as one string."""
    writers = {"csv": _csv_lines, "jsonl": _jsonl_lines, "fasttext": _fasttext_lines}
    if fmt not in writers:
        raise ValueError(f"Unknown export format {fmt!r}: choose csv, jsonl or fasttext.")
    return writers[fmt](_rows(dataset, version))
