"""The classification API benchmark itself (imported by bench/api.py once Django is set up)."""

import asyncio
import json
import multiprocessing
import os
import random
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import types
import urllib.request
from collections import Counter
from pathlib import Path

import numpy as np
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db import connections
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from bench.common import (
    ROOT,
    Checks,
    checks_lines,
    machine_lines,
    median,
    migrate_fresh,
    percentile,
    run_measured,
    say,
    served_with,
)
from bench.corpus import NEWSGROUPS, NEWSGROUPS_TAR, _newsgroup_post, newsgroups_taxonomy
from bench.import_export_run import Post, build_csv
from bench.measure import CLOCK_TICKS, Profiler, proc_stat, process_cpu
from core import roles
from labeling.services.datasets import dataset_create
from labeling.services.imports import import_apply
from training.models import Champion, PredictionLog, TrainingRun
from training.services.classify import MAX_CHARS, TextToClassify, classify
from training.services.runs import run_execute, run_start
from training.serving import ensemble_for

SCRIPT = "bench/api.py"
TRAIN, TEST = "20news-bydate-train", "20news-bydate-test"
TRAIN_POSTS, TEST_POSTS = 11_314, 7_532  # the official split
USER, CALLER = "bench", "api-caller"
CLIENTS = (1, 8, 32)
BATCHES = (1, 100, 1000)
K = 3
# Targets (issue 19), at 8 concurrent clients, as ratios to in-process figures of the same run: this machine's
# speed moves by 2x from run to run, so absolute figures say more about the machine than about the code.
# batches of 1,000: HTTP texts/s >= 0.5x two processes' in-process predict_proba rate (2 x one process);
# single texts: the server's CPU per request <= 3x one in-process classify() of one text.
TARGETS = {"batch_vs_two_process_predict_proba": 0.5, "single_cpu_vs_classify": 3.0}
# The earlier absolute targets (issue 7), kept in the report beside the ratios, judged but not counted as
# failed targets. On a quiet machine of the same kind, at e881816: 20,239 texts/s in batches, 1,696 single
# requests/s, p99 14.9 ms (in-process predict_proba 28.6 ms per 1,000 texts).
ABSOLUTE = {"single_per_second": 500.0, "single_p99_ms": 50.0, "batch_texts_per_second": 20_000.0}
AIMS = {"single_per_second": 1000.0, "single_p99_ms": 30.0}
TARGET_CLIENTS, TARGET_BATCH = 8, 1000
THROTTLE_HISTORIES = (0, 1_000, 30_000, 120_000)  # requests of the last minute in the throttle's cache entry
# Clients connect this far apart. Connected in the same instant, gunicorn's first worker to wake accepted most
# of the 8 keep-alive connections and kept them: one core served them (2 x 4 gave 226 to 489 requests/s by
# the split of the moment; the workers' CPU split column shows it).
RAMP_SECONDS = 0.005


def read_splits() -> tuple[list[Post], list[Post]]:
    """The train (11,314) and test (7,532) posts, the tar read once, sequentially (Latin-1)."""
    splits: dict[str, list[Post]] = {TRAIN: [], TEST: []}
    with tarfile.open(NEWSGROUPS_TAR, "r|gz") as tar:
        for member in tar:
            parts = member.name.split("/")  # [20news-bydate/]20news-bydate-<split>/<group>/<id>
            if not member.isfile() or len(parts) < 3 or parts[-3] not in splits:
                continue
            group, post_id, split = parts[-2], parts[-1], parts[-3]
            subject, body = _newsgroup_post(tar.extractfile(member).read())
            name = split.rsplit("-", 1)[-1]
            splits[split].append(Post(f"20news/{name}/{group}/{post_id}", subject, body, group))
    return splits[TRAIN], splits[TEST]


# --- the load generator (a forked process: asyncio, one keep-alive connection per client) ---------------


async def _response(reader: asyncio.StreamReader) -> tuple[int, bool, int]:
    """Read one HTTP/1.1 response: (status, the server closes the connection, body bytes)."""
    line = await reader.readline()
    if not line:
        raise ConnectionError("connection closed by the server")
    status = int(line.split(None, 2)[1])
    length, chunked, close = None, False, False
    while True:
        header = await reader.readline()
        if header in (b"\r\n", b"\n", b""):
            break
        name, _, value = header.partition(b":")
        name, value = name.strip().lower(), value.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"transfer-encoding":
            chunked = b"chunked" in value
        elif name == b"connection":
            close = value == b"close"
    size = 0
    if chunked:
        while True:
            chunk = int((await reader.readline()).split(b";")[0], 16)
            await reader.readexactly(chunk + 2)
            size += chunk
            if chunk == 0:
                break
    elif length is not None:
        size = len(await reader.readexactly(length))
    else:
        size, close = len(await reader.read()), True
    return status, close, size


async def _load(port: int, requests: list[bytes], clients: int, seconds: float) -> dict:
    latencies: list[float] = []
    statuses: Counter = Counter()
    errors: list[str] = []
    received = [0]
    start = time.perf_counter()
    deadline = start + seconds

    async def client(number: int) -> None:
        reader = writer = None
        index = number
        await asyncio.sleep(number * RAMP_SECONDS)  # clients arrive one after the other, not in one instant
        while time.perf_counter() < deadline:
            if writer is None:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
            request = requests[index % len(requests)]
            index += clients
            sent = time.perf_counter()
            try:
                writer.write(request)
                await writer.drain()
                status, close, size = await _response(reader)
            except (OSError, asyncio.IncompleteReadError, ValueError) as error:
                errors.append(repr(error))
                writer.close()
                writer = None
                continue
            statuses[status] += 1
            received[0] += size
            if status == 200:
                latencies.append(time.perf_counter() - sent)
            if close:
                writer.close()
                writer = None
        if writer is not None:
            writer.close()

    await asyncio.gather(*(client(number) for number in range(clients)))
    return {
        "latencies": latencies,
        "statuses": {str(code): count for code, count in statuses.items()},
        "errors": len(errors),
        "error_examples": errors[:5],
        "received_bytes": received[0],
        "seconds": time.perf_counter() - start,
    }


def _load_process(pipe, port: int, requests: list[bytes], clients: int, seconds: float) -> None:
    result = asyncio.run(_load(port, requests, clients, seconds))
    user, system = os.times()[:2]  # this process's own CPU time (counted from the fork)
    result["client_cpu_seconds"] = user + system
    pipe.send(result)
    pipe.close()


def load(port: int, requests: list[bytes], clients: int, seconds: float) -> dict:
    """Run the load generator in a second process (forked: it inherits the prepared request bytes)."""
    connections.close_all()  # the child must not share the parent's database sockets
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_load_process, args=(sender, port, requests, clients, seconds))
    process.start()
    sender.close()
    result = receiver.recv()
    process.join()
    return result


# --- CPU accounting from /proc ------------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := proc_stat(int(entry.name))) and int(fields[1]) == pid:
            found.append(int(entry.name))
    return found


def _machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine since boot (/proc/stat)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / CLOCK_TICKS, sum(values) / CLOCK_TICKS


# Scenarios a peer server is loaded with too, right after the main server's same row (the targets' rows).
PEER_SCENARIOS = ((1, 8), (1000, 8))


class Server:
    """An HTTP server (granian or gunicorn, as `scripts/run.sh` and docs/operations.md run them) serving the
    site on a free loopback port, with the benchmark's environment."""

    def __init__(self, *, kind: str, workers: int, threads: int) -> None:
        self.kind, self.workers, self.threads = kind, workers, threads
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.log = Path(tempfile.mkstemp(prefix=f"bunryu-bench-{kind}-", suffix=".log")[1])
        self.process: subprocess.Popen | None = None

    @property
    def command(self) -> list[str]:
        if self.kind == "granian":  # exactly what `make run` runs, with its counts from the environment
            return [str(ROOT / "scripts/serve.sh"), "--backlog", "2048", "--log-level", "warning"]
        program = str(Path(sys.executable).with_name(self.kind))
        return [
            program,
            "admin_site.wsgi",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(self.workers),
            "--threads",
            str(self.threads),
            "--worker-class",
            "gthread",
            "--backlog",
            "2048",
            "--timeout",
            "300",
            "--log-level",
            "warning",
        ]

    @property
    def environment(self) -> dict[str, str]:
        counts = {"WEB_WORKERS": str(self.workers), "WEB_THREADS": str(self.threads)}
        return os.environ | {"BIND": f"127.0.0.1:{self.port}"} | counts

    def described(self) -> str:
        command = " ".join(self.command).replace(str(ROOT) + "/", "")
        command = command.replace(str(Path(sys.executable).parent) + "/", "").replace(
            str(self.port), "<port>"
        )
        if self.kind == "granian":
            return f"WEB_WORKERS={self.workers} WEB_THREADS={self.threads} BIND=127.0.0.1:<port> {command}"
        return command

    def start(self) -> None:
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                self.command, cwd=ROOT, env=self.environment, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.kind} exited with {self.process.returncode}:\n{self.log_tail()}")
            if len(self.worker_pids()) >= self.workers:
                try:
                    socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                    return
                except OSError:
                    pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.kind} did not start within 60 s:\n{self.log_tail()}")

    def worker_pids(self) -> list[int]:
        return _children(self.process.pid) if self.process else []

    def cpu_seconds(self) -> float:
        return sum(process_cpu(pid) for pid in [self.process.pid, *self.worker_pids()])

    def worker_cpu(self) -> dict[int, float]:
        return {pid: process_cpu(pid) for pid in self.worker_pids()}

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.unlink(missing_ok=True)


# --- the benchmark ----------------------------------------------------------------------------------------


def _timed_calls(function, arguments: list, *, warm: int = 1) -> list[float]:
    for argument in arguments[:warm]:
        function(argument)
    seconds = []
    for argument in arguments:
        start = time.perf_counter()
        function(argument)
        seconds.append(time.perf_counter() - start)
    return seconds


def _summary(seconds: list[float], texts_per_call: int) -> dict:
    return {
        "calls": len(seconds),
        "texts_per_call": texts_per_call,
        "median_ms": round(median(seconds) * 1000, 3),
        "p99_ms": round(percentile(seconds, 0.99) * 1000, 3),
        "texts_per_second": round(texts_per_call * len(seconds) / sum(seconds), 1),
    }


class Bench:
    def __init__(
        self,
        *,
        algorithms: list[str],
        servers: list[str],
        seconds: float,
        quick: bool,
        workers: int,
        threads: int,
    ) -> None:
        self.algorithms, self.seconds, self.quick = algorithms, seconds, quick
        self.servers, self.workers, self.threads = servers, workers, threads
        self.check = Checks()
        self.profiler = Profiler()
        self.info: dict = {"load_average_start": os.getloadavg()}
        self.served: dict[str, dict] = {}  # per algorithm: training, in-process figures, HTTP figures

    # --- setup -------------------------------------------------------------------------------------------

    def setup(self) -> None:
        self.info["migrate_seconds"] = round(migrate_fresh(SCRIPT), 2)
        self.user = get_user_model().objects.create_superuser(USER, f"{USER}@example.invalid", None)
        caller = get_user_model().objects.create_user(CALLER, f"{CALLER}@example.invalid", None)
        caller.groups.add(Group.objects.get_or_create(name=roles.ANNOTATOR)[0])
        self.caller, self.token = caller, Token.objects.create(user=caller).key
        start = time.perf_counter()
        train, test = read_splits()
        self.info["read_seconds"] = round(time.perf_counter() - start, 2)
        self.check("posts in the train split", TRAIN_POSTS, len(train))
        self.check("posts in the test split", TEST_POSTS, len(test))
        self.check("the groups are the 20 newsgroups", True, {p.group for p in train} == set(NEWSGROUPS))
        self.train = train
        # a single request's `text` may not be blank: the few posts without a body are left out
        usable = [p for p in test if p.body.strip() and len(p.title + p.body) <= MAX_CHARS]
        random.Random(20).shuffle(usable)  # the tar is in group order; requests mix the groups
        self.texts = [TextToClassify(p.body, p.title) for p in usable]
        self.info["test_texts_used"] = len(self.texts)
        self.info["test_text_mean_chars"] = round(
            sum(len(t.text) + len(t.title) for t in self.texts) / len(self.texts)
        )
        self.taxonomy = newsgroups_taxonomy(self.user)
        self.info["debug"] = settings.DEBUG
        self.info["prediction_log_sample"] = settings.PREDICTION_LOG_SAMPLE
        self.info["throttle_rate"] = settings.CLASSIFY_RATE
        self.info["cache_backend"] = settings.CACHES["default"]["BACKEND"]
        self.info["training_code_changes"] = _uncommitted("training")

    def _champion(self, algorithm: str) -> tuple:
        """A dataset of the train split and its champion, trained by the pipeline (no k-fold)."""
        dataset = dataset_create(
            name=f"20newsgroups-{algorithm}",
            taxonomy=self.taxonomy,
            min_examples_per_category=200,
            user=self.user,
        )
        start = time.perf_counter()
        csv = build_csv(self.train, prefix=f"{algorithm}/")
        changeset = import_apply(dataset=dataset, data=csv, user=self.user, file_name="20news-train.csv")
        imported = time.perf_counter() - start
        self.check(f"{algorithm}: examples imported", TRAIN_POSTS, changeset.added)
        start = time.perf_counter()
        run = run_start(dataset=dataset, user=self.user, algorithm=algorithm, folds=0, enqueue=False)
        run_execute(run.id)
        trained = time.perf_counter() - start
        run.refresh_from_db()
        self.check(f"{algorithm}: training run succeeded", TrainingRun.Status.SUCCEEDED, run.status)
        champion = Champion.objects.filter(dataset=dataset).values_list("run_id", flat=True).first()
        self.check(f"{algorithm}: the run is the champion", run.id, champion)
        training = {
            "run": run.id,
            "import_seconds": round(imported, 2),
            "train_seconds": round(trained, 1),
            "holdout_accuracy": run.accuracy,
            "holdout_macro_f1": run.macro_f1,
            "params": run.params,
        }
        say(f"{algorithm}: champion run #{run.id}, trained in {trained:.0f} s, accuracy {run.accuracy}")
        return dataset, training

    # --- the measured steps ------------------------------------------------------------------------------

    def run(self) -> None:
        for algorithm in self.algorithms:
            dataset, training = self._champion(algorithm)
            served = self.served[algorithm] = {"dataset": dataset.id, "training": training}
            ensemble = ensemble_for(dataset)
            model = ensemble.members[0].model
            served["in_process"] = self._in_process(dataset, model)
            if algorithm == self.algorithms[0]:
                served["profile"] = self._profile(dataset, 1)
                served["profile_batch"] = self._profile(dataset, TARGET_BATCH)
                self.info["throttle"] = self._throttle_cost()
            served["http"], served["http_peers"] = self._http(dataset)
        self.info["load_average_end"] = os.getloadavg()

    def _in_process(self, dataset, model) -> dict:
        singles = 60 if self.quick else 300
        repeats = {1: singles, 100: 2 if self.quick else 5, 1000: 1 if self.quick else 3}
        figures = {}
        for batch, calls in repeats.items():
            chunks = [self.texts[i * batch % len(self.texts) :][:batch] for i in range(calls + 1)]
            documents = [[f"{t.title}\n{t.text}" if t.text else t.title for t in chunk] for chunk in chunks]
            figures[f"predict_proba_{batch}"] = _summary(_timed_calls(model.predict_proba, documents), batch)
            classify_call = lambda items: classify(dataset=dataset, items=items, k=K, user=self.caller)  # noqa: E731
            figures[f"classify_{batch}"] = _summary(_timed_calls(classify_call, chunks), batch)
            model_ms, service_ms = (
                figures[f"{name}_{batch}"]["median_ms"] for name in ("predict_proba", "classify")
            )
            say(
                f"in-process, {batch} text(s) per call: predict_proba {model_ms} ms, "
                f"classify() {service_ms} ms"
            )
        pipeline = getattr(model, "pipeline", None)
        if pipeline is not None:  # what the fast path replaces: scikit-learn's own predict_proba
            documents = [f"{t.title}\n{t.text}" if t.text else t.title for t in self.texts[:1000]]
            prepared = model.prepare(documents)
            reference = pipeline.predict_proba(prepared)
            fast = model.predict_proba(documents)
            order = [list(pipeline.classes_).index(name) for name in model.classes]
            difference = float(np.abs(reference[:, order] - fast).max())
            figures["max_difference"] = difference
            self.check(
                "predict_proba equals the scikit-learn pipeline's (max difference <= 1e-6)",
                True,
                difference <= 1e-6,
            )
            sklearn_single = lambda text: pipeline.predict_proba(model.prepare([text]))  # noqa: E731
            figures["sklearn_pipeline_1"] = _summary(
                _timed_calls(sklearn_single, documents[: 20 if self.quick else 60]), 1
            )
            whole = lambda texts: pipeline.predict_proba(model.prepare(texts))  # noqa: E731
            figures["sklearn_pipeline_1000"] = _summary(_timed_calls(whole, [documents], warm=0), 1000)
        return figures

    def _profile(self, dataset, batch: int) -> dict:
        """Requests of `batch` texts through the site in this process (test client): where one request's
        time goes."""
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {self.token}")
        url = reverse("api-classify", args=[dataset.id])
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
        from rest_framework.authentication import TokenAuthentication
        from rest_framework.parsers import JSONParser
        from rest_framework.renderers import JSONRenderer

        from core.tokens import CachedTokenAuthentication
        from training import middleware
        from training.algorithms.base import TextClassifier
        from training.ensemble import Decisions
        from training.throttles import ClassifyThrottle

        wrapped = [
            (TokenAuthentication, "authenticate", "DRF: token authentication"),
            (CachedTokenAuthentication, "kept", "token: the user this process keeps"),
            (ClassifyThrottle, "allow_request", "throttle"),
            (ClassifyThrottle, "allow_request_and_get", "throttle + tokens' generation (one Redis call)"),
            (middleware, "_json", "JSON body parsed (orjson)"),
            (middleware, "classify_input", "body checked (classify_input)"),
            (middleware, "classify_response", "classify_response (classify() + JSON out)"),
            (Decisions, "explanations", "explanations"),
            (roles.HasRole, "has_permission", "DRF: role permission"),
            (JSONParser, "parse", "DRF: parse JSON"),
            (JSONRenderer, "render", "DRF: render JSON"),
            (TextClassifier, "predict_proba", "model: predict_proba"),
        ]
        try:
            from training.algorithms.linear import FastPredict

            wrapped += [(FastPredict, "transform", "model: TF-IDF transform")]
        except ImportError:
            pass
        for owner, name, label in wrapped:
            original = getattr(owner, name)
            self.profiler._patched.append((owner, name, original))
            setattr(owner, name, self.profiler._wrap(label, original))
        self.profiler.instrument("training.algorithms.text", "prepare", prefix="model: text ")
        self.profiler.instrument("training.apis", "classify")
        self.profiler.instrument(
            "training.services.classify",
            "_members",
            "_fired",
            "decide",
            "_answers",
            "classify_json",
            "_log",
            "prediction_log_write",
            "ensemble_for",
        )
        self.profiler.instrument("training.answers_json", "explanations_json", "answers_json")
        self.profiler.instrument("training.serving", "current_key")
        self.profiler.instrument_commit()
        requests = (40 if self.quick else 200) if batch == 1 else (3 if self.quick else 10)
        chunks = [self.texts[i * batch % len(self.texts) :][:batch] for i in range(requests)]
        if batch == 1:
            bodies = [{"text": t.text, "title": t.title, "k": K} for [t] in chunks]
        else:
            bodies = [{"items": [{"text": t.text, "title": t.title} for t in c], "k": K} for c in chunks]
        warm = bodies[:5] if batch == 1 else bodies[:1]
        statuses = Counter(client.post(url, body, format="json").status_code for body in warm)
        with self.profiler.step() as span:
            for body in bodies:
                statuses[client.post(url, body, format="json").status_code] += 1
        self.profiler.restore()
        expected = {200: requests + len(warm)}
        self.check(f"in-process API requests of {batch} text(s) answered 200", expected, dict(statuses))
        breakdown = span.breakdown()
        per_request = {
            "texts_per_request": batch,
            "requests": requests,
            "ms_per_request": round(span.seconds / requests * 1000, 3),
            "functions": {
                name: {
                    "calls_per_request": round(e["calls"] / requests, 2),
                    "ms": round(e["seconds"] / requests * 1000, 3),
                }
                for name, e in breakdown["functions"].items()
            },
            "sql": {
                name: {
                    "per_request": round(e["statements"] / requests, 2),
                    "ms": round(e["seconds"] / requests * 1000, 3),
                }
                for name, e in breakdown["sql"].items()
            },
            "sql_ms_per_request": round(breakdown["database_seconds"] / requests * 1000, 3),
        }
        ms = per_request["ms_per_request"]
        say(f"in-process API (test client): {ms} ms per request of {batch} text(s)")
        return per_request

    def _throttle_cost(self) -> list[dict]:
        """The classify throttle's cost per request (a fixed-window counter: one cache add/incr), at a
        request count in the current window of 0 and of a busy minute."""
        from training.throttles import ClassifyThrottle

        request = types.SimpleNamespace(user=self.caller, META={"REMOTE_ADDR": "127.0.0.1"})
        rows = []
        for size in THROTTLE_HISTORIES:
            cache.clear()
            for _ in range(min(size, 2000)):
                ClassifyThrottle().allow_request(request, None)
            seconds = []
            for _ in range(200):
                start = time.perf_counter()
                ClassifyThrottle().allow_request(request, None)
                seconds.append(time.perf_counter() - start)
            rows.append({"history": size, "median_ms": round(median(seconds) * 1000, 3)})
        cache.clear()
        return rows

    def _http(self, dataset) -> tuple[list[dict], dict[str, list[dict]]]:
        """The main server's rows, and each peer server's rows of PEER_SCENARIOS, each loaded right after the
        main server's same row (both servers run the whole time, the idle one costs nothing)."""
        main, *peers = [
            Server(kind=kind, workers=self.workers, threads=self.threads) for kind in self.servers
        ]
        self.info["server_commands"] = {server.kind: server.described() for server in (main, *peers)}
        path = reverse("api-classify", args=[dataset.id])
        pools = {batch: self._requests(path, batch) for batch in BATCHES}
        figures, peer_figures = [], {peer.kind: [] for peer in peers}
        try:
            for server in (main, *peers):
                server.start()
                self._http_check(server, path, dataset)
                # warm: every worker loads the models
                load(server.port, pools[1], 8, 2.0 if self.quick else 4.0)
            for batch in BATCHES:
                for clients in CLIENTS:
                    figures.append(self._scenario(main, pools[batch], batch, clients, dataset))
                    if (batch, clients) not in PEER_SCENARIOS:
                        continue
                    for peer in peers:
                        peer_figures[peer.kind].append(
                            self._scenario(peer, pools[batch], batch, clients, dataset)
                        )
        finally:
            for server in (main, *peers):
                server.stop()
        return figures, peer_figures

    def _requests(self, path: str, batch: int) -> list[bytes]:
        """Prepared HTTP requests: every text of the test split once, alone or in batches of `batch`."""
        head = (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Token {self.token}\r\n"
            "Content-Type: application/json\r\n"
        )
        requests = []
        for start in range(0, len(self.texts) - batch + 1, batch):
            chunk = self.texts[start : start + batch]
            if batch == 1:
                body = {"text": chunk[0].text, "title": chunk[0].title, "k": K}
            else:
                body = {"items": [{"text": t.text, "title": t.title} for t in chunk], "k": K}
            data = json.dumps(body).encode()
            requests.append(f"{head}Content-Length: {len(data)}\r\n\r\n".encode() + data)
        return requests

    def _http_check(self, server: Server, path: str, dataset) -> None:
        """One request of each size over HTTP: 200 and the same answers as classify() in-process."""
        port = server.port
        for batch in (1, 100):
            chunk = self.texts[:batch]
            body = {"items": [{"text": t.text, "title": t.title} for t in chunk], "k": K}
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}{path}",
                data=json.dumps(body).encode(),
                headers={"Authorization": f"Token {self.token}", "Content-Type": "application/json"},
            )
            with urllib.request.urlopen(request, timeout=120) as response:
                status, answers = response.status, json.loads(response.read())["results"]
            expected = classify(dataset=dataset, items=chunk, k=K, user=self.caller)
            self.check(f"HTTP ({server.kind}): {batch} text(s): status", 200, status)
            self.check(
                f"HTTP ({server.kind}): {batch} text(s): the answers (category, top {K}) equal classify()'s",
                True,
                [(a["category"], a["top"]) for a in expected] == [(a["category"], a["top"]) for a in answers],
            )

    @staticmethod
    def _logged_settled(dataset) -> int:
        """Log rows once the server wrote those of earlier answers (the count holds still for 0.5 s)."""
        count = PredictionLog.objects.filter(dataset=dataset).count()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            time.sleep(0.5)
            now = PredictionLog.objects.filter(dataset=dataset).count()
            if now == count:
                break
            count = now
        return count

    @staticmethod
    def _logged(dataset, before: int, expected: int) -> int:
        """Log rows written since `before`; the server writes them up to PREDICTION_LOG_BUFFER_SECONDS after
        answering, so wait (up to 10 s) for the expected count."""
        deadline = time.monotonic() + 10
        while True:
            logged = PredictionLog.objects.filter(dataset=dataset).count() - before
            if logged >= expected or time.monotonic() > deadline:
                return logged
            time.sleep(0.1)

    def _scenario(self, server: Server, requests: list[bytes], batch: int, clients: int, dataset) -> dict:
        logged_before = self._logged_settled(dataset)
        server_cpu, (busy, total) = server.cpu_seconds(), _machine_busy()
        workers = server.worker_cpu()
        result = load(server.port, requests, clients, self.seconds)
        server_cpu = server.cpu_seconds() - server_cpu
        spent = [cpu - workers.get(pid, 0.0) for pid, cpu in server.worker_cpu().items()]
        busy_after, total_after = _machine_busy()
        latencies = result.pop("latencies")
        ok = len(latencies)
        seconds = result["seconds"]
        logged = self._logged(dataset, logged_before, ok * batch)
        self.check(
            f"{server.kind}: {batch} x {clients} clients: every request answered 200",
            {"200": ok},
            result["statuses"],
        )
        self.check(
            f"{server.kind}: {batch} x {clients} clients: one prediction log row per text answered",
            ok * batch,
            logged,
        )
        row = {
            "server": server.kind,
            "batch": batch,
            "clients": clients,
            "requests": ok,
            "seconds": round(seconds, 2),
            "requests_per_second": round(ok / seconds, 1),
            "texts_per_second": round(ok * batch / seconds, 1),
            "p50_ms": round(percentile(latencies, 0.5) * 1000, 2) if ok else None,
            "p90_ms": round(percentile(latencies, 0.9) * 1000, 2) if ok else None,
            "p99_ms": round(percentile(latencies, 0.99) * 1000, 2) if ok else None,
            "max_ms": round(max(latencies) * 1000, 2) if ok else None,
            "server_cpu_ms_per_request": round(server_cpu / ok * 1000, 2) if ok else None,
            "server_cpu_cores": round(server_cpu / seconds, 2),
            "client_cpu_cores": round(result["client_cpu_seconds"] / seconds, 2),
            "machine_busy_cores": round((busy_after - busy) / (total_after - total) * os.cpu_count(), 2),
            "worker_cpu_split": sorted((round(100 * cpu / (sum(spent) or 1)) for cpu in spent), reverse=True),
            **result,
        }
        say(
            f"HTTP ({server.kind}) {batch} text(s) x {clients} clients: {row['requests_per_second']} req/s, "
            f"{row['texts_per_second']} texts/s, p50 {row['p50_ms']} ms, p99 {row['p99_ms']} ms "
            f"(server CPU {row['server_cpu_ms_per_request']} ms/request, "
            f"machine busy {row['machine_busy_cores']} cores)"
        )
        return row

    # --- results -----------------------------------------------------------------------------------------

    def _verdicts(self) -> list[dict]:
        served = self.served.get(self.algorithms[0], {})
        found = {(row["batch"], row["clients"]): row for row in served.get("http") or []}
        single, batch = found.get((1, TARGET_CLIENTS)), found.get((TARGET_BATCH, TARGET_CLIENTS))
        in_process = served.get("in_process") or {}
        rows = []
        if batch and in_process.get(f"predict_proba_{TARGET_BATCH}"):
            two_processes = 2 * in_process[f"predict_proba_{TARGET_BATCH}"]["texts_per_second"]
            rows.append(
                self._verdict(
                    "batch_vs_two_process_predict_proba",
                    f"texts/s in batches of {TARGET_BATCH} / two processes' in-process predict_proba texts/s "
                    f"({batch['texts_per_second']:,.0f} / {two_processes:,.0f})",
                    round(batch["texts_per_second"] / two_processes, 3),
                    True,
                )
            )
        if single and single.get("server_cpu_ms_per_request") and in_process.get("classify_1"):
            one = in_process["classify_1"]["median_ms"]
            rows.append(
                self._verdict(
                    "single_cpu_vs_classify",
                    "single-text server CPU per request / in-process classify() of one text "
                    f"({single['server_cpu_ms_per_request']:.2f} / {one:.2f} ms)",
                    round(single["server_cpu_ms_per_request"] / one, 3),
                    False,
                )
            )
        if single:
            rows.append(
                self._verdict(
                    "single_per_second", "single-text requests/s", single["requests_per_second"], True
                )
            )
            rows.append(
                self._verdict("single_p99_ms", "single-text p99 latency (ms)", single["p99_ms"], False)
            )
        if batch:
            rows.append(
                self._verdict(
                    "batch_texts_per_second",
                    f"texts/s in batches of {TARGET_BATCH}",
                    batch["texts_per_second"],
                    True,
                )
            )
        return rows

    @staticmethod
    def _verdict(key: str, label: str, value: float, higher: bool) -> dict:
        absolute = key in ABSOLUTE
        target, aim = (ABSOLUTE if absolute else TARGETS)[key], AIMS.get(key)
        meets = value >= target if higher else value <= target
        return {
            "key": key,
            "label": f"{label} at {TARGET_CLIENTS} clients",
            "value": value,
            "target": target,
            "aim": aim,
            "higher_is_better": higher,
            "kind": "absolute (this run's machine; reference only)" if absolute else "ratio (same run)",
            "verdict": ("pass" if meets else "FAIL") if not absolute else ("met" if meets else "not met"),
            "aim_met": None if aim is None else (value >= aim if higher else value < aim),
        }

    def results(self, machine: dict, code: dict) -> dict:
        verdicts = self._verdicts()
        return {
            "benchmark": "api",
            "machine": machine,
            "code": code,
            "parameters": {
                "algorithms": self.algorithms,
                "seconds_per_figure": self.seconds,
                "quick": self.quick,
                "clients": CLIENTS,
                "batches": BATCHES,
                "k": K,
                "server": self.servers[0],
                "peer_servers": self.servers[1:],
                "server_workers": self.workers,
                "server_threads": self.threads,
                "source": str(NEWSGROUPS_TAR),
            },
            "info": self.info,
            "targets": TARGETS,
            "absolute_targets": ABSOLUTE,
            "aims": AIMS,
            "verdicts": verdicts,
            "failed_targets": [row["key"] for row in verdicts if row["verdict"] == "FAIL"],
            "served": self.served,
            "checks": self.check.rows,
        }


def _uncommitted(folder: str) -> list[str]:
    done = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all", "--", folder],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    return [line[3:] for line in done.stdout.splitlines() if len(line) > 3]


# --- the report for people ----------------------------------------------------------------------------------


def _fmt(value, digits: int = 1) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def _md_head(results: dict) -> list[str]:
    p, info = results["parameters"], results["info"]
    lines = [
        "# Benchmark: the classification API under load",
        "",
        f"`POST /api/v1/datasets/<id>/classify` served by {_served_by(p)} with a champion trained by the "
        "pipeline on the "
        "20 Newsgroups train split (11,314 posts), loaded from a second process (asyncio, one keep-alive "
        f"connection per client, clients connecting {RAMP_SECONDS * 1000:g} ms apart) with the "
        f"{info.get('test_texts_used', 0):,} texts of the test split "
        f"(mean {info.get('test_text_mean_chars', 0):,} characters), alone or in batches; k={p['k']}, every "
        f"answer logged (PREDICTION_LOG_SAMPLE={info.get('prediction_log_sample')}). "
        f"{p['seconds_per_figure']:g} s of load per figure; the load generator shares the 2 cores with the "
        "server and PostgreSQL. Produced by `make bench` (`bench/api.py`); see `bench/README.md`.",
        "",
    ]
    if results.get("error"):
        lines += ["**The run stopped on an error; the figures below are those measured before it:**", ""]
        lines += ["```", results["error"].rstrip(), "```", ""]
    lines += [
        "## Targets",
        "",
        "Ratios to in-process figures of the same run (the targets), then the earlier absolute figures "
        "(reference only: this machine's speed moves by 2x from run to run; on a quiet machine of the same "
        "kind, at e881816: 20,239 texts/s in batches, 1,696 single requests/s, p99 14.9 ms).",
        "",
        "| figure | kind | value | target | aim | verdict |",
        "|---|---|---:|---:|---:|---|",
    ]
    for row in results["verdicts"]:
        sign = ">=" if row["higher_is_better"] else "<="
        aim = f"{sign} {row['aim']:,.0f}" if row["aim"] else "—"
        verdict = "**FAIL**" if row["verdict"] == "FAIL" else row["verdict"]
        digits = 2 if row["target"] < 10 else 1
        lines.append(
            f"| {row['label']} | {row.get('kind', '')} | {row['value']:,.{digits}f} | "
            f"{sign} {row['target']:,.{digits}f} | {aim} | {verdict} |"
        )
    failed = results["failed_targets"]
    return [*lines, "", f"Targets missed: {', '.join(failed) if failed else 'none'}.", ""]


def _served_by(p: dict) -> str:
    server, workers, threads = served_with(p)
    kind = "blocking threads" if server == "granian" else "threads, gthread"
    peers = p.get("peer_servers") or []
    also = f"; {', '.join(peers)} with the same counts as the peer (below)" if peers else ""
    return f"{server} ({workers} workers x {threads} {kind}, loopback{also})"


def _md_peers(algorithm: str, served: dict) -> list[str]:
    """The main server's rows beside each peer server's same rows, loaded one right after the other."""
    peers = served.get("http_peers") or {}
    if not any(peers.values()):
        return []
    main = {(row["batch"], row["clients"]): row for row in served.get("http") or []}
    lines = [
        f"## {algorithm}: the same requests through another server",
        "",
        "Each peer row was loaded right after the main server's same row, both servers running the whole "
        "time (same workers and threads). Server CPU per request is the server processes' CPU from /proc "
        "(the main process and its workers) over the requests answered.",
        "",
        "| texts per request | clients | server | req/s | texts/s | p50 ms | p99 ms | "
        "server CPU ms/request | server CPU / main server's |",
        "|---:|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for kind, rows in peers.items():
        for row in rows:
            ours = main.get((row["batch"], row["clients"]))
            for each in (ours, row) if ours else (row,):
                ratio = (
                    each["server_cpu_ms_per_request"] / ours["server_cpu_ms_per_request"] if ours else None
                )
                lines.append(
                    f"| {each['batch']:,} | {each['clients']} | {each.get('server', kind)} | "
                    f"{_fmt(each['requests_per_second'])} | {_fmt(each['texts_per_second'], 0)} | "
                    f"{_fmt(each['p50_ms'])} | {_fmt(each['p99_ms'])} | "
                    f"{_fmt(each['server_cpu_ms_per_request'], 2)} | {_fmt(ratio, 2)} |"
                )
    return [*lines, ""]


def _md_http(algorithm: str, served: dict) -> list[str]:
    training = served["training"]
    lines = [
        f"## {algorithm}: over HTTP",
        "",
        f"Champion: run #{training['run']}, trained in {training['train_seconds']:g} s, holdout accuracy "
        f"{_fmt(training['holdout_accuracy'], 3)}.",
        "",
        "| texts per request | clients | requests | req/s | texts/s | p50 ms | p90 ms | p99 ms | max ms | "
        "server CPU ms/request | server / client / machine busy cores | workers' CPU split % |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for row in served.get("http") or []:
        lines.append(
            f"| {row['batch']:,} | {row['clients']} | {row['requests']:,} | "
            f"{_fmt(row['requests_per_second'])} | {_fmt(row['texts_per_second'], 0)} | "
            f"{_fmt(row['p50_ms'])} | {_fmt(row['p90_ms'])} | {_fmt(row['p99_ms'])} | "
            f"{_fmt(row['max_ms'])} | {_fmt(row['server_cpu_ms_per_request'], 2)} | "
            f"{row['server_cpu_cores']} / {row['client_cpu_cores']} / {row['machine_busy_cores']} | "
            f"{'/'.join(map(str, row.get('worker_cpu_split', [])))} |"
        )
    return [*lines, ""]


def _md_in_process(algorithm: str, served: dict) -> list[str]:
    figures = served.get("in_process") or {}
    http = {(row["batch"], row["clients"]): row for row in served.get("http") or []}
    lines = [
        f"## {algorithm}: in-process, and the overhead of the API",
        "",
        "In the benchmark process, one call at a time: `model.predict_proba` alone (text preparation, "
        "features, scores), `classify()` (the service: ensemble, votes, decision, answers, the PredictionLog "
        "insert), and the HTTP request at 1 client (p50). Overhead ratio = HTTP p50 / in-process median.",
        "",
        "| texts per call | predict_proba ms | classify() ms | HTTP p50 ms (1 client) | HTTP / classify() | "
        "HTTP / predict_proba | predict_proba texts/s | classify() texts/s |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for batch in BATCHES:
        model, service = figures.get(f"predict_proba_{batch}"), figures.get(f"classify_{batch}")
        row = http.get((batch, 1))
        if not model or not service:
            continue
        p50 = row["p50_ms"] if row else None
        lines.append(
            f"| {batch:,} | {_fmt(model['median_ms'], 2)} | {_fmt(service['median_ms'], 2)} | "
            f"{_fmt(p50, 2)} | "
            f"{_fmt(p50 / service['median_ms'] if p50 else None, 2)} | "
            f"{_fmt(p50 / model['median_ms'] if p50 else None, 2)} | {_fmt(model['texts_per_second'], 0)} | "
            f"{_fmt(service['texts_per_second'], 0)} |"
        )
    single, whole = figures.get("sklearn_pipeline_1"), figures.get("sklearn_pipeline_1000")
    if single and whole:
        fast1, fast1000 = figures["predict_proba_1"], figures["predict_proba_1000"]
        lines += [
            "",
            "scikit-learn's own `Pipeline.predict_proba` on the same prepared texts (what `FastPredict` in "
            f"`training/algorithms/linear.py` replaces; same probabilities, max difference "
            f"{figures.get('max_difference', 0):.1e}): one text {single['median_ms']:.2f} ms "
            f"(fast path {fast1['median_ms']:.2f} ms, {single['median_ms'] / fast1['median_ms']:.0f}x), "
            f"1,000 texts {whole['median_ms']:.0f} ms (fast path {fast1000['median_ms']:.0f} ms, "
            f"{whole['median_ms'] / fast1000['median_ms']:.1f}x).",
        ]
    return [*lines, ""]


def _md_profile(results: dict) -> list[str]:
    main = results["served"].get(results["parameters"]["algorithms"][0], {})
    profile, batch = main.get("profile"), main.get("profile_batch")
    if not profile:
        return []
    lines = _md_profile_table(profile)[:-1]
    throttle = results["info"].get("throttle")
    if throttle:
        lines += [
            "",
            "The classify throttle (`training/throttles.py`) is a fixed-window counter per user in the cache "
            "(DRF's `ScopedRateThrottle`, used before, copied a list of every request time of the last "
            "minute and cost 1.6-18 ms per request at 30,000-120,000 requests a minute). Its cost per "
            "request:",
            "",
            "| requests counted before (up to 2,000 made) | allow_request ms |",
            "|---:|---:|",
            *[f"| {row['history']:,} | {row['median_ms']:.3f} |" for row in throttle],
        ]
    return [*lines, "", *(_md_profile_table(batch) if batch else [])]


def _md_profile_table(profile: dict) -> list[str]:
    batch = profile.get("texts_per_request", 1)
    what = "single-text request" if batch == 1 else f"request of {batch:,} texts"
    lines = [
        f"## Where one {what}'s time goes",
        "",
        f"{profile['requests']} requests of {batch:,} text(s) in the benchmark process (REST framework's "
        "test client, which renders each request's JSON body; the classification shortcut answers them; no "
        f"HTTP server, no socket), {profile['ms_per_request']:.2f} ms per request, of which SQL "
        f"{profile['sql_ms_per_request']:.2f} ms; the prediction log's COPY runs in its writer thread, "
        "outside these. Inclusive wall times per request (they nest: `classify()` holds the model and the "
        "log; the model holds text preparation and TF-IDF).",
        "",
        "| where | calls per request | ms per request |",
        "|---|---:|---:|",
    ]
    for name, entry in profile["functions"].items():
        lines.append(f"| `{name}` | {entry['calls_per_request']:g} | {entry['ms']:.3f} |")
    for name, entry in profile["sql"].items():
        lines.append(f"| SQL `{name}` | {entry['per_request']:g} | {entry['ms']:.3f} |")
    return [*lines, ""]


def _loads(values) -> str:
    return ", ".join(f"{value:.2f}" for value in values or [])


def markdown(results: dict) -> str:
    lines = _md_head(results)
    for algorithm in results["parameters"]["algorithms"]:
        served = results["served"].get(algorithm)
        if served:
            lines += _md_http(algorithm, served)
            lines += _md_peers(algorithm, served)
            lines += _md_in_process(algorithm, served)
    lines += _md_profile(results)
    info = results["info"]
    lines += [
        "## Load on the machine",
        "",
        f"Load average at the start {_loads(info.get('load_average_start'))}, at the end "
        f"{_loads(info.get('load_average_end'))} (other processes on the machine "
        "compete for the same 2 cores; 'machine busy cores' above counts everything that ran).",
        "",
    ]
    lines += checks_lines(results["checks"])
    lines += machine_lines(results["machine"], results["code"])
    changes = info.get("training_code_changes")
    if changes:
        lines += [f"Uncommitted changes in training/ when the run started: {', '.join(changes)}.", ""]
    return "\n".join(lines)


def run(
    *,
    algorithms: list[str],
    seconds: float,
    quick: bool,
    servers: list[str],
    workers: int,
    threads: int,
    results_dir: Path,
    strict: bool,
) -> int:
    bench = Bench(
        algorithms=algorithms,
        servers=servers,
        seconds=seconds,
        quick=quick,
        workers=workers,
        threads=threads,
    )
    return run_measured(bench, name="api", results_dir=results_dir, markdown=markdown, strict=strict)
