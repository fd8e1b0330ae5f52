"""Bulk classification without HTTP: a CSV file (the import's columns, category optional) or contents already
in the database, classified in process by the dataset's serving ensemble, in parallel across cores (threads).

The answers are `classify()`'s (same ensemble and decision, `ensemble_top`; not logged), so a file
classified here and the same texts sent to the API agree row for row. Output: one CSV row per text,
`external_id,predicted_category,score,second_category,second_score` (further pairs with `--k`), plus
`given_category` when the input has categories; categories written as the importer reads them
(`large › small`).
"""

import csv
import dataclasses
import functools
import io
import os
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse

from core.collector import collector_paused
from core.errors import ApplicationError
from core.models import Job
from labeling.importing import parse_examples_file
from labeling.importing.parser import ExamplesReader, duplicate_problems
from labeling.importing.records import part_bounds, text_byte_rows
from labeling.models import Category, Dataset, Example
from labeling.services.imports import category_refs
from labeling.services.queue import dataset_pool
from training.algorithms.word_counts import TextSpans
from training.errors import TrainingConflict
from training.services.classify import MAX_CHARS, TextToClassify, ensemble_top, span_chars
from training.serving import LoadedEnsemble, ensemble_for

CHUNK = 1000  # texts per batch of the models (the bench's predict_proba batches)
TASKS = 8  # at least this many units of work when there are enough texts (two workers balance; progress)
UNIT_BYTES = 2 << 20  # a file is read and classified in ranges of about this many bytes (or TASKS ranges)
MAX_K = 10
ERRORS_SHOWN = 5
CONFUSIONS_SHOWN = 20
PAIRS = (("predicted_category", "score"), ("second_category", "second_score"))


@dataclass
class BulkInput:
    """Texts to classify, with their external ids and (when known) the category each was given."""

    items: list[TextToClassify]
    external_ids: list[str]
    given: list[int | None]  # category id per row, None when unknown
    spans: TextSpans | None = None  # the rows whose text was left in the file's bytes (their items unused)

    @property
    def has_categories(self) -> bool:
        return any(category is not None for category in self.given)

    def rows(self, start: int, end: int) -> "BulkInput":
        spans = self.spans.rows(start, end) if self.spans is not None else None
        return BulkInput(self.items[start:end], self.external_ids[start:end], self.given[start:end], spans)


@dataclass
class BulkFile:
    """A CSV file whose header was read: its rows are read by the classifying workers, each its own ranges
    of bytes (`ExamplesReader.part`), and checked together as the import checks a file."""

    data: bytes
    categories: list  # the taxonomy's CategoryRefs
    reader: ExamplesReader  # opened: encoding, delimiter, columns known

    @functools.cached_property
    def array(self) -> np.ndarray:
        """`data` as an array of bytes (no copy), where the word counter reads texts left in the bytes."""
        return np.frombuffer(self.data, dtype=np.uint8)

    @property
    def has_categories(self) -> bool:  # every row of a file with a category column has one (or is refused)
        return "category" in self.reader.columns


@dataclass
class _Part:
    """One range of a file (or of stored rows) as a worker read it and, when nothing in it was refused,
    classified it: the output rows as CSV text and the figures against the given categories."""

    rows: int = 0
    refused: list[tuple[int, str]] = field(default_factory=list)  # (line, problem), duplicate ids aside
    ids: list[tuple[int, str]] = field(default_factory=list)  # (line, id), for the duplicate check
    csv_failed: bool = False  # its csv reader stopped on broken quoting
    too_long: str = ""  # its first text over the API's limit
    output: str | None = None
    hits: int = 0
    compared: int = 0
    confusions: Counter = field(default_factory=Counter)


@dataclass
class BulkResult:
    rows: int
    seconds: float
    workers: int  # threads of this process
    header: list[str]
    body: str  # the output rows as CSV, in input order
    accuracy: float | None = None
    compared: int = 0
    confusions: list[tuple[str, str, int]] = field(default_factory=list)  # (given, predicted, count)

    @property
    def texts_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0

    def csv_text(self) -> str:
        return _csv_lines([self.header]) + self.body

    def summary(self) -> dict:
        return {
            "rows": self.rows,
            "seconds": round(self.seconds, 3),
            "texts_per_second": round(self.texts_per_second, 1),
            "workers": self.workers,
            "accuracy": self.accuracy,
            "compared": self.compared,
            "confusions": [list(c) for c in self.confusions],
        }


def _csv_lines(rows: list[list]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows)
    return buffer.getvalue()


# --- input ------------------------------------------------------------------------------------------


def bulk_input_from_file(dataset: Dataset, data: bytes) -> BulkFile:
    """A CSV/TSV in the import's format (the category column optional), its header read: a file that cannot
    be read at all is refused here; its rows are read while classifying (`bulk_classify`), and any bad row
    refuses the whole file with a clear message naming the first lines, as the import does."""
    reader = ExamplesReader(data, categories=category_refs(dataset), category_required=False)
    if not reader.open():
        _refuse_file(reader.file_errors)
    return BulkFile(bytes(data), reader.categories, reader)


def _refuse_file(file_errors: list[str]) -> None:
    raise ApplicationError("The file cannot be read: " + "; ".join(file_errors) + ".")


def _read_whole_file(bulk: BulkFile) -> BulkInput:
    """The file's rows read at once, by the calling thread (when its parts could not be read apart)."""
    parsed = parse_examples_file(bulk.data, categories=bulk.categories, category_required=False)
    if parsed.file_errors:
        _refuse_file(parsed.file_errors)
    _refuse_rows([(row.line, row.error) for row in parsed.error_rows])
    rows = parsed.rows
    _check_lengths((row.line, row.title, row.body) for row in rows)
    return BulkInput(
        [TextToClassify(text=row.body, title=row.title) for row in rows],
        [row.external_id for row in rows],
        [row.category_id for row in rows],
    )


def _refuse_rows(errors: list[tuple[int, str]]) -> None:
    if errors:
        shown = "; ".join(f"line {line}: {error}" for line, error in errors[:ERRORS_SHOWN])
        more = f" (and {len(errors) - ERRORS_SHOWN} more)" if len(errors) > ERRORS_SHOWN else ""
        raise ApplicationError(
            f"{len(errors)} rows cannot be classified: {shown}{more}. Nothing was written."
        )


def bulk_input_from_contents(dataset: Dataset, sources: list[str] | None = None) -> BulkInput:
    """The dataset's pool of contents (its sources; with `sources`, only those whose source starts with one of
    them), in id order; a content that is an example of the dataset brings its category as the given one."""
    contents = dataset_pool(dataset).order_by("id")
    if sources:
        wanted = Q()
        for prefix in sources:
            wanted |= Q(source__startswith=prefix)
        contents = contents.filter(wanted)
    rows = list(contents.values_list("id", "external_id", "title", "body", "source"))
    if not rows:
        where = f" from {', '.join(sources)}" if sources else ""
        raise ApplicationError(f"No contents{where} to classify.")
    given = dict(
        Example.objects.filter(dataset=dataset, content_id__in=[row[0] for row in rows])
        .exclude(status=Example.Status.REMOVED)
        .values_list("content_id", "category_id")
    )
    _check_lengths((f"content {external_id}", title, body) for _, external_id, title, body, _ in rows)
    return BulkInput(
        [TextToClassify(text=body, title=title, source=source) for _, _, title, body, source in rows],
        [row[1] for row in rows],
        [given.get(row[0]) for row in rows],
    )


def _too_long(rows) -> str:
    """The API's limit on one text (title + body): the message for the first row over it ("" when none)."""
    for where, title, body in rows:
        if len(title) + len(body) > MAX_CHARS:
            where = f"line {where}" if isinstance(where, int) else where
            return (
                f"{where}: the text is longer than {MAX_CHARS:,} characters (title + body). "
                "Nothing was written."
            )
    return ""


def _check_lengths(rows) -> None:
    """The limit checked before any work starts."""
    if problem := _too_long(rows):
        raise ApplicationError(problem)


# --- classifying ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Work:
    """What every worker thread of a run reads (nothing in it is written while they run)."""

    ensemble: LoadedEnsemble
    bulk: BulkInput | BulkFile
    k: int
    paths: dict[int, str]
    cells: dict[int, str]  # the paths as CSV cells
    with_given: bool
    span_chars: int = 0  # a file's texts up to this long are counted from its bytes (`span_chars`)


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)))


def _units(bulk: BulkInput | BulkFile) -> list[tuple[int, int]]:
    """What one worker reads and classifies at a time: rows of a prepared input, byte ranges of a file.
    They depend on the input alone, never on the number of workers, so every worker count classifies
    the same batches (the same figures, byte for byte)."""
    if isinstance(bulk, BulkFile):
        return part_bounds(bulk.reader, bulk.array, max(TASKS, len(bulk.data) // UNIT_BYTES))
    total = len(bulk.items)
    size = max(1, min(CHUNK, -(-total // TASKS)))
    return [(start, min(start + size, total)) for start in range(0, total, size)]


def bulk_classify(
    *,
    dataset: Dataset,
    bulk: BulkInput | BulkFile,
    k: int = 2,
    workers: int | None = None,
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> BulkResult:
    """Classify every row with the serving ensemble, `workers` threads at a time (a file's rows are read by
    the workers too, each unit its own bytes), and lay out the output CSV; accuracy and the most frequent
    confusions when categories are known. Threads, not processes: the word counting and the products run
    without the GIL, and a fork of a process holding the models costs more CPU than it saves."""
    if not 1 <= k <= MAX_K:
        raise ApplicationError(f"k must be between 1 and {MAX_K}, not {k}.")
    ensemble = ensemble_for(dataset)
    if not ensemble.members and not ensemble.rules:
        if isinstance(bulk, BulkFile):
            _read_whole_file(bulk)  # a bad file says so first, as when files were read before this check
        raise TrainingConflict(
            f"Dataset {dataset.name} has no champion and no rules yet: train a model first."
        )
    if isinstance(bulk, BulkInput) and not bulk.items:
        raise ApplicationError("Nothing to classify.")
    workers, units = workers or default_workers(), _units(bulk)
    workers = min(workers, len(units))
    started = time.perf_counter()
    paths = _paths(dataset)
    cells = {category: _csv_cell(path) for category, path in paths.items()}
    work = _Work(ensemble, bulk, k, paths, cells, bulk.has_categories, span_chars(ensemble))
    with collector_paused():  # rows, answers and output lines: objects kept until the end, no cycles
        parts = _classify_threaded(work, units, workers, progress)
        if isinstance(bulk, BulkFile) and any(part.csv_failed for part in parts[:-1]):
            # a range did not end at a record's end (or the file's quoting is broken there): read it whole
            work = dataclasses.replace(work, bulk=(bulk := _read_whole_file(bulk)))
            parts = _classify_threaded(work, units := _units(bulk), min(workers, len(units)), progress)
    rows = _checked(bulk, parts)
    seconds = time.perf_counter() - started
    return _result(bulk, parts, rows, k, workers, seconds)


def _checked(bulk: BulkInput | BulkFile, parts: list[_Part]) -> int:
    """The rows read, or the import's refusal of the file: a file-wide problem, rows refused (the first
    lines named, duplicate ids across the whole file included), a text over the limit."""
    rows = sum(part.rows for part in parts)
    if isinstance(bulk, BulkFile):
        limit = bulk.reader.max_rows
        if rows - sum(part.csv_failed for part in parts) > limit:
            _refuse_file([f"more than {limit} rows: split the file"])
        if not rows:
            _refuse_file(["the file has a header but no rows"])
    refused = dict(problem for part in parts for problem in part.refused)
    duplicates = duplicate_problems([found for part in parts for found in part.ids])
    for line, problem in duplicates.items():
        refused[line] = f"{refused[line]}; {problem}" if refused.get(line) else problem
    _refuse_rows(sorted(refused.items()))
    if too_long := next((part.too_long for part in parts if part.too_long), ""):
        raise ApplicationError(too_long)
    return rows


def _read(work: _Work, unit: tuple[int, int]) -> tuple[BulkInput, _Part]:
    """A unit's rows (a file's bytes read; a prepared input's rows taken), and what was found wrong. A file's
    texts that the models can count in its bytes are left there (`text_byte_rows`)."""
    bulk, spans = work.bulk, None
    if isinstance(bulk, BulkInput):
        rows = bulk.rows(*unit)
        return rows, _Part(rows=len(rows.items))
    reader = bulk.reader.part(*unit)
    found = None
    if work.span_chars:
        found = text_byte_rows(reader, bulk.data, bulk.array, *unit, work.span_chars, some_kept=True)
    if found is not None:
        rows, bounds = found
        spans = TextSpans(bulk.array, bounds)
    elif (rows := reader.plain_rows()) is None:  # not plain: the import's csv reader, with its messages
        rows = list(reader.rows())
    part = _Part(
        rows=len(rows),
        refused=[(row.line, row.error) for row in rows if row.error],
        ids=reader.builder.unchecked,
        csv_failed=reader.csv_failed,
        too_long=_too_long((row.line, row.title, row.body) for row in rows),
    )
    read = BulkInput(
        [TextToClassify(text=row.body, title=row.title) for row in rows],
        [row.external_id for row in rows],
        [row.category_id for row in rows],
        spans,
    )
    return read, part


def _classify_threaded(work: _Work, units: list[tuple[int, int]], workers: int, progress) -> list[_Part]:
    """Every unit's part, in order, `workers` units at a time: while one thread reads or lays out (Python,
    holding the GIL), another counts words and multiplies (compiled code that lets the GIL go). Once a unit
    holds a refused row, the file is refused: units read after it are only read (their problems are named
    too), not classified. Progress is reported from the calling thread (a job writes it to the database)."""
    refused = threading.Event()

    def one(unit: tuple[int, int]) -> _Part:
        rows, part = _read(work, unit)
        if part.refused or part.csv_failed or part.too_long:
            refused.set()
        if not refused.is_set():
            _classify_part(work, rows, part)
        return part

    parts: list[_Part] = []
    with ThreadPoolExecutor(workers, thread_name_prefix="classify") as pool:
        futures = [pool.submit(one, unit) for unit in units]
        try:
            for future in futures:
                parts.append(future.result())
                progress(len(parts), len(units))
        finally:
            for future in futures:  # after an error: the units not started are dropped
                future.cancel()
    if refused.is_set():
        for part in parts:
            part.output = None
    return parts


def _classify_part(work: _Work, rows: BulkInput, part: _Part) -> None:
    """A unit's answers (batches of at most CHUNK texts), laid out as its output rows. No database."""
    answers = []
    for start in range(0, len(rows.items), CHUNK):
        batch = rows.rows(start, start + CHUNK)
        answers += ensemble_top(work.ensemble, batch.items, work.k, batch.spans)
    _lay_out(work, part, rows, answers)


CSV_SPECIAL = re.compile(r'[,"\r\n]')  # what makes the csv writer quote a cell (else written as it is)


def _csv_cell(value: str) -> str:
    """A cell as the csv writer writes it in a row of several (quoted only when it must be)."""
    return _csv_lines([[value, ""]])[:-2] if CSV_SPECIAL.search(value) else value


def _lay_out(work: _Work, part: _Part, rows: BulkInput, answers: list) -> None:
    """The unit's output rows as CSV text (what the csv writer writes, put together without it: the
    categories' paths are cells already), and its figures against the given categories."""
    k, cells, with_given = work.k, work.cells, work.with_given
    lines, paths = [], work.paths
    for external_id, given, (ids, scores) in zip(rows.external_ids, rows.given, answers, strict=True):
        line = [_csv_cell(external_id)]
        for number in range(k):
            line.append(f"{cells[ids[number]]},{scores[number]:.4f}" if number < len(ids) else ",")
        if with_given:
            line.append(cells[given] if given is not None else "")
            if given is not None:
                part.compared += 1
                part.hits += ids[0] == given
                if ids[0] != given:
                    part.confusions[(paths[given], paths[ids[0]])] += 1
        lines.append(",".join(line))
    lines.append("")
    part.output = "\n".join(lines)


def _paths(dataset: Dataset) -> dict[int, str]:
    return {
        category.id: category.path
        for category in Category.objects.filter(taxonomy_id=dataset.taxonomy_id).select_related("parent")
    }


def _result(
    bulk: BulkInput | BulkFile, parts: list[_Part], rows: int, k: int, workers: int, seconds: float
) -> BulkResult:
    pairs = [*PAIRS, *((f"category_{n}", f"score_{n}") for n in range(len(PAIRS) + 1, k + 1))][:k]
    header = ["external_id", *(name for pair in pairs for name in pair)]
    if bulk.has_categories:
        header.append("given_category")
    body = "".join(part.output for part in parts)
    result = BulkResult(rows, seconds, workers, header, body)
    compared = sum(part.compared for part in parts)
    if compared:
        confusions = sum((part.confusions for part in parts), Counter())
        result.accuracy = sum(part.hits for part in parts) / compared
        result.compared = compared
        result.confusions = [(g, p, n) for (g, p), n in confusions.most_common(CONFUSIONS_SHOWN)]
    return result


# --- as a job of the worker ---------------------------------------------------------------------------

JOB_KIND = "classify"


def bulk_folder() -> Path:
    return Path(settings.MODEL_DIR) / "bulk"


def bulk_job_files(job_id: int) -> tuple[Path, Path]:
    """(input, output) files of a classification job."""
    return bulk_folder() / f"job-{job_id}-input", bulk_folder() / f"job-{job_id}.csv"


def bulk_job_start(*, dataset: Dataset, user, data: bytes | None, sources: list[str], k: int) -> Job:
    """Queue a classification of an uploaded file (`data`) or of the dataset's pool (`data` None)."""
    from core.jobs import job_enqueue

    if not 1 <= k <= MAX_K:
        raise ApplicationError(f"k must be between 1 and {MAX_K}, not {k}.")
    if data is not None and not data.strip():
        raise ApplicationError("The file is empty.")
    with transaction.atomic():
        params = {"contents": data is None, "sources": sources, "k": k}
        job = job_enqueue(kind=JOB_KIND, dataset=dataset, params=params, user=user)
        if data is not None:
            source, _ = bulk_job_files(job.id)
            source.parent.mkdir(parents=True, exist_ok=True)
            source.write_bytes(data)
    return job


def bulk_job_run(job: Job) -> dict:
    """The worker's side: read, classify (progress on the job), write the output file; a summary as result."""
    from core.jobs import job_progress

    source, output = bulk_job_files(job.id)
    params = job.params
    job_progress(job, 0.02, "reading")
    if params.get("contents"):
        bulk = bulk_input_from_contents(job.dataset, params.get("sources") or [])
    else:
        bulk = bulk_input_from_file(job.dataset, source.read_bytes())
    result = bulk_classify(
        dataset=job.dataset,
        bulk=bulk,
        k=params.get("k", 2),
        progress=lambda done, total: job_progress(job, 0.05 + 0.9 * done / total, f"{done}/{total} chunks"),
    )
    output.write_text(result.csv_text(), encoding="utf-8")
    source.unlink(missing_ok=True)
    return result.summary() | {"next": reverse("training:bulk-result", args=[job.id])}
