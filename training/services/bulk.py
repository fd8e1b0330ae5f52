"""Bulk classification without HTTP: a CSV file (the import's columns, category optional) or contents already
in the database, classified in process by the dataset's serving ensemble, in parallel across processes.

The answers are `classify()`'s (same ensemble and decision, `ensemble_top`; not logged), so a file
classified here and the same texts sent to the API agree row for row. Output: one CSV row per text,
`external_id,predicted_category,score,second_category,second_score` (further pairs with `--k`), plus
`given_category` when the input has categories; categories written as the importer reads them
(`large › small`).
"""

import csv
import io
import os
import pickle
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse

from core.errors import ApplicationError
from core.models import Job
from labeling.importing import parse_examples_file
from labeling.models import Category, Dataset, Example
from labeling.services.imports import category_refs
from labeling.services.queue import dataset_pool
from training.errors import TrainingConflict
from training.services.classify import MAX_CHARS, TextToClassify, ensemble_top
from training.serving import ensemble_for

CHUNK = 1000  # texts per task handed to a process (the bench's predict_proba batches; progress, balance)
TASKS = 8  # at least this many tasks when there are enough texts (two processes balance; job progress)
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

    @property
    def has_categories(self) -> bool:
        return any(category is not None for category in self.given)


@dataclass
class BulkResult:
    rows: int
    seconds: float
    processes: int
    header: list[str]
    lines: list[list]  # the output rows, in input order
    accuracy: float | None = None
    compared: int = 0
    confusions: list[tuple[str, str, int]] = field(default_factory=list)  # (given, predicted, count)

    @property
    def texts_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0

    def csv_text(self) -> str:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(self.header)
        writer.writerows(self.lines)
        return buffer.getvalue()

    def summary(self) -> dict:
        return {
            "rows": self.rows,
            "seconds": round(self.seconds, 3),
            "texts_per_second": round(self.texts_per_second, 1),
            "processes": self.processes,
            "accuracy": self.accuracy,
            "compared": self.compared,
            "confusions": [list(c) for c in self.confusions],
        }


# --- input ------------------------------------------------------------------------------------------


def bulk_input_from_file(dataset: Dataset, data: bytes) -> BulkInput:
    """The rows of a CSV/TSV in the import's format; the category column is optional. Any bad row refuses
    the whole file (a clear message naming the first lines), as the import does."""
    parsed = parse_examples_file(data, categories=category_refs(dataset), category_required=False)
    if parsed.file_errors:
        raise ApplicationError("The file cannot be read: " + "; ".join(parsed.file_errors) + ".")
    errors = parsed.error_rows
    if errors:
        shown = "; ".join(f"line {row.line}: {row.error}" for row in errors[:ERRORS_SHOWN])
        more = f" (and {len(errors) - ERRORS_SHOWN} more)" if len(errors) > ERRORS_SHOWN else ""
        raise ApplicationError(
            f"{len(errors)} rows cannot be classified: {shown}{more}. Nothing was written."
        )
    rows = parsed.rows
    _check_lengths((row.line, row.title, row.body) for row in rows)
    return BulkInput(
        [TextToClassify(text=row.body, title=row.title) for row in rows],
        [row.external_id for row in rows],
        [row.category_id for row in rows],
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


def _check_lengths(rows) -> None:
    """The API's limit on one text (title + body), checked before any work starts."""
    for where, title, body in rows:
        if len(title) + len(body) > MAX_CHARS:
            where = f"line {where}" if isinstance(where, int) else where
            raise ApplicationError(
                f"{where}: the text is longer than {MAX_CHARS:,} characters (title + body). "
                "Nothing was written."
            )


# --- classifying ------------------------------------------------------------------------------------

_WORK: tuple | None = None  # (ensemble, items, k) of the pool being run: forked children inherit it


def one_thread_each() -> None:
    """A forked child computes on one core: BLAS/OpenMP pools and numba held to one thread, so N processes
    use N cores instead of N x threads fighting over them."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1)
    try:
        import numba

        numba.set_num_threads(1)
    except (ImportError, ValueError):  # numba absent, or its threading layer not started: nothing to hold
        pass


def _chunk_answers(bounds: tuple[int, int]) -> list[tuple[list[int], list[float]]]:
    """One chunk's top-k (category ids, scores); no database (a child never touches the parent's
    connection, which it shares)."""
    ensemble, items, k = _WORK
    return ensemble_top(ensemble, items[bounds[0] : bounds[1]], k)


def default_processes() -> int:
    return max(1, len(os.sched_getaffinity(0)))


def bulk_classify(
    *,
    dataset: Dataset,
    bulk: BulkInput,
    k: int = 2,
    processes: int | None = None,
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> BulkResult:
    """Classify every row with the serving ensemble, `processes` at a time (forked: each inherits the loaded
    models), and lay out the output CSV; accuracy and the most frequent confusions when categories are
    known."""
    global _WORK
    if not 1 <= k <= MAX_K:
        raise ApplicationError(f"k must be between 1 and {MAX_K}, not {k}.")
    if not bulk.items:
        raise ApplicationError("Nothing to classify.")
    ensemble = ensemble_for(dataset)  # loaded here, before any fork: the children share its pages
    if not ensemble.members and not ensemble.rules:
        raise TrainingConflict(
            f"Dataset {dataset.name} has no champion and no rules yet: train a model first."
        )
    processes, total = processes or default_processes(), len(bulk.items)
    # the same chunks whatever the number of processes: the same batches, so the same figures byte for byte
    size = max(1, min(CHUNK, -(-total // TASKS)))
    bounds = [(start, min(start + size, total)) for start in range(0, total, size)]
    processes = min(processes, len(bounds))
    started = time.perf_counter()
    _WORK = (ensemble, bulk.items, k)
    try:
        answers = _classify_forked(bounds, processes, progress)
    finally:
        _WORK = None
    seconds = time.perf_counter() - started
    return _result(bulk, answers, k, processes, seconds, _paths(dataset))


def _groups(bounds: list[tuple[int, int]], processes: int) -> list[list[tuple[int, int]]]:
    """The chunks in `processes` runs of consecutive chunks, of about the same number of characters each."""
    items = _WORK[1]
    sizes = [sum(len(item.text) + len(item.title) for item in items[a:b]) + 1 for a, b in bounds]
    total, groups, done = sum(sizes), [[] for _ in range(processes)], 0
    for part, size in zip(bounds, sizes, strict=True):
        groups[min(processes - 1, done * processes // total)].append(part)
        done += size
    return [group for group in groups if group]


def _classify_forked(bounds, processes: int, progress) -> list[tuple[list[int], list[float]]]:
    """Answers for every chunk, in order: the first run of chunks here, each other run in a forked child
    (which inherits the models and the texts, so nothing goes to it; only its small answers come back
    through a pipe). This process works too, so N processes cost N - 1 forks."""
    groups = _groups(bounds, processes) if processes > 1 else [bounds]
    children = [_fork(group) for group in groups[1:]]
    answers: list[tuple[list[int], list[float]]] = []
    try:
        for done, part in enumerate(groups[0], 1):
            answers += _chunk_answers(part)
            progress(done, len(bounds))
        done = len(groups[0])
        while children:
            pid, reader = children[0]
            with os.fdopen(reader, "rb") as pipe:
                data = pipe.read()
            children.pop(0)
            _, status = os.waitpid(pid, 0)
            outcome, value = pickle.loads(data) if data else ("error", "no answer")
            if outcome != "ok" or status != 0:
                raise RuntimeError(f"a classification process failed: {value}")
            answers += value
            done += len(groups[len(groups) - len(children) - 1])
            progress(done, len(bounds))
    finally:
        for pid, reader in children:  # after an error: the pipes closed (a writing child stops), all reaped
            os.close(reader)
            os.waitpid(pid, 0)
    return answers


def _fork(group: list[tuple[int, int]]) -> tuple[int, int]:
    """A child classifying `group` and writing ("ok", answers) or ("error", text) to a pipe; (pid, pipe)."""
    reader, writer = os.pipe()
    pid = os.fork()
    if pid:
        os.close(writer)
        return pid, reader
    code = 1
    try:  # the child: no database, no return into the caller's code
        os.close(reader)
        one_thread_each()
        try:
            message = ("ok", [answer for part in group for answer in _chunk_answers(part)])
            code = 0
        except BaseException as error:  # reported to the parent, which raises
            message = ("error", f"{type(error).__name__}: {error}")
        with os.fdopen(writer, "wb") as pipe:
            pipe.write(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))
    finally:
        os._exit(code)


def _paths(dataset: Dataset) -> dict[int, str]:
    return {
        category.id: category.path
        for category in Category.objects.filter(taxonomy_id=dataset.taxonomy_id).select_related("parent")
    }


def _result(
    bulk: BulkInput, answers: list, k: int, processes: int, seconds: float, paths: dict
) -> BulkResult:
    pairs = [*PAIRS, *((f"category_{n}", f"score_{n}") for n in range(len(PAIRS) + 1, k + 1))][:k]
    header = ["external_id", *(name for pair in pairs for name in pair)]
    with_given = bulk.has_categories
    if with_given:
        header.append("given_category")
    lines, hits, compared, confusions = [], 0, 0, Counter()
    for external_id, given, (ids, scores) in zip(bulk.external_ids, bulk.given, answers, strict=True):
        line = [external_id]
        for number in range(k):
            line += [paths[ids[number]], f"{scores[number]:.4f}"] if number < len(ids) else ["", ""]
        if with_given:
            line.append(paths[given] if given is not None else "")
            if given is not None:
                compared += 1
                hits += ids[0] == given
                if ids[0] != given:
                    confusions[(paths[given], paths[ids[0]])] += 1
        lines.append(line)
    result = BulkResult(len(lines), seconds, processes, header, lines)
    if compared:
        result.accuracy, result.compared = hits / compared, compared
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
