"""Importing labelled examples from CSV/TSV: preview (what would change, row by row), then apply as one
changeset. Parsing is in `labeling.importing.parser` (pure); this module checks rows against the database."""

from collections.abc import Iterator
from dataclasses import asdict, dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from core.collector import collector_paused
from core.errors import ApplicationError
from core.history import chunked
from core.inserts import insert_with_history
from core.pauses import pause_point
from core.text import text_problem
from labeling.importing import CategoryRef, ExamplesReader, ParsedRow
from labeling.models import Category, Changeset, Content, Dataset, Example, text_hash
from labeling.paths import PATH_MARK
from labeling.services.bulk import ApplyCounts, examples_apply
from labeling.services.contents import TITLE_MAX, content_fields
from labeling.services.versions import changeset_open
from labeling.services.words import content_words_refresh_later

EXTERNAL_ID_MAX = Content._meta.get_field("external_id").max_length
ROWS_KEPT = 1000  # rows of each kind kept in a stored preview


@dataclass
class ImportPreview:
    encoding: str
    delimiter: str
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    errors: int = 0
    file_errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error_rows: list[dict] = field(default_factory=list)
    changed_rows: list[dict] = field(default_factory=list)

    @property
    def accepted(self) -> int:
        return self.new + self.changed + self.unchanged

    def as_dict(self) -> dict:
        return asdict(self)


def category_refs(dataset: Dataset) -> list[CategoryRef]:
    small = Category.objects.filter(
        taxonomy_id=dataset.taxonomy_id, level=Category.Level.SMALL, status=Category.Status.ACTIVE
    ).select_related("parent")
    return [CategoryRef(id=c.id, large=c.parent.name, small=c.name) for c in small]


def _reader(dataset: Dataset, data, encoding: str, delimiter: str) -> ExamplesReader:
    """The file (bytes or a binary file object) opened for reading in chunks of rows."""
    reader = ExamplesReader(
        data,
        categories=category_refs(dataset),
        encoding=encoding or None,
        delimiter=delimiter or None,
        max_rows=settings.IMPORT_MAX_ROWS,
    )
    reader.open()
    return reader


def _chunks(reader: ExamplesReader) -> Iterator[list[ParsedRow]]:
    """The file's rows, `settings.IMPORT_CHUNK_ROWS` at a time, checked against our columns' rule."""
    if reader.file_errors:
        return
    for chunk in reader.chunks(settings.IMPORT_CHUNK_ROWS):
        _check_text(chunk)
        yield chunk


def _check_text(rows: list[ParsedRow]) -> None:
    """The rule of our columns (core/text.py), which the pure parser does not know."""
    for row in rows:
        if row.error:
            continue
        problems = [
            f"{name} {problem}"
            for name, value, limit in (
                ("external id", row.external_id, EXTERNAL_ID_MAX),
                ("title", row.title, TITLE_MAX),
                ("body", row.body, None),
            )
            if (problem := text_problem(value, max_length=limit))
        ]
        if problems:
            row.error = "; ".join(problems)


def _current(dataset: Dataset, external_ids: list[str]) -> dict[str, tuple]:
    """external id -> (content id, text hash, example category id or None, example status or None)."""
    current = {}
    contents = Content.objects.filter(external_id__in=external_ids).values_list(
        "external_id", "id", "text_hash"
    )
    for external_id, content_id, hashed in contents.iterator(chunk_size=5000):
        current[external_id] = (content_id, hashed, None, None)
    by_content = {value[0]: key for key, value in current.items()}
    examples = Example.objects.filter(dataset=dataset, content_id__in=list(by_content)).values_list(
        "content_id", "category_id", "status"
    )
    for content_id, category_id, status in examples.iterator(chunk_size=5000):
        key = by_content[content_id]
        current[key] = (content_id, current[key][1], category_id, status)
    return current


def _classify(row, now) -> str:
    if now is None or now[2] is None or now[3] == Example.Status.REMOVED:
        return "new"
    if (
        now[2] != row.category_id
        or now[3] != Example.Status.ACTIVE
        or now[1] != text_hash(row.title, row.body)
    ):
        return "changed"
    return "unchanged"


@collector_paused()
def import_preview(*, dataset: Dataset, data, encoding: str = "", delimiter: str = "") -> ImportPreview:
    """What applying this file would do: new / changed / unchanged / rejected rows, with reasons.

    `data` is bytes or a binary file object; it is read in chunks of rows (bounded memory)."""
    reader = _reader(dataset, data, encoding, delimiter)
    names = Category.objects.filter(taxonomy_id=dataset.taxonomy_id).select_related("parent").in_bulk()
    preview = ImportPreview("", "")
    for chunk in _chunks(reader):
        _preview_chunk(dataset, chunk, preview, names)
    preview.encoding, preview.delimiter = reader.encoding, reader.delimiter
    preview.notes = reader.notes
    if reader.file_errors:  # a file error voids the rows (one met after some chunks, too)
        preview = ImportPreview(reader.encoding, reader.delimiter, file_errors=reader.file_errors)
        preview.notes = reader.notes
    return preview


def _preview_chunk(dataset: Dataset, rows: list[ParsedRow], preview: ImportPreview, names: dict) -> None:
    current = _current(dataset, [row.external_id for row in rows if not row.error])
    for row in rows:
        if row.error:
            preview.errors += 1
            if len(preview.error_rows) < ROWS_KEPT:
                preview.error_rows.append(
                    {"line": row.line, "external_id": row.external_id, "error": row.error}
                )
            continue
        kind = _classify(row, current.get(row.external_id))
        setattr(preview, kind, getattr(preview, kind) + 1)
        if kind == "changed" and len(preview.changed_rows) < ROWS_KEPT:
            before = current[row.external_id][2]
            preview.changed_rows.append(
                {
                    "line": row.line,
                    "external_id": row.external_id,
                    "title": row.title[:120],
                    "before": names[before].path if before in names else "",
                    "after": names[row.category_id].path,
                }
            )


def _write_contents(rows, *, user, changeset: Changeset) -> dict[str, int]:
    """Create missing contents and update changed texts, with history; returns external id -> content id."""
    by_external_id = {row.external_id: row for row in rows}
    existing = _content_ids(list(by_external_id))  # external id -> (content id, text hash)
    now = timezone.now()
    fresh = [
        content_fields(external_id=r.external_id, title=r.title, body=r.body, modified_at=now)
        for r in rows
        if r.external_id not in existing
    ]
    ids = insert_with_history(Content, fresh, user=user, reason=changeset.reason, changeset=changeset)
    _update_texts(existing, by_external_id, user=user, changeset=changeset)
    content_ids = {key: value[0] for key, value in existing.items()}
    content_ids.update(zip((c["external_id"] for c in fresh), ids, strict=True))
    return content_ids


def _update_texts(existing: dict[str, tuple], by_external_id: dict, *, user, changeset: Changeset) -> None:
    # Compare hashes first: a re-import mostly changes nothing, so the wide rows are read only when needed.
    wanted = {}
    for external_id, (content_id, hashed) in existing.items():
        row = by_external_id[external_id]
        fresh_hash = text_hash(row.title, row.body)
        if hashed != fresh_hash:
            wanted[content_id] = (row, fresh_hash)
    stale = []
    for content in Content.objects.filter(id__in=list(wanted)).iterator(chunk_size=2000):
        row, fresh_hash = wanted[content.id]
        content.title, content.body, content.modified_at = row.title, row.body, timezone.now()
        content.text_hash = fresh_hash
        stale.append(content)
    bulk_update_with_history(
        stale,
        Content,
        ["title", "body", "text_hash", "modified_at"],
        batch_size=2000,
        default_user=user,
        default_change_reason=changeset.reason,
        custom_historical_attrs={"changeset_id": changeset.id},
    )


@collector_paused()
@transaction.atomic
def import_apply(
    *,
    dataset: Dataset,
    data,
    user,
    file_name: str,
    encoding: str = "",
    delimiter: str = "",
    skip_invalid: bool = False,
) -> Changeset:
    """Apply a file as one changeset (after an automatic version): all accepted rows or nothing.

    `data` (bytes or a binary file object) is parsed, checked and written in chunks of rows, all in this one
    transaction: a rejected row or a file error met in a later chunk rolls back what earlier chunks wrote."""
    reader = _reader(dataset, data, encoding, delimiter)
    if reader.file_errors:
        raise ApplicationError("The file cannot be imported: " + "; ".join(reader.file_errors))
    reason = f"import of {file_name}"
    changeset = changeset_open(dataset=dataset, kind=Changeset.Kind.IMPORT, user=user, reason=reason)
    counts, written, rejected, first_error = ApplyCounts(), 0, 0, None
    for chunk in _chunks(reader):
        errors = [row for row in chunk if row.error]
        rejected += len(errors)
        first_error = first_error or (errors[0] if errors else None)
        if first_error and not skip_invalid:
            continue  # nothing more is written: the rest is only read, to count the rejected rows
        rows = [row for row in chunk if not row.error]
        if rows:
            _apply_chunk(rows, counts, user=user, changeset=changeset)
            written += len(rows)
    if reader.file_errors:
        raise ApplicationError("The file cannot be imported: " + "; ".join(reader.file_errors))
    if first_error and not skip_invalid:
        raise ApplicationError(
            f"{rejected} rows were rejected (first on line {first_error.line}: "
            f"{first_error.error}). Fix the file, or apply only the valid rows."
        )
    if not written:
        raise ApplicationError("The file has no valid rows.")
    content_words_refresh_later()
    for name, value in asdict(counts).items():
        setattr(changeset, name, value)
    changeset.details = {"file": file_name, "rows": written, "rejected": rejected}
    changeset.save()
    return changeset


def _apply_chunk(rows: list[ParsedRow], counts: ApplyCounts, *, user, changeset: Changeset) -> None:
    content_ids = _write_contents(rows, user=user, changeset=changeset)
    pause_point("import-contents-written")
    targets = {content_ids[row.external_id]: (row.category_id, Example.Status.ACTIVE) for row in rows}
    done = examples_apply(
        dataset=changeset.dataset, targets=targets, changeset=changeset, user=user, reason=changeset.reason
    )
    for name, value in asdict(done).items():
        setattr(counts, name, getattr(counts, name) + value)


def _content_ids(external_ids: list[str]) -> dict[str, tuple[int, str]]:
    """external id -> (content id, text hash) of the contents that exist."""
    if connection.vendor == "postgresql":  # one array parameter: 10k placeholders cost the driver more
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT external_id, id, text_hash FROM labeling_content WHERE external_id = ANY(%s)",
                [external_ids],
            )
            return {external_id: (pk, hashed) for external_id, pk, hashed in cursor.fetchall()}
    ids = {}
    for chunk in chunked(external_ids):
        found = Content.objects.filter(external_id__in=chunk).values_list("external_id", "id", "text_hash")
        ids.update((external_id, (pk, hashed)) for external_id, pk, hashed in found)
    return ids


def _split_path(text: str) -> tuple[str, str]:
    """'large › small' or 'large/small' -> (large, small); a bare name goes under the large 'general'."""
    large, _, small = text.strip().partition(PATH_MARK if PATH_MARK in text else "/")
    return (large.strip(), small.strip()) if small.strip() else ("general", large.strip())


@transaction.atomic
def dataset_create_from_file(
    *, name: str, data: bytes, user, encoding: str = "", delimiter: str = "", min_examples: int = 200
) -> Dataset:
    """A new dataset whose taxonomy (named like it) holds the categories the file uses, as 'large/small'."""
    from labeling.services.datasets import dataset_create
    from labeling.services.taxonomy import category_create, taxonomy_create

    reader = ExamplesReader(
        data,
        categories=[],
        encoding=encoding or None,
        delimiter=delimiter or None,
        max_rows=settings.IMPORT_MAX_ROWS,
    )
    found = set()
    if reader.open():
        for chunk in reader.chunks(settings.IMPORT_CHUNK_ROWS):
            found.update(_split_path(row.category_text) for row in chunk if row.category_text.strip())
    if reader.file_errors:
        raise ApplicationError("The file cannot be imported: " + "; ".join(reader.file_errors))
    paths = sorted(found)
    if not paths:
        raise ApplicationError("The file names no categories.")
    taxonomy = taxonomy_create(name=name, description=f"created from an import into {name}")
    larges = {}
    for large_name, small_name in paths:
        if large_name not in larges:
            larges[large_name] = category_create(
                taxonomy=taxonomy, name=large_name, user=user, reason="created from an import file"
            )
        category_create(
            taxonomy=taxonomy,
            name=small_name,
            parent=larges[large_name],
            user=user,
            reason="created from an import file",
        )
    return dataset_create(name=name, taxonomy=taxonomy, min_examples_per_category=min_examples, user=user)
