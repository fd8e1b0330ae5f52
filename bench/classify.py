"""Benchmark of bulk classification (`manage.py classify`) against in-process `predict_proba`, same run.

Loads the 20 Newsgroups train split into PostgreSQL, trains the tf-idf champion through the pipeline, writes
the test split (7,532 posts) as an import-shaped CSV with categories, then times, alternately and `--repeats`
times each: the champion's `predict_proba` over the test texts in this one process (batches of 1,000), and
the `classify` command (file read and parsed, the serving ensemble, output CSV written) with 1 and with 2
workers (threads of one process: the command's parallelism). The machine's speed moves by 2x between runs, so
the targets are ratios measured in the same run: the command with 2 workers on 2 cores >= 1.5x the
in-process `predict_proba` texts/s (75% of the two-core limit).
Writes bench/results/classify.md and bench/results/classify.json.

Run from the project root:  scripts/with-services.sh .venv/bin/python bench/classify.py [--quick]
"""

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402  (the project root must be importable first)
    RESULTS,
    Checks,
    checks_lines,
    machine_lines,
    median,
    migrate_fresh,
    run_measured,
    say,
    setup_django,
)

SCRIPT = "bench/classify.py"
TARGETS = {"two_workers_vs_predict_proba": 1.5}
BATCH = 1000


def _cpu_seconds() -> float:
    """CPU seconds of this process and of its children that ended (forks are waited for)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def one_thread_each() -> None:
    """A forked child computes on one core: BLAS/OpenMP pools and numba held to one thread, so 2 processes
    use 2 cores instead of 2 x threads fighting over them."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1)
    try:
        import numba

        numba.set_num_threads(1)
    except (ImportError, ValueError):  # numba absent, or its threading layer not started: nothing to hold
        pass


def _batches(model, texts: list[str]) -> None:
    """The baseline: the champion's predict_proba over the texts in batches of BATCH, in this thread."""
    for start in range(0, len(texts), BATCH):
        model.predict_proba(texts[start : start + BATCH])


def _two_threads(model, texts: list[str]) -> float:
    """The same predict_proba, each half of the texts in a thread of this process (how the command's workers
    run); seconds."""
    from concurrent.futures import ThreadPoolExecutor

    half = -(-len(texts) // 2)
    started = time.perf_counter()
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda part: _batches(model, part), (texts[:half], texts[half:])))
    return time.perf_counter() - started


def _two_processes(model, texts: list[str]) -> float:
    """The machine's two-core ceiling in this run: the same predict_proba, each half of the texts in a process
    held to one thread, forked and warmed (its first batch run, the pages it reads touched) before the clock
    starts; both start together at a barrier, and the time is from that start to the later one's end (the fork
    and the warm-up outside it: they say how costly a fork is, not how fast two cores compute)."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    barrier, finished = context.Barrier(2), context.Queue()
    half = -(-len(texts) // 2)
    children = [
        context.Process(target=_timed_half, args=(model, texts[start:end], barrier, finished))
        for start, end in ((0, half), (half, len(texts)))
    ]
    for child in children:
        child.start()
    spans = [finished.get(timeout=600) for _ in children]
    for child in children:
        child.join()
    return max(end for _, end in spans) - min(start for start, _ in spans)


def _timed_half(model, texts: list[str], barrier, finished) -> None:
    """A child of `_two_processes`: warm, wait for the other, then predict its texts; (start, end) sent back
    (perf_counter is the system's monotonic clock: comparable between processes)."""
    one_thread_each()
    _batches(model, texts[:BATCH])
    barrier.wait()
    started = time.perf_counter()
    _batches(model, texts)
    finished.put((started, time.perf_counter()))


class Bench:
    def __init__(self, *, quick: bool, repeats: int) -> None:
        self.quick, self.repeats = quick, repeats
        self.check = Checks()
        self.info: dict = {}
        self.timings: dict[str, list[float]] = {
            "predict_proba": [],
            "predict_proba_2": [],
            "predict_proba_threads": [],
            "command_1": [],
            "command_2": [],
        }
        self.cpu: dict[str, list[float]] = {key: [] for key in self.timings}  # all processes' CPU seconds
        self.info["load_average_start"] = [round(x, 2) for x in os.getloadavg()]
        self.folder = Path(tempfile.mkdtemp(prefix="bunryu-bench-classify-"))

    def setup(self) -> None:
        from django.contrib.auth import get_user_model

        from bench.corpus import newsgroups_taxonomy
        from bench.training_run import QUICK_POSTS, build_csv, read_newsgroups
        from labeling.services.datasets import dataset_create
        from labeling.services.imports import import_apply
        from training.models import TrainingRun
        from training.services.runs import run_execute, run_start

        self.info["migrate_seconds"] = round(migrate_fresh(SCRIPT), 2)
        user = get_user_model().objects.create_superuser("bench", "bench@example.invalid", None)
        posts = read_newsgroups(QUICK_POSTS if self.quick else None)
        dataset = dataset_create(
            name="newsgroups", taxonomy=newsgroups_taxonomy(user), min_examples_per_category=1, user=user
        )
        import_apply(dataset=dataset, data=build_csv(posts["train"]), user=user, file_name="train.csv")
        say("training the champion (tfidf-svm, folds=0)")
        run = run_start(dataset=dataset, user=user, algorithm="tfidf-svm", folds=0, enqueue=False)
        run_execute(run.id)
        run.refresh_from_db()
        self.check("champion trained", TrainingRun.Status.SUCCEEDED, run.status)
        self.champion, self.dataset = run, dataset
        from training.services.classify import MAX_CHARS

        # The command refuses a file with a text over the API's limit (as the API refuses the request).
        self.test = [post for post in posts["test"] if len(post.title) + len(post.body) <= MAX_CHARS]
        self.info["test_posts_over_the_limit"] = len(posts["test"]) - len(self.test)
        self.input = self.folder / "test.csv"
        self.input.write_bytes(build_csv(self.test))
        self.info |= {"train_posts": len(posts["train"]), "test_posts": len(self.test), "run": run.id}

    def run(self) -> None:
        from training.algorithms import model_load
        from training.algorithms.text import document

        model = model_load(Path(self.champion.artifact_path))
        texts = [document(post.title, post.body) for post in self.test]
        model.predict_proba(texts[:50])  # warm: compiled kernels loaded
        self._command(1, warm=True)
        for repeat in range(self.repeats):
            started, cpu = time.perf_counter(), _cpu_seconds()
            _batches(model, texts)
            self.timings["predict_proba"].append(time.perf_counter() - started)
            self.cpu["predict_proba"].append(_cpu_seconds() - cpu)
            cpu = _cpu_seconds()
            self.timings["predict_proba_2"].append(_two_processes(model, texts))
            self.cpu["predict_proba_2"].append(_cpu_seconds() - cpu)
            cpu = _cpu_seconds()
            self.timings["predict_proba_threads"].append(_two_threads(model, texts))
            self.cpu["predict_proba_threads"].append(_cpu_seconds() - cpu)
            for workers in (1, 2):
                cpu = _cpu_seconds()
                self._command(workers)
                self.cpu[f"command_{workers}"].append(_cpu_seconds() - cpu)
            say(f"repeat {repeat + 1}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in self.timings.items()))
        self._outside_the_counter(model, texts)
        self.info["load_average_end"] = [round(x, 2) for x in os.getloadavg()]

    def _outside_the_counter(self, model, texts: list[str]) -> None:
        """One more pass of predict_proba and of the command (1 worker), the calls of the compiled word
        counter (and its gathering of texts left in a file's bytes), of the compiled scanner of a file's
        records and of scipy's sparse x dense product timed (thread CPU; all let the GIL go): the rest holds
        the GIL, and so runs one thread at a time however many workers there are. Not a timed run."""
        import scipy.sparse._sparsetools as sparsetools

        import labeling.importing.records as records
        import training.algorithms.word_counts as word_counts

        inside = [0.0]

        def timed(kernel):
            def run(*args):
                started = time.thread_time()
                try:
                    return kernel(*args)
                finally:
                    inside[0] += time.thread_time() - started

            return run

        counter, gather, scan = word_counts._count, word_counts._gather, records._scan
        product = sparsetools.csr_matvecs
        word_counts._count, word_counts._gather = timed(counter), timed(gather)
        records._scan, sparsetools.csr_matvecs = timed(scan), timed(product)
        try:
            for key, run in (
                ("predict_proba", lambda: _batches(model, texts)),
                ("command_1", self._command_1),
            ):
                inside[0], cpu = 0.0, time.process_time()
                run()
                total = time.process_time() - cpu
                self.info[f"{key}_cpu_in_gil_free_kernels"] = round(inside[0], 3)
                self.info[f"{key}_cpu_outside_gil_free_kernels"] = round(total - inside[0], 3)
        finally:
            word_counts._count, word_counts._gather, records._scan = counter, gather, scan
            sparsetools.csr_matvecs = product

    def _command_1(self) -> None:
        self._command(1, warm=True)

    def _command(self, workers: int, *, warm: bool = False) -> None:
        import csv
        import io

        from django.core.management import call_command

        output = self.folder / f"out-{workers}.csv"
        report = io.StringIO()
        started = time.perf_counter()
        call_command(
            "classify",
            "--dataset",
            "newsgroups",
            str(self.input),
            "--output",
            str(output),
            "--workers",
            str(workers),
            "--json",
            stdout=report,
            stderr=io.StringIO(),
        )
        seconds = time.perf_counter() - started
        if warm:
            return
        self.timings[f"command_{workers}"].append(seconds)
        rows = list(csv.DictReader(output.open(encoding="utf-8")))
        self.check(f"{workers} worker(s): one output row per test post", len(self.test), len(rows))
        if workers == 2 and len(self.timings["command_2"]) == 1:
            right = sum(row["predicted_category"] == row["given_category"] for row in rows)
            self.info["accuracy_on_test"] = round(right / len(rows), 4)
            self.info["summary_2_workers"] = report.getvalue()
            one = (self.folder / "out-1.csv").read_text()
            self.check("1 and 2 workers write the same file", True, one == output.read_text())

    def results(self, machine: dict, code: dict) -> dict:
        shutil.rmtree(self.folder, ignore_errors=True)
        count = self.info.get("test_posts", 0)
        rates = {key: count / median(runs) for key, runs in self.timings.items() if runs}
        verdicts, failed = [], []
        if "predict_proba" in rates and "command_2" in rates:
            for key, workers in (("command_1", 1), ("command_2", 2)):
                ratio = rates[key] / rates["predict_proba"]
                target = TARGETS["two_workers_vs_predict_proba"] if workers == 2 else None
                verdict = "info" if target is None else ("pass" if ratio >= target else "FAIL")
                if verdict == "FAIL":
                    failed.append("two_workers_vs_predict_proba")
                verdicts.append(
                    {
                        "key": f"{key}_vs_predict_proba",
                        "label": f"command texts/s, {workers} worker(s) (threads) / in-process predict_proba",
                        "value": round(ratio, 3),
                        "target": target,
                        "higher_is_better": True,
                        "verdict": verdict,
                    }
                )
        cpu = {key: median(runs) for key, runs in self.cpu.items() if runs}
        if "predict_proba" in cpu and "command_2" in cpu:
            verdicts.append(
                {
                    "key": "two_free_cores_bound",
                    "label": "2 x predict_proba CPU seconds / the command's CPU seconds with 2 workers: the "
                    "ratio two idle cores would give at best",
                    "value": round(2 * cpu["predict_proba"] / cpu["command_2"], 3),
                    "target": None,
                    "higher_is_better": True,
                    "verdict": "info",
                }
            )
        outside = self.info.get("command_1_cpu_outside_gil_free_kernels")
        if outside and "predict_proba" in cpu:
            total = outside + self.info["command_1_cpu_in_gil_free_kernels"]
            verdicts.append(
                {
                    "key": "two_threads_bound",
                    "label": "predict_proba CPU seconds / max(the command's CPU outside the compiled kernels "
                    "(word counter, file scanner, sparse product), its CPU / 2): what 2 worker threads give "
                    "at best on two idle cores (outside those the work holds the GIL, one thread at a time)",
                    "value": round(cpu["predict_proba"] / max(outside, total / 2), 3),
                    "target": None,
                    "higher_is_better": True,
                    "verdict": "info",
                }
            )
        if "predict_proba_2" in rates and "command_2" in rates:
            for key, label, value in (
                (
                    "predict_proba_two_processes_vs_one",
                    "predict_proba texts/s, 2 warmed processes / 1 (the two-core scaling here)",
                    rates["predict_proba_2"] / rates["predict_proba"],
                ),
                (
                    "predict_proba_two_threads_vs_one",
                    "predict_proba texts/s, 2 threads / 1 (how far its compiled parts run in parallel)",
                    rates["predict_proba_threads"] / rates["predict_proba"],
                ),
                (
                    "command_2_vs_predict_proba_two_processes",
                    "command texts/s, 2 workers / predict_proba in 2 warmed processes",
                    rates["command_2"] / rates["predict_proba_2"],
                ),
            ):
                verdicts.append(
                    {
                        "key": key,
                        "label": label,
                        "value": round(value, 3),
                        "target": None,
                        "higher_is_better": True,
                        "verdict": "info",
                    }
                )
        return {
            "benchmark": "classify",
            "machine": machine,
            "code": code,
            "parameters": {"quick": self.quick, "repeats": self.repeats, "batch": BATCH},
            "info": self.info,
            "targets": TARGETS,
            "timings_seconds": {k: [round(x, 3) for x in v] for k, v in self.timings.items()},
            "cpu_seconds": {k: [round(x, 3) for x in v] for k, v in self.cpu.items()},
            "texts_per_second": {k: round(v, 1) for k, v in rates.items()},
            "verdicts": verdicts,
            "failed_targets": failed,
            "checks": self.check.rows,
        }


def markdown(results: dict) -> str:
    info, rates, timings = results["info"], results["texts_per_second"], results["timings_seconds"]
    quick = (
        " **Quick smoke run (`--quick`): subsets, figures not comparable.**"
        if results["parameters"]["quick"]
        else ""
    )
    cpu = results.get("cpu_seconds", {})
    lines = [
        "# Benchmark: bulk classification (`manage.py classify`)",
        "",
        f"Produced by `bench/classify.py`.{quick} Champion: `tfidf-svm` (defaults) trained through the "
        f"pipeline on the 20 Newsgroups train split ({info.get('train_posts', '?'):,} posts); input: the "
        f"test split ({info.get('test_posts', '?'):,} posts; "
        f"{info.get('test_posts_over_the_limit', 0)} longer than the API's 100,000 characters left out) as "
        "an import-shaped CSV with categories. "
        "The command's time is all of it: reading and parsing the file, the serving ensemble, the output CSV "
        "written. In-process: the champion's `predict_proba` alone, batches of "
        f"{results['parameters']['batch']:,}, one process. Each measured {results['parameters']['repeats']} "
        "times, alternately; medians. The machine is shared (2 cores, other work running): only the ratios "
        "within the run are meant to be compared.",
        "",
        "| what | seconds (runs) | texts/s | CPU seconds, all processes (median) |",
        "|---|---|---:|---:|",
    ]
    names = {
        "predict_proba": "in-process `predict_proba`, 1 process",
        "predict_proba_2": "in-process `predict_proba`, 2 processes (forked, warmed; half the texts each)",
        "predict_proba_threads": "in-process `predict_proba`, 2 threads (half the texts each)",
        "command_1": "`classify` command, 1 worker (thread)",
        "command_2": "`classify` command, 2 workers (threads)",
    }
    for key, label in names.items():
        if key in rates:
            runs = ", ".join(f"{x:.2f}" for x in timings[key])
            used = f"{median(cpu[key]):.2f}" if cpu.get(key) else "—"
            lines.append(f"| {label} | {median(timings[key]):.2f} ({runs}) | {rates[key]:,.0f} | {used} |")
    lines += ["", "| ratio | value | target | verdict |", "|---|---:|---:|---|"]
    for verdict in results["verdicts"]:
        target = "—" if verdict["target"] is None else f">= {verdict['target']}"
        lines.append(f"| {verdict['label']} | {verdict['value']:.2f} | {target} | {verdict['verdict']} |")
    if "accuracy_on_test" in info:
        lines += [
            "",
            f"Accuracy of the output against the test split's groups: {info['accuracy_on_test']:.4f}.",
        ]
    if "command_1_cpu_outside_gil_free_kernels" in info:
        lines += [
            "",
            "CPU seconds in one more pass of each, the calls of the compiled word counter, file scanner "
            "and of scipy's sparse product timed (all without the GIL): predict_proba "
            f"{info['predict_proba_cpu_in_gil_free_kernels']:.3f} in them + "
            f"{info['predict_proba_cpu_outside_gil_free_kernels']:.3f} outside them; the command (1 worker) "
            f"{info['command_1_cpu_in_gil_free_kernels']:.3f} + "
            f"{info['command_1_cpu_outside_gil_free_kernels']:.3f}.",
        ]
    if "load_average_end" in info:
        lines += [
            "",
            f"Load average (1, 5, 15 min) at the start {info['load_average_start']}, at the end "
            f"{info['load_average_end']} (2 cores; other work competes for them).",
        ]
    if results.get("error"):
        lines += ["", "**The run stopped on an error:**", "", "```", results["error"].rstrip(), "```"]
    lines.append("")
    return "\n".join(
        [*lines, *checks_lines(results["checks"]), *machine_lines(results["machine"], results["code"])]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: 600 posts per split, 1 repeat")
    parser.add_argument("--repeats", type=int, default=3, help="measurements of each side (3)")
    parser.add_argument("--results", type=Path, default=RESULTS, help="output folder")
    parser.add_argument("--strict", action="store_true", help="exit 2 when a target is missed")
    args = parser.parse_args(argv)
    models = tempfile.mkdtemp(prefix="bunryu-bench-models-")
    os.environ["MODEL_DIR"] = models
    try:
        setup_django(SCRIPT)
        bench = Bench(quick=args.quick, repeats=1 if args.quick else max(1, args.repeats))
        return run_measured(
            bench, name="classify", results_dir=args.results, markdown=markdown, strict=args.strict
        )
    finally:
        shutil.rmtree(models, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
