"""The import/export benchmark itself (imported by bench/import_export.py once Django is set up)."""

import csv
import io
import json
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client

from bench.common import (
    Checks,
    FigureBench,
    checks_lines,
    machine_lines,
    migrate_fresh,
    run_measured,
    say,
)
from bench.corpus import NEWSGROUPS, NEWSGROUPS_TAR, _newsgroup_post, newsgroups_taxonomy
from bench.measure import Profiler, peak_rss_bytes, reset_peak_rss
from labeling.models import Changeset, Content, Dataset, DatasetVersion, Example
from labeling.selectors.export import export_lines
from labeling.services.datasets import dataset_create
from labeling.services.imports import import_apply, import_preview

SCRIPT = "bench/import_export.py"
TRAIN = "20news-bydate-train"
TRAIN_POSTS = 11_314  # the official train split
USER = "bench"
FILE_NAME = "20news-bydate-train.csv"
EXPORT_FORMATS = ("csv", "jsonl", "fasttext")

# Targets from the issue, on this 2-core machine (seconds).
TARGETS = {"import": 3.0, "export": 2.0}

# Reference figures the issue gives for the same file on this machine (measured by someone else).
REFERENCES = [
    {
        "tool": "Doccano",
        "import_seconds": 5.9,
        "csv_export_seconds": 3.5,
        "label_history": "no",
        "fasttext": "not valid fastText",
    },
    {
        "tool": "Label Studio",
        "import_seconds": 15.0,
        "csv_export_seconds": 20.0,
        "label_history": "no",
        "fasttext": "—",
    },
]

# Where the time goes: these functions are wrapped (inclusive wall time), every SQL execute is timed.
# Names the code measured does not have (any more) are skipped; the results list those found.
INSTRUMENTED = [
    (
        "labeling.services.imports",
        "",
        (
            "import_preview",
            "import_apply",
            "_parse",
            "parse_examples_file",
            "category_refs",
            "_current",
            "_write_contents",
            "_content_ids",
            "_update_texts",
            "content_build",
            "text_hash",
            "bulk_update_with_history",
        ),
    ),
    ("labeling.services.imports", "", ("changeset_open", "changeset_apply")),
    ("labeling.services.imports", "contents: ", ("insert_with_history",)),
    (
        "labeling.services.versions",
        "",
        ("changeset_open", "dataset_commit", "_write_entries", "training_counts", "changeset_apply"),
    ),
    ("labeling.services.versions", "examples: ", ("examples_apply",)),
    ("labeling.services.bulk", "examples: ", ("_plan", "insert_with_history", "history_insert_select")),
    ("core.inserts", "", ("reserve_ids", "copy_rows")),
    ("labeling.selectors.export", "", ("working_state", "version_state")),
]

# The top-level parts of import_apply (they do not nest in each other): which one dominates.
IMPORT_PARTS = [
    ("_parse", "parse and check the file (decode, csv, categories, limits)"),
    ("changeset_open", "automatic version of the state before it + the changeset row"),
    ("_write_contents", "contents: look up, COPY new ones + their history, update changed texts"),
    ("changeset_apply", "examples: plan, insert/update + their history rows"),
]


@dataclass(frozen=True)
class Post:
    external_id: str
    title: str
    body: str
    group: str


def read_train_split() -> list[Post]:
    """The 11,314 posts of the official train split, the tar read once, sequentially (Latin-1).

    Title = the Subject header, body = the text after the headers; a post with an empty body is kept."""
    posts = []
    with tarfile.open(NEWSGROUPS_TAR, "r|gz") as tar:
        for member in tar:
            parts = member.name.split("/")  # [20news-bydate/]20news-bydate-train/<group>/<id>
            if not member.isfile() or len(parts) < 3 or parts[-3] != TRAIN:
                continue
            group, post_id = parts[-2], parts[-1]
            subject, body = _newsgroup_post(tar.extractfile(member).read())
            posts.append(Post(f"20news/train/{group}/{post_id}", subject, body, group))
    return posts


def build_csv(posts: list[Post], prefix: str = "") -> bytes:
    """external_id,title,body,category (category = the group name, e.g. comp.graphics), UTF-8."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["external_id", "title", "body", "category"])
    for post in posts:
        writer.writerow([prefix + post.external_id, post.title, post.body, post.group])
    return buffer.getvalue().encode("utf-8")


class Bench(FigureBench):
    targets = TARGETS

    def __init__(self, *, repeat: int) -> None:
        self.repeat = repeat
        self.profiler = Profiler()
        self.check = Checks()
        self.figures: list[dict] = []
        self.breakdowns: dict[str, dict] = {}
        self.step_peak_rss: dict[str, int] = {}
        self.process_peak_rss = 0
        self.can_reset_peak = True
        self.info: dict = {}
        self.exports: dict[str, dict] = {}

    # --- bookkeeping -----------------------------------------------------------------------------------

    def timed_once(self, key: str, function):
        """Run `function` once under the profiler; keep its breakdown (one per run, under key/run)."""
        self.process_peak_rss = max(self.process_peak_rss, peak_rss_bytes())
        self.can_reset_peak = self.can_reset_peak and reset_peak_rss()
        with self.profiler.step() as span:
            result = function()
        if self.can_reset_peak:
            self.step_peak_rss[key] = max(self.step_peak_rss.get(key, 0), peak_rss_bytes())
        self.breakdowns.setdefault(key, []).append(span.breakdown())
        return result, span.seconds

    def median_breakdown(self, key: str) -> dict | None:
        runs = self.breakdowns.get(key) or []
        if not runs:
            return None
        return sorted(runs, key=lambda b: b["seconds"])[(len(runs) - 1) // 2]

    # --- setup -----------------------------------------------------------------------------------------

    def setup(self) -> None:
        self.figure("setup_migrate", "setup: migrate", [migrate_fresh(SCRIPT)])
        self.user = get_user_model().objects.create_superuser(USER, f"{USER}@example.invalid", None)
        start = time.perf_counter()
        self.posts = read_train_split()
        self.figure(
            "setup_read",
            "setup: read the train split from the tar (once, sequentially)",
            [time.perf_counter() - start],
        )
        self.check("posts in the train split", TRAIN_POSTS, len(self.posts))
        self.check(
            "the train split's groups are the 20 newsgroups",
            True,
            {p.group for p in self.posts} == set(NEWSGROUPS),
        )
        self.info["posts_with_empty_body"] = sum(not p.body for p in self.posts)
        self.info["posts_with_empty_title"] = sum(not p.title for p in self.posts)
        self.info["longest_body_chars"] = max(len(p.body) for p in self.posts)
        start = time.perf_counter()
        self.files = [build_csv(self.posts, prefix=self._prefix(run)) for run in range(self.repeat)]
        self.figure(
            "setup_csv",
            f"setup: build the CSV files in memory ({self.repeat})",
            [time.perf_counter() - start],
        )
        self.info["csv_bytes"] = len(self.files[0])
        self.taxonomy = self._taxonomy()
        self.client = Client()
        self.client.force_login(self.user)
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]  # the test Client's host
        found = {}
        for module, prefix, names in INSTRUMENTED:
            found.setdefault(module, []).extend(
                prefix + name for name in self.profiler.instrument(module, *names, prefix=prefix)
            )
        self.info["instrumented"] = found
        self.profiler.instrument_commit()

    @staticmethod
    def _prefix(run: int) -> str:
        """Run 1 imports the file as is; later runs prefix the external ids (new contents, same text)."""
        return f"run{run + 1}/" if run else ""

    def _taxonomy(self):
        taxonomy = newsgroups_taxonomy(self.user)
        self.info["large_categories"] = sorted({group.split(".")[0] for group in NEWSGROUPS})
        return taxonomy

    # --- the measured steps ----------------------------------------------------------------------------

    def run(self) -> None:
        runs: dict[str, list[float]] = {}
        for run in range(self.repeat):
            say(f"import run {run + 1} of {self.repeat}")
            for key, seconds in self._import_run(run).items():
                runs.setdefault(key, []).append(seconds)
        n = f"{TRAIN_POSTS:,}"
        self.figure("preview", f"(a) import_preview of the file ({n} new rows)", runs["preview"])
        self.figure(
            "apply",
            f"(b) import_apply into the empty dataset ({n} contents + examples, history, changeset, version)",
            runs["apply"],
            "import",
        )
        self.figure(
            "preview_again",
            f"import_preview of the same file after the import ({n} unchanged)",
            runs["preview2"],
        )
        self.figure(
            "apply_again",
            "(c) second import_apply of the same file (nothing changes)",
            runs["apply2"],
            "import",
        )
        for fmt in EXPORT_FORMATS:
            self._export_direct(fmt)
        self._export_view("csv")

    def _import_run(self, run: int) -> dict[str, float]:
        data, prefix = self.files[run], self._prefix(run)
        dataset = dataset_create(
            name=f"20newsgroups-train-{run + 1}",
            taxonomy=self.taxonomy,
            min_examples_per_category=200,
            user=self.user,
        )
        self.dataset = dataset  # the exports read the last one
        seconds = {}

        preview, seconds["preview"] = self.timed_once(
            "preview", lambda: import_preview(dataset=dataset, data=data)
        )
        self.check(f"run {run + 1}: preview new rows", TRAIN_POSTS, preview.new)
        self.check(f"run {run + 1}: preview rejected rows", 0, preview.errors)
        if preview.errors:
            self.info[f"run{run + 1}_rejected_rows"] = preview.error_rows[:10]

        history_before = Example.history.count()
        changeset, seconds["apply"] = self.timed_once(
            "apply", lambda: import_apply(dataset=dataset, data=data, user=self.user, file_name=FILE_NAME)
        )
        self._check_first_import(run, dataset, changeset, prefix, history_before)

        preview, seconds["preview2"] = self.timed_once(
            "preview_again", lambda: import_preview(dataset=dataset, data=data)
        )
        self.check(f"run {run + 1}: preview after the import: unchanged rows", TRAIN_POSTS, preview.unchanged)

        history_before = Example.history.count(), Content.history.count()
        again, seconds["apply2"] = self.timed_once(
            "apply_again",
            lambda: import_apply(dataset=dataset, data=data, user=self.user, file_name=FILE_NAME),
        )
        self.check(f"run {run + 1}: second import changes nothing", 0, again.total)
        self.check(
            f"run {run + 1}: second import writes no history rows",
            history_before,
            (Example.history.count(), Content.history.count()),
        )
        self.check(
            f"run {run + 1}: examples after the second import",
            TRAIN_POSTS,
            Example.objects.filter(dataset=dataset).count(),
        )
        version = again.version_before
        self.info.setdefault("second_import_automatic_version", []).append(
            {
                "number": version.number if version else None,
                "entries_written": version.entries_written if version else None,
            }
        )
        return seconds

    def _check_first_import(
        self, run, dataset: Dataset, changeset: Changeset, prefix: str, before: int
    ) -> None:
        label = f"run {run + 1}: "
        self.check(label + "changeset kind", Changeset.Kind.IMPORT, changeset.kind)
        self.check(label + "changeset counts examples added", TRAIN_POSTS, changeset.added)
        self.check(
            label + "examples in the dataset", TRAIN_POSTS, Example.objects.filter(dataset=dataset).count()
        )
        self.check(
            label + "example history rows linked to the changeset",
            TRAIN_POSTS,
            Example.history.filter(changeset_id=changeset.id).count(),
        )
        self.check(
            label + "history rows written by the import", TRAIN_POSTS, Example.history.count() - before
        )
        self.check(
            label + "content history rows linked to the changeset",
            TRAIN_POSTS,
            Content.history.filter(changeset_id=changeset.id).count(),
        )
        self.check(
            label + "contents created",
            TRAIN_POSTS,
            Content.objects.filter(external_id__startswith=prefix + "20news/train/").count(),
        )
        version = changeset.version_before
        self.check(
            label + "automatic version before the import",
            DatasetVersion.Kind.AUTOMATIC,
            version and version.kind,
        )
        if run == 0:  # the categories as imported (run 1 only: the file as is)
            wanted = {p.external_id: p.group for p in self.posts}
            got = dict(
                Example.objects.filter(dataset=dataset).values_list("content__external_id", "category__name")
            )
            self.check(label + "every example in its group", True, got == wanted)

    def _export_direct(self, fmt: str) -> None:
        runs, chunks = [], []
        for _ in range(self.repeat):
            chunks = []
            _, seconds = self.timed_once(f"export_{fmt}", lambda chunks=chunks: self._consume(chunks, fmt))
            runs.append(seconds)
        data = b"".join(chunks)
        self.exports[fmt] = self._describe(fmt, data)
        self.figure(
            f"export_{fmt}",
            f"(d) export_lines of the working state as {fmt} ({len(data) / 1e6:.1f} MB)",
            runs,
            "export",
            bytes=len(data),
        )

    def _consume(self, chunks: list[bytes], fmt: str) -> None:
        for chunk in export_lines(dataset=self.dataset, fmt=fmt):
            chunks.append(chunk.encode("utf-8"))

    def _export_view(self, fmt: str) -> None:
        url = f"/labeling/datasets/{self.dataset.id}/export/?format={fmt}"
        runs, data, status = [], b"", None
        for _ in range(self.repeat):

            def request():
                response = self.client.get(url)
                return response.status_code, b"".join(response.streaming_content)

            (status, data), seconds = self.timed_once(f"view_export_{fmt}", request)
            runs.append(seconds)
        self.check(f"HTTP export ({fmt}) status", 200, status)
        self.check(f"HTTP export ({fmt}) bytes equal export_lines'", self.exports[fmt]["bytes"], len(data))
        self.figure(
            f"view_export_{fmt}",
            f"(e) GET /labeling/datasets/<id>/export/?format={fmt} (test Client, streamed, "
            f"{len(data) / 1e6:.1f} MB)",
            runs,
            "export",
            bytes=len(data),
        )

    def _describe(self, fmt: str, data: bytes) -> dict:
        """Bytes and lines of an export, and the checks that it is what it claims to be."""
        text = data.decode("utf-8")
        described = {"bytes": len(data), "newlines": text.count("\n")}
        if fmt == "csv":
            rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline="")))
            described["records"] = len(rows) - 1
            self.check("csv export: records (header apart)", TRAIN_POSTS, len(rows) - 1)
            self.check("csv export: header", ["external_id", "title", "body", "category", "status"], rows[0])
            wanted = {p.external_id: p.group for p in self.posts}
            prefix = self._prefix(self.repeat - 1)
            got = {row[0].removeprefix(prefix): row[3].split("/", 1)[-1] for row in rows[1:]}
            self.check("csv export: every example with its group", True, got == wanted)
        elif fmt == "jsonl":
            lines = text.splitlines()
            records = [json.loads(line) for line in lines]
            described["records"] = len(records)
            self.check("jsonl export: one JSON object per line", TRAIN_POSTS, len(records))
        else:
            lines = text.split("\n")
            self.check("fasttext export ends with a newline", "", lines[-1])
            lines = lines[:-1]
            described["records"] = len(lines)
            described["labels"] = len({line.split(" ", 1)[0] for line in lines})
            self.check("fasttext export: exactly one line per example", TRAIN_POSTS, len(lines))
            self.check(
                "fasttext export: every line starts with __label__",
                len(lines),
                sum(line.startswith("__label__") for line in lines),
            )
            self.check("fasttext export: distinct labels", len(NEWSGROUPS), described["labels"])
            described["first_line"] = lines[0][:120] if lines else ""
        return described

    # --- results -------------------------------------------------------------------------------------

    def results(self, machine: dict, code: dict) -> dict:
        return {
            "benchmark": "import_export",
            "machine": machine,
            "code": code,
            "parameters": {
                "posts": TRAIN_POSTS,
                "file": FILE_NAME,
                "repeat": self.repeat,
                "source": str(NEWSGROUPS_TAR),
            },
            "info": self.info,
            "targets_seconds": TARGETS,
            "references": REFERENCES,
            "figures": self.figures,
            "failed_targets": [row["key"] for row in self.figures if row["verdict"] == "FAIL"],
            "exports": self.exports,
            "import_parts": self._import_parts(),
            "peak_rss_bytes": max(self.process_peak_rss, peak_rss_bytes()),
            "checks": self.check.rows,
            "breakdowns": self.breakdowns,
        }

    def _import_parts(self) -> dict | None:
        """import_apply's median run split into its top-level parts (they do not nest in each other)."""
        breakdown = self.median_breakdown("apply")
        if breakdown is None:
            return None
        functions, sql = breakdown["functions"], breakdown["sql"]
        parts = []
        for name, what in IMPORT_PARTS:
            if name in functions:
                parts.append({"part": name, "what": what, "seconds": functions[name]["seconds"]})
        commit = sql.get("COMMIT (deferred FK checks)")
        if commit:
            parts.append(
                {
                    "part": "COMMIT",
                    "what": "end of the transaction: deferred FK checks",
                    "seconds": commit["seconds"],
                }
            )
        rest = breakdown["seconds"] - sum(part["seconds"] for part in parts)
        parts.append(
            {"part": "rest", "what": "everything else (targets dict, savepoints, ...)", "seconds": rest}
        )
        for part in parts:
            part["share"] = round(part["seconds"] / breakdown["seconds"], 3) if breakdown["seconds"] else 0
            part["seconds"] = round(part["seconds"], 4)
        return {
            "seconds": breakdown["seconds"],
            "parts": parts,
            "dominant": max(parts, key=lambda p: p["seconds"]),
        }


# --- the report for people ---------------------------------------------------------------------------


def _mb(size: int) -> str:
    return f"{size / 2**20:,.1f} MiB"


def _md_figures(results: dict) -> list[str]:
    params = results["parameters"]
    lines = [
        "# Benchmark: import and export of 20 Newsgroups (train split)",
        "",
        f"The official 20 Newsgroups train split, {params['posts']:,} posts in 20 groups, as one CSV file "
        f"(`external_id,title,body,category`, {results['info'].get('csv_bytes', 0) / 1e6:.1f} MB, UTF-8), "
        "imported into an empty dataset whose taxonomy has the 20 groups as small categories under alt, "
        "comp, misc, rec, sci, soc and talk; then the working state exported. Produced by `make bench` "
        "(`bench/import_export.py`); see `bench/README.md`. Wall-clock seconds in one process, PostgreSQL; "
        f"each figure is the median of {params['repeat']} runs (each import run into a new empty dataset).",
        "",
    ]
    if results.get("error"):
        lines += ["**The run stopped on an error; the figures below are those measured before it:**", ""]
        lines += ["```", results["error"].rstrip(), "```", ""]
    lines += ["| figure | median | runs | target | verdict | peak RSS |", "|---|---:|---|---:|---|---:|"]
    for row in results["figures"]:
        target = f"< {row['target_seconds']:g} s" if row["target_seconds"] is not None else "—"
        verdict = "**FAIL**" if row["verdict"] == "FAIL" else row["verdict"]
        rss = _mb(row["peak_rss_bytes"]) if row.get("peak_rss_bytes") else "—"
        runs = ", ".join(f"{run:.2f}" for run in row["runs"])
        lines.append(f"| {row['label']} | {row['seconds']:.2f} s | {runs} | {target} | {verdict} | {rss} |")
    failed = results["failed_targets"]
    lines += ["", f"Targets missed: {', '.join(failed) if failed else 'none'}.", ""]
    return lines


def _md_references(results: dict) -> list[str]:
    figures = {row["key"]: row for row in results["figures"]}
    lines = [
        "## Compared with other tools",
        "",
        "Reference figures from the issue, for the same file on this machine (measured by someone else, not "
        "by this script):",
        "",
        "| tool | import | CSV export | label history | fastText export |",
        "|---|---:|---:|---|---|",
    ]
    if "apply" in figures and "export_csv" in figures:
        view = figures.get("view_export_csv", figures["export_csv"])
        fasttext = results["exports"].get("fasttext", {})
        valid = (
            "valid, one line per example"
            if fasttext.get("records") == results["parameters"]["posts"]
            else "**not one line per example**"
        )
        lines.append(
            f"| bunryu (this run) | {figures['apply']['seconds']:.1f} s | {view['seconds']:.1f} s "
            f"(view) / {figures['export_csv']['seconds']:.1f} s (direct) | yes: one history row per example "
            f"and content, a changeset, an automatic version | {valid} |"
        )
    for ref in results["references"]:
        lines.append(
            f"| {ref['tool']} | {ref['import_seconds']:g} s | {ref['csv_export_seconds']:g} s | "
            f"{ref['label_history']} | {ref['fasttext']} |"
        )
    return [*lines, ""]


def _md_import_parts(results: dict) -> list[str]:
    parts = results.get("import_parts")
    if not parts:
        return []
    dominant = parts["dominant"]
    lines = [
        "## Where the time goes in import_apply",
        "",
        f"The median run of (b), {parts['seconds']:.2f} s, split into the top-level parts of `import_apply` "
        f"(they do not overlap). Largest: **{dominant['part']}**, {dominant['seconds']:.2f} s "
        f"({dominant['share']:.0%}).",
        "",
        "| part | what it does | seconds | share |",
        "|---|---|---:|---:|",
    ]
    for part in parts["parts"]:
        lines.append(f"| `{part['part']}` | {part['what']} | {part['seconds']:.2f} | {part['share']:.0%} |")
    return [*lines, ""]


def _breakdown_lines(key: str, label: str, breakdown: dict | None, top: int = 14) -> list[str]:
    if breakdown is None:
        return []
    lines = [
        f"**{label}** (`{key}`, median run): {breakdown['seconds']:.2f} s, of which waiting on PostgreSQL "
        f"(execute and COMMIT) {breakdown['database_seconds']:.2f} s, the rest "
        f"{breakdown['seconds'] - breakdown['database_seconds']:.2f} s",
        "",
        "| where | calls | seconds |",
        "|---|---:|---:|",
    ]
    for name, entry in list(breakdown["functions"].items())[:top]:
        lines.append(f"| `{name}()` | {entry['calls']:,} | {entry['seconds']:.3f} |")
    for name, entry in list(breakdown["sql"].items())[:top]:
        if entry["seconds"] >= 0.005:
            lines.append(f"| SQL `{name}` | {entry['statements']:,} | {entry['seconds']:.3f} |")
    return [*lines, ""]


BREAKDOWNS_SHOWN = (
    ("apply", "(b) import_apply"),
    ("apply_again", "(c) second import_apply"),
    ("preview", "(a) import_preview"),
    ("export_csv", "(d) export as csv"),
    ("export_fasttext", "(d) export as fasttext"),
    ("view_export_csv", "(e) HTTP export as csv"),
)


def _md_breakdowns(results: dict) -> list[str]:
    lines = [
        "## Breakdowns",
        "",
        "Inclusive wall time of the labeling functions called (they nest: `_write_contents` contains its "
        "`insert_with_history`), and of SQL `execute()` calls by statement and table, plus COMMIT (where "
        "PostgreSQL runs Django's deferred foreign-key checks). COPY runs outside `execute()`: its time is "
        "in `copy_rows()`, not in the SQL lines. Rows read through a server-side cursor "
        "(`QuerySet.iterator()`) are fetched outside `execute()` and count as Python.",
        "",
    ]
    for key, label in BREAKDOWNS_SHOWN:
        runs = results["breakdowns"].get(key) or []
        if runs:
            lines += _breakdown_lines(
                key, label, sorted(runs, key=lambda b: b["seconds"])[(len(runs) - 1) // 2]
            )
    versions = results["info"].get("second_import_automatic_version")
    if versions:
        written = ", ".join(f"v{v['number']}: {v['entries_written']:,} entries" for v in versions)
        lines += [
            f"The automatic version that the second import writes first ({written}) snapshots the state the "
            "first import left; the re-import itself writes no example or history row.",
            "",
        ]
    return lines


def _md_exports(results: dict) -> list[str]:
    lines = ["## Exports", "", "| format | bytes | newlines | records |", "|---|---:|---:|---:|"]
    for fmt, described in results["exports"].items():
        records = described.get("records", 0)
        lines.append(f"| {fmt} | {described['bytes']:,} | {described['newlines']:,} | {records:,} |")
    fasttext = results["exports"].get("fasttext")
    if fasttext and fasttext.get("first_line"):
        lines += ["", f"First fastText line (cut at 120 characters): `{fasttext['first_line']}`"]
    return [*lines, ""]


def markdown(results: dict) -> str:
    lines = [
        *_md_figures(results),
        *_md_references(results),
        *_md_import_parts(results),
        *_md_breakdowns(results),
        *_md_exports(results),
        *checks_lines(results["checks"]),
        *machine_lines(results["machine"], results["code"]),
    ]
    return "\n".join(lines)


def run(*, repeat: int, results_dir: Path, strict: bool) -> int:
    return run_measured(
        Bench(repeat=repeat), name="import_export", results_dir=results_dir, markdown=markdown, strict=strict
    )
