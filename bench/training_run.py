"""The training benchmark itself (imported by bench/training.py once Django is set up)."""

import csv
import io
import random
import shutil
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from django.contrib.auth import get_user_model
from sklearn.model_selection import train_test_split

from bench.common import Checks, checks_lines, machine_lines, migrate_fresh, run_measured, say
from bench.corpus import (
    NEWSGROUPS,
    NEWSGROUPS_TAR,
    PETITIONS_DIR,
    _newsgroup_post,
    newsgroups_taxonomy,
    petitions,
)
from bench.measure import Profiler
from labeling.services.datasets import dataset_create
from labeling.services.imports import import_apply
from training import ensemble, evaluation
from training.algorithms import FitError, algorithm_class, model_load
from training.algorithms.text import document
from training.models import TrainingRun
from training.selectors import version_training_data
from training.services.runs import run_execute, run_start

SCRIPT = "bench/training.py"
SEED = 42
TRAIN_POSTS, TEST_POSTS, PETITIONS = 11_314, 7_532, 3_691
QUICK_POSTS = 600  # per split (20 Newsgroups) and in all (petitions) with --quick
LATENCY_TEXTS = 200
TARGETS = {"accuracy_20ng": 0.86, "accuracy_20ng_aim": 0.87, "pipeline_ratio": 1.3}
DEFAULT_LABEL = "tfidf-svm (defaults)"  # the target: this row >= the reference row on every dataset
TUNED = {"epoch": 50, "lr": 1.0, "wordNgrams": 2}

# (label, algorithm, params) per dataset; "autotune" gets the --autotune-seconds budget.
REFERENCE = "sklearn-reference"  # plain TfidfVectorizer() + LinearSVC() on the same texts, no preparation
OLD_DEFAULT = (
    "tfidf-svm, old default (3 SVMs on 2/3 of the rows, sigmoids)",
    "tfidf-svm",
    {"calibration": "sigmoid-3-svms", "max_df": 0.5},
)
REFERENCE_ROW = ("plain TfidfVectorizer() + LinearSVC() (reference)", REFERENCE, {})
WORD_CHAR = {"word_ngrams": 2, "char_ngrams": 5}
WORD_BIGRAMS = ("tfidf-svm, word 1-2 n-grams", "tfidf-svm", {"word_ngrams": 2})
PREVIOUS_DEFAULT = ("tfidf-svm, previous default (one SVM, max_df 0.5)", "tfidf-svm", {"max_df": 0.5})
CONFIGS = {
    "20newsgroups": [
        REFERENCE_ROW,
        OLD_DEFAULT,
        PREVIOUS_DEFAULT,
        (DEFAULT_LABEL, "tfidf-svm", {}),
        WORD_BIGRAMS,
        ("tfidf-svm, char 2-5 n-grams", "tfidf-svm", {"char_ngrams": 5}),
        ("tfidf-svm, word 1-2 + char 2-5 n-grams", "tfidf-svm", WORD_CHAR),
        ("tfidf-svm, C 1, word 1-2 + char 2-5 n-grams", "tfidf-svm", WORD_CHAR | {"C": 1.0}),
        (  # keeps the SVM's own argmax (the per-class sigmoids move some answers)
            "tfidf-svm, temperature, word 1-2 + char 2-5 n-grams",
            "tfidf-svm",
            WORD_CHAR | {"calibration": "temperature"},
        ),
        ("tfidf-logreg (defaults)", "tfidf-logreg", {}),
        ("fasttext (defaults)", "fasttext", {}),
        ("fasttext (defaults), rows in tar order (grouped by newsgroup)", "fasttext", {"in_order": True}),
        ("fasttext, epoch 50 / lr 1.0 / wordNgrams 2", "fasttext", TUNED),
        ("fasttext, parameter search", "fasttext", {"autotune_seconds": "autotune"}),
    ],
    "korean-petitions": [
        REFERENCE_ROW,
        OLD_DEFAULT,
        PREVIOUS_DEFAULT,
        (DEFAULT_LABEL, "tfidf-svm", {}),
        WORD_BIGRAMS,
        ("tfidf-svm, char 2-5 n-grams", "tfidf-svm", {"char_ngrams": 5}),
        ("tfidf-svm, morphemes", "tfidf-svm", {"morphemes": True}),
        ("tfidf-logreg (defaults)", "tfidf-logreg", {}),
        ("fasttext (defaults)", "fasttext", {}),
        ("fasttext, epoch 50 / lr 1.0 / wordNgrams 2", "fasttext", TUNED),
        ("fasttext, subwords minn 2 / maxn 4", "fasttext", TUNED | {"minn": 2, "maxn": 4}),
        ("fasttext, morphemes", "fasttext", TUNED | {"morphemes": True}),
        ("fasttext, parameter search", "fasttext", {"autotune_seconds": "autotune"}),
    ],
}

# Pairs of settings above combined as the serving ensemble combines models (`training.ensemble.decide`,
# weight 1 each, unanimous models win): what "combining fastText and a linear model" gives on the same texts.
ENSEMBLES = {
    "20newsgroups": [
        ("tfidf-svm (defaults)", "tfidf-svm, char 2-5 n-grams"),
        ("tfidf-svm (defaults)", "fasttext (defaults)"),
        ("tfidf-svm, char 2-5 n-grams", "fasttext, epoch 50 / lr 1.0 / wordNgrams 2"),
    ],
    "korean-petitions": [
        ("tfidf-svm, morphemes", "tfidf-svm, char 2-5 n-grams"),
        ("tfidf-svm, morphemes", "fasttext, subwords minn 2 / maxn 4"),
    ],
}

# The pipeline's parts, timed by wrapping these functions (inclusive times).
INSTRUMENTED = [
    (
        "training.services.runs",
        (
            "_claim",
            "_version_for_training",
            "version_training_data",
            "_train",
            "_step",
            "_save",
            "folder_checksum",
            "_commit_results",
            "_store_out_of_fold",
            "run_verdicts",
            "champion_consider",
        ),
    ),
    ("training.algorithms", ("model_load",)),
    (
        "training.evaluation",
        ("holdout_mask", "probabilities_in", "classification_metrics", "prediction_latency"),
    ),
]


@dataclass(frozen=True)
class Post:
    external_id: str
    title: str
    body: str
    group: str


def build_csv(posts: list[Post]) -> bytes:
    """The import file: external_id,title,body,category (category = the group name), UTF-8."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["external_id", "title", "body", "category"])
    for post in posts:
        writer.writerow([post.external_id, post.title, post.body, post.group])
    return buffer.getvalue().encode("utf-8")


def read_newsgroups(limit: int | None) -> dict[str, list[Post]]:
    """Both official splits, the tar read once (Latin-1); title = Subject, body = the text after headers."""
    splits: dict[str, list[Post]] = {"train": [], "test": []}
    with tarfile.open(NEWSGROUPS_TAR, "r|gz") as tar:
        for member in tar:
            parts = member.name.split("/")  # 20news-bydate/20news-bydate-<split>/<group>/<id>
            if not member.isfile() or len(parts) < 3:
                continue
            split, group, post_id = parts[-3].rsplit("-", 1)[-1], parts[-2], parts[-1]
            subject, body = _newsgroup_post(tar.extractfile(member).read())
            splits[split].append(Post(f"20news/{split}/{group}/{post_id}", subject, body, group))
    if limit:
        splits = {name: random.Random(SEED).sample(posts, limit) for name, posts in splits.items()}
    return splits


def petition_split(limit: int | None) -> tuple[list, list, list, list]:
    """Train and test texts and labels: a seeded (42) stratified 80/20 split of every petition."""
    rows = list(petitions())
    if limit:
        rows = random.Random(SEED).sample(rows, limit)
    texts = [document(row.title, row.body) for row in rows]
    labels = [row.group for row in rows]
    return train_test_split(texts, labels, test_size=0.2, stratify=labels, random_state=SEED)


def shuffled(texts: list[str], labels: list[str]) -> tuple[list[str], list[str]]:
    """The rows in a seeded random order: fastText learns in file order (rows grouped by category teach it
    little but the last categories), and its wrapper writes them as given."""
    order = list(range(len(texts)))
    random.Random(SEED).shuffle(order)
    return [texts[i] for i in order], [labels[i] for i in order]


def folder_bytes(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def reference_model(train: tuple, test: tuple) -> dict:
    """The three lines a data scientist writes first, on the same texts: accuracy, macro-F1, train seconds
    (LinearSVC gives no probabilities: no calibration error)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline
    from sklearn.svm import LinearSVC

    (train_texts, train_labels), (test_texts, test_labels) = train, test
    started = time.perf_counter()
    model = make_pipeline(TfidfVectorizer(), LinearSVC()).fit(train_texts, train_labels)
    train_seconds = time.perf_counter() - started
    metrics = evaluation.classification_metrics(
        test_labels, list(model.predict(test_texts)), sorted(set(train_labels))
    )
    return {
        "accuracy": round(metrics["accuracy"], 4),
        "macro_f1": round(metrics["macro_f1"], 4),
        "calibration_error": None,
        "train_seconds": round(train_seconds, 2),
    }


def one_model(algorithm: str, params: dict, train: tuple, test: tuple) -> dict:
    """Fit, predict the test split, save, reload, time one-text predictions; the figures of one setting."""
    if algorithm == REFERENCE:
        return reference_model(train, test)
    (train_texts, train_labels), (test_texts, test_labels) = train, test
    started = time.perf_counter()
    model = algorithm_class(algorithm)(params).fit(train_texts, train_labels)
    train_seconds = time.perf_counter() - started
    started = time.perf_counter()
    probabilities = model.predict_proba(test_texts)
    predict_seconds = time.perf_counter() - started
    predicted = [model.classes[j] for j in probabilities.argmax(axis=1)]
    metrics = evaluation.classification_metrics(test_labels, predicted, model.classes)
    with tempfile.TemporaryDirectory(prefix="bunryu-bench-") as folder:
        model.save(Path(folder) / "model")
        size = folder_bytes(Path(folder) / "model")
        loaded = model_load(Path(folder) / "model")
        p50, p99 = evaluation.prediction_latency(loaded, test_texts[:LATENCY_TEXTS])
    column = {name: j for j, name in enumerate(model.classes)}
    truth = np.asarray([column.get(label, -1) for label in test_labels])
    return {
        "accuracy": round(metrics["accuracy"], 4),
        "macro_f1": round(metrics["macro_f1"], 4),
        "calibration_error": round(evaluation.calibration_error(probabilities, truth), 4),
        "train_seconds": round(train_seconds, 2),
        "predict_test_seconds": round(predict_seconds, 2),
        "model_bytes": size,
        "latency_p50_ms": round(p50, 3),
        "latency_p99_ms": round(p99, 3),
        "fitted_params": model.fitted_params,
        "classes": sorted(model.classes),
        "probabilities": probabilities[:, [model.classes.index(name) for name in sorted(model.classes)]],
    }


class Bench:
    def __init__(self, *, quick: bool, autotune_seconds: int, only: list[str], settings: list[str]) -> None:
        self.quick, self.autotune_seconds = quick, autotune_seconds
        self.only, self.settings = only, settings
        self.profiler = Profiler()
        self.check = Checks()
        self.models: list[dict] = []
        self.probabilities: dict[tuple[str, str], tuple] = {}  # (classes sorted, test-split probabilities)
        self.pipeline: dict = {}
        self.info: dict = {}

    def setup(self) -> None:
        self.info["migrate_seconds"] = round(migrate_fresh(SCRIPT), 2)
        self.user = get_user_model().objects.create_superuser("bench", "bench@example.invalid", None)
        limit = QUICK_POSTS if self.quick else None
        started = time.perf_counter()
        self.posts = read_newsgroups(limit)
        train_texts, test_texts, train_labels, test_labels = petition_split(limit)
        self.info["read_seconds"] = round(time.perf_counter() - started, 2)
        self.data = {
            "20newsgroups": (
                (
                    [document(p.title, p.body) for p in self.posts["train"]],
                    [p.group for p in self.posts["train"]],
                ),
                (
                    [document(p.title, p.body) for p in self.posts["test"]],
                    [p.group for p in self.posts["test"]],
                ),
            ),
            "korean-petitions": ((train_texts, train_labels), (test_texts, test_labels)),
        }
        sizes = {name: (len(train[0]), len(test[0])) for name, (train, test) in self.data.items()}
        self.info["split_sizes"] = sizes
        self.info["categories"] = {name: len(set(train[1])) for name, (train, _) in self.data.items()}
        if not self.quick:
            self.check(
                "20 Newsgroups official split (train, test)", (TRAIN_POSTS, TEST_POSTS), sizes["20newsgroups"]
            )
            self.check("petitions in the 80/20 split", PETITIONS, sum(sizes["korean-petitions"]))
        self.check("20 Newsgroups groups", sorted(NEWSGROUPS), sorted(set(self.data["20newsgroups"][0][1])))
        self.check(
            "every petition category in both parts", sorted(set(train_labels)), sorted(set(test_labels))
        )

    # --- the algorithms ------------------------------------------------------------------------------

    def run(self) -> None:
        if "pipeline" in self.only:
            self._pipeline()  # first: the database work is the part most likely to fail
        for dataset, configs in CONFIGS.items():
            train, test = self.data[dataset]
            for label, algorithm, params in configs:
                if dataset not in self.only or self.settings and not any(s in label for s in self.settings):
                    continue
                self._measure(dataset, label, algorithm, self._params(params), train, test)
            for pair in ENSEMBLES[dataset]:
                self._ensemble(dataset, pair, test[1])

    def _params(self, params: dict) -> dict:
        params = dict(params)
        if params.get("autotune_seconds") == "autotune":
            params["autotune_seconds"] = self.autotune_seconds
        if self.quick and "epoch" in params:
            params["epoch"] = 10
        return params

    def _measure(self, dataset: str, label: str, algorithm: str, params: dict, train, test) -> None:
        row = {"dataset": dataset, "label": label, "algorithm": algorithm, "params": params}
        say(f"{dataset}: {label} ...")
        if not params.pop("in_order", False):
            train = shuffled(*train)
        try:
            row |= one_model(algorithm, params, train, test)
            if "probabilities" in row:
                self.probabilities[(dataset, label)] = (row.pop("classes"), row.pop("probabilities"))
            say(
                f"{dataset}: {label}: accuracy {row['accuracy']:.4f}, macro-F1 {row['macro_f1']:.4f}, "
                f"ECE {row['calibration_error']}, train {row['train_seconds']:.1f} s"
            )
        except FitError as error:  # a setting that cannot train (fastText NaN) is a result, not a crash
            row["error"] = str(error)
            say(f"{dataset}: {label}: {error}")
        self.models.append(row)

    @staticmethod
    def _decide(labels: tuple[str, str], matrices: list) -> list[int]:
        """Each text's winning column when the two settings vote together (weight 1 each)."""
        members = [
            ensemble.MemberScores(label, 1.0, np.arange(matrix.shape[1]), matrix)
            for label, matrix in zip(labels, matrices, strict=True)
        ]
        return ensemble.decide(members, [[] for _ in range(len(matrices[0]))]).winners.tolist()

    def _ensemble(self, dataset: str, labels: tuple[str, str], truth: list[str]) -> None:
        """Two measured settings decided together, text by text, by the serving ensemble's rule."""
        if any((dataset, label) not in self.probabilities for label in labels):
            return  # a part was skipped (--setting) or failed
        parts = [next(r for r in self.models if (r["dataset"], r["label"]) == (dataset, x)) for x in labels]
        classes, _ = self.probabilities[(dataset, labels[0])]
        matrices = [self.probabilities[(dataset, label)][1] for label in labels]
        predicted = [classes[column] for column in self._decide(labels, matrices)]
        metrics = evaluation.classification_metrics(truth, predicted, classes)
        row = {"dataset": dataset, "label": f"ensemble: {labels[0]} + {labels[1]}", "algorithm": "ensemble"}
        row |= {
            "accuracy": round(metrics["accuracy"], 4),
            "macro_f1": round(metrics["macro_f1"], 4),
            "calibration_error": None,
            "train_seconds": round(sum(p["train_seconds"] for p in parts), 2),
            "model_bytes": sum(p["model_bytes"] for p in parts),
            "latency_p50_ms": round(sum(p["latency_p50_ms"] for p in parts), 3),
            "latency_p99_ms": round(sum(p["latency_p99_ms"] for p in parts), 3),
        }
        say(f"{dataset}: {row['label']}: accuracy {row['accuracy']:.4f}, macro-F1 {row['macro_f1']:.4f}")
        self.models.append(row)

    # --- the pipeline against the library ------------------------------------------------------------

    def _load_dataset(self):
        taxonomy = newsgroups_taxonomy(self.user)
        dataset = dataset_create(
            name="20newsgroups-train", taxonomy=taxonomy, min_examples_per_category=10, user=self.user
        )
        started = time.perf_counter()
        import_apply(
            dataset=dataset, data=build_csv(self.posts["train"]), user=self.user, file_name="train.csv"
        )
        self.pipeline["import_seconds"] = round(time.perf_counter() - started, 2)
        return dataset

    def _pipeline(self) -> None:
        say("pipeline: loading the 20 Newsgroups train split into PostgreSQL")
        dataset = self._load_dataset()
        for module, names in INSTRUMENTED:
            self.profiler.instrument(module, *names)
        self.profiler.instrument_commit()
        self._warm_up()
        say("pipeline: run_start + run_execute (tfidf-svm, folds=0)")
        with self.profiler.step() as start_span:
            run = run_start(dataset=dataset, user=self.user, algorithm="tfidf-svm", folds=0, enqueue=False)
        with self.profiler.step() as execute_span:
            run_execute(run.id)
        run.refresh_from_db()
        self.check("pipeline run succeeded", TrainingRun.Status.SUCCEEDED, run.status)
        breakdown = execute_span.breakdown()
        self.pipeline |= {
            "run_start_seconds": round(start_span.seconds, 3),
            "run_execute_seconds": round(execute_span.seconds, 3),
            "seconds": round(start_span.seconds + execute_span.seconds, 3),
            "run_start_breakdown": start_span.breakdown(),
            "run_execute_breakdown": breakdown,
            "train_seconds": run.train_seconds,
            "refit_seconds": run.refit_seconds,
            "served_rows": run.served_rows,
            "accuracy": run.accuracy,
            "holdout_count": run.holdout_count,
            "example_count": run.example_count,
            "model_bytes": run.model_bytes,
            "latency_ms": [run.latency_p50_ms, run.latency_p99_ms],
        }
        self._direct(run)
        shutil.rmtree(run.artifact_path, ignore_errors=True)
        self.pipeline["parts"] = self._parts()

    def _warm_up(self) -> None:
        """One untimed fit first, so neither measured side pays the process's first-call costs (lazy
        imports, compiled regexes, the allocator growing to the working set); the pipeline runs first."""
        say("warm-up: one untimed tfidf-svm fit on the train split")
        posts = self.posts["train"]
        algorithm_class("tfidf-svm")({}).fit(
            [document(post.title, post.body) for post in posts], [post.group for post in posts]
        )

    def _direct(self, run: TrainingRun) -> None:
        """The same rows in memory: fit on the non-held-out rows, predict the held-out ones, save."""
        self.profiler.restore()
        data = version_training_data(run.version)
        texts = [document(t, b) for t, b in zip(data.titles, data.bodies, strict=True)]
        labels = [str(category_id) for category_id in data.category_ids]
        holdout = evaluation.holdout_mask(data.content_ids, labels, share=run.holdout_share, seed=run.seed)
        train, test = np.flatnonzero(~holdout), np.flatnonzero(holdout)
        say("direct: the same rows through the library")
        parts = {}
        started = time.perf_counter()
        model = algorithm_class(run.algorithm)(run.params).fit(
            [texts[i] for i in train], [labels[i] for i in train]
        )
        parts["fit"] = time.perf_counter() - started
        mark = time.perf_counter()
        probabilities = model.predict_proba([texts[i] for i in test])
        parts["predict held-out"] = time.perf_counter() - mark
        if run.refit_all:  # the pipeline serves a model fitted again on every row: the same work here
            mark = time.perf_counter()
            model = algorithm_class(run.algorithm)(run.params).fit(texts, labels)
            parts["refit on every row"] = time.perf_counter() - mark
        mark = time.perf_counter()
        with tempfile.TemporaryDirectory(prefix="bunryu-bench-") as folder:
            model.save(Path(folder) / "model")
            parts["save"] = time.perf_counter() - mark
        seconds = time.perf_counter() - started
        accuracy = float(
            np.mean(np.asarray(model.classes)[probabilities.argmax(axis=1)] == np.asarray(labels)[test])
        )
        self.check("direct trains on the pipeline's rows", int(len(labels) - run.holdout_count), len(train))
        self.check(
            "direct and pipeline accuracy agree within 0.01", True, abs(accuracy - run.accuracy) < 0.01
        )
        self.pipeline["direct"] = {
            "seconds": round(seconds, 3),
            "parts": {name: round(value, 3) for name, value in parts.items()},
            "accuracy": round(accuracy, 4),
            "train_rows": int(len(train)),
            "held_out_rows": int(len(test)),
        }
        self.pipeline["ratio"] = round(self.pipeline["seconds"] / seconds, 3)
        say(
            f"pipeline {self.pipeline['seconds']:.1f} s, direct {seconds:.1f} s: "
            f"x{self.pipeline['ratio']:.2f}"
        )

    def _parts(self) -> list[dict]:
        """run_start + run_execute split into non-overlapping parts (inclusive function times subtracted)."""
        f = self.pipeline["run_execute_breakdown"]["functions"]
        t = lambda name: f.get(name, {}).get("seconds", 0.0)  # noqa: E731
        fit = self.pipeline["train_seconds"] or 0.0
        save_model = t("_save") - t("folder_checksum") - t("model_load") - t("prediction_latency")
        save_model -= t("_commit_results")
        refit = self.pipeline.get("refit_seconds") or 0.0
        train_rest = t("_train") - t("version_training_data") - fit - refit - t("holdout_mask")
        train_rest -= t("probabilities_in") + t("classification_metrics") + t("_step")
        parts = [
            ("run_start: commit a version, record the run", self.pipeline["run_start_seconds"]),
            ("claim the run (row lock, status)", t("_claim")),
            ("load texts from PostgreSQL (version_training_data)", t("version_training_data")),
            ("held-out split (holdout_mask)", t("holdout_mask")),
            ("final fit (same work as direct)", fit),
            ("refit on every row (same work as direct)", self.pipeline.get("refit_seconds") or 0.0),
            ("predict the held-out rows (probabilities_in)", t("probabilities_in")),
            ("metrics (per category, confusion)", t("classification_metrics")),
            ("stage/progress updates (_step)", t("_step")),
            ("rest of _train (documents, label lists)", train_rest),
            ("save the model files", save_model),
            ("checksum of the model folder", t("folder_checksum")),
            ("reload the model (model_load)", t("model_load")),
            ("latency measurement (200 one-text predictions)", t("prediction_latency")),
            ("commit results + champion (_commit_results)", t("_commit_results")),
        ]
        accounted = sum(seconds for _, seconds in parts)
        parts.append(("rest (heartbeat thread, Python)", self.pipeline["seconds"] - accounted))
        direct = self.pipeline["direct"]["seconds"]
        return [
            {"part": name, "seconds": round(seconds, 3), "share_of_direct": round(seconds / direct, 3)}
            for name, seconds in parts
        ]

    # --- results -------------------------------------------------------------------------------------

    def results(self, machine: dict, code: dict) -> dict:
        best = self._best("20newsgroups")
        failed = []
        if not self.quick and best and best["accuracy"] < TARGETS["accuracy_20ng"]:
            failed.append("accuracy_20ng")
        if self.pipeline.get("ratio") and self.pipeline["ratio"] >= TARGETS["pipeline_ratio"]:
            failed.append("pipeline_ratio")
        verdicts = self._default_vs_reference()
        failed += [f"default_vs_reference_{row['dataset']}" for row in verdicts if not row["passed"]]
        return {
            "benchmark": "training",
            "machine": machine,
            "code": code,
            "parameters": {
                "quick": self.quick,
                "autotune_seconds": self.autotune_seconds,
                "only": self.only,
                "settings": self.settings,
                "seed": SEED,
                "latency_texts": LATENCY_TEXTS,
                "sources": [str(NEWSGROUPS_TAR), str(PETITIONS_DIR)],
            },
            "info": self.info,
            "targets": TARGETS,
            "models": self.models,
            "best_20newsgroups": best,
            "verdicts": verdicts,
            "pipeline": self.pipeline,
            "failed_targets": failed,
            "checks": self.check.rows,
        }

    def _default_vs_reference(self) -> list[dict]:
        """The default's accuracy and macro-F1 against the plain reference's, per dataset where both ran."""
        verdicts = []
        for dataset in CONFIGS:
            rows = {
                row["label"]: row for row in self.models if row["dataset"] == dataset and "accuracy" in row
            }
            default, reference = rows.get(DEFAULT_LABEL), rows.get(REFERENCE_ROW[0])
            if default and reference:
                verdicts.append(
                    {
                        "dataset": dataset,
                        "target": "tfidf-svm defaults >= plain TfidfVectorizer+LinearSVC (accuracy)",
                        "default": default["accuracy"],
                        "reference": reference["accuracy"],
                        "passed": default["accuracy"] >= reference["accuracy"],
                    }
                )
        return verdicts

    def _best(self, dataset: str) -> dict | None:
        rows = [row for row in self.models if row["dataset"] == dataset and "accuracy" in row]
        return max(rows, key=lambda row: row["accuracy"]) if rows else None


# --- the report for people ---------------------------------------------------------------------------


def _md_models(results: dict) -> list[str]:
    info, params = results["info"], results["parameters"]
    sizes = info.get("split_sizes", {})
    lines = [
        "# Benchmark: training algorithms and pipeline overhead",
        "",
        "Produced by `make bench` (`bench/training.py`); see `bench/README.md`."
        + (" **Quick smoke run (`--quick`): subsets, figures not comparable.**" if params["quick"] else ""),
        "",
        "**Data.** 20 Newsgroups, official split "
        f"({sizes.get('20newsgroups', ['?', '?'])[0]:,} train / {sizes.get('20newsgroups', ['?', '?'])[1]:,} "
        "test), read from the tar as Latin-1; each post is `document(Subject header, text after the "
        "headers)`, as bunryu stores posts. Korean petitions: no official split, so a seeded (42) stratified "
        f"80/20 split ({sizes.get('korean-petitions', ['?', '?'])[0]:,} / "
        f"{sizes.get('korean-petitions', ['?', '?'])[1]:,}, `category` field, "
        f"{info.get('categories', {}).get('korean-petitions', '?')} categories), document(title, content).",
        "",
        "**Figures.** Accuracy and macro-F1 on the test part; train = `fit()` wall seconds (2 cores, "
        "fastText "
        "with 2 threads); size = the saved model folder; latency = p50/p99 of one-text `predict_proba` on "
        f"the model loaded back from disk ({params['latency_texts']} test texts, after 5 warm-ups), as "
        f"the pipeline measures it. fastText parameter search budget: {params['autotune_seconds']} s on a "
        "10 % validation split of the training part. Ensemble rows: two of the settings above decided "
        "text by text as the serving ensemble decides (`training.ensemble.decide`, weight 1 each, unanimous "
        "models win); their train seconds, size and latencies are the sums of the two parts. ECE: expected "
        "calibration error of the top answer (15 equal-width confidence bins; 0 = calibrated). The reference "
        "row is `TfidfVectorizer()` + `LinearSVC()` with scikit-learn's defaults on the same texts, without "
        "the app's text preparation (no probabilities, so no ECE).",
        "",
    ]
    if params.get("settings") or len(params.get("only") or CONFIGS) < 3:
        chosen = ", ".join(params.get("only") or [])
        picked = ", ".join(f"`{s}`" for s in params.get("settings") or []) or "all"
        lines += [f"**Partial run:** parts {chosen}; settings {picked}.", ""]
    if results.get("error"):
        lines += ["**The run stopped on an error; the figures below are those measured before it:**", ""]
        lines += ["```", results["error"].rstrip(), "```", ""]
    for dataset in CONFIGS:
        lines += [
            f"## {dataset}",
            "",
            "| setting | accuracy | macro-F1 | ECE | train s | size | p50 ms | p99 ms |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for row in results["models"]:
            if row["dataset"] != dataset:
                continue
            if "error" in row:
                lines.append(f"| {row['label']} | failed: {row['error']} | | | | | | |")
                continue
            ece = "—" if row.get("calibration_error") is None else f"{row['calibration_error']:.4f}"
            size = f"{row['model_bytes'] / 2**20:.1f} MiB" if "model_bytes" in row else "—"
            p50, p99 = (f"{row[k]:.2f}" if k in row else "—" for k in ("latency_p50_ms", "latency_p99_ms"))
            lines.append(
                f"| {row['label']} | {row['accuracy']:.4f} | {row['macro_f1']:.4f} | {ece} | "
                f"{row['train_seconds']:.1f} | {size} | {p50} | {p99} |"
            )
        tuned = [row for row in results["models"] if row["dataset"] == dataset and row.get("fitted_params")]
        for row in tuned:
            lines += ["", f"{row['label']}: the search chose `{row['fitted_params']}`."]
        lines.append("")
    for verdict in results.get("verdicts", []):
        lines += [
            f"Target ({verdict['dataset']}): {verdict['target']}: {verdict['default']:.4f} against "
            f"{verdict['reference']:.4f}: {'pass' if verdict['passed'] else '**FAIL**'}.",
            "",
        ]
    best = results.get("best_20newsgroups")
    if best:
        target = results["targets"]["accuracy_20ng"]
        verdict = "pass" if best["accuracy"] >= target else "**FAIL**"
        lines += [
            f"Target: best accuracy on the 20 Newsgroups test set >= {target} (aim "
            f"{results['targets']['accuracy_20ng_aim']}): **{best['label']}**, {best['accuracy']:.4f}: "
            f"{verdict}.",
            "",
        ]
    return lines


def _md_pipeline(results: dict) -> list[str]:
    p = results["pipeline"]
    if "direct" not in p:
        return []
    direct = p["direct"]
    target = results["targets"]["pipeline_ratio"]
    verdict = "pass" if p["ratio"] < target else "**FAIL**"
    lines = [
        "## Pipeline overhead (20 Newsgroups train split, tfidf-svm, folds=0)",
        "",
        f"The train split imported into PostgreSQL ({p['import_seconds']:.1f} s, `import_apply`), one "
        "untimed warm-up fit (so neither side pays the process's first-call costs), then "
        "`run_start(folds=0, enqueue=False)` (which commits the dataset version) + `run_execute` in this "
        f"process: {p['seconds']:.1f} s. Direct: the same {direct['train_rows']:,} training rows (the "
        f"pipeline's final fit, held-out split excluded) fitted in memory, the {direct['held_out_rows']:,} "
        "held-out rows predicted, the model refitted on every row (as the run does) and saved: "
        f"{direct['seconds']:.1f} s "
        f"(fit {direct['parts']['fit']:.1f}, predict {direct['parts']['predict held-out']:.2f}, refit on "
        f"every row {direct['parts'].get('refit on every row', 0):.1f}, save "
        f"{direct['parts']['save']:.2f}). Accuracy: pipeline {p['accuracy']:.4f}, "
        f"direct {direct['accuracy']:.4f}.",
        "",
        f"**Ratio pipeline / direct: x{p['ratio']:.2f}** (target < {target}): {verdict}.",
        "",
        "| part of the pipeline | seconds | share of the direct time |",
        "|---|---:|---:|",
    ]
    for part in p["parts"]:
        lines.append(f"| {part['part']} | {part['seconds']:.2f} | {part['share_of_direct']:.0%} |")
    sql = p["run_execute_breakdown"]["sql"]
    top = list(sql.items())[:6]
    if top:
        lines += [
            "",
            "Slowest SQL in run_execute: "
            + ", ".join(f"`{name}` {entry['statements']}x {entry['seconds']:.2f} s" for name, entry in top)
            + ".",
        ]
    return [*lines, ""]


def markdown(results: dict) -> str:
    return "\n".join(
        [
            *_md_models(results),
            *_md_pipeline(results),
            *checks_lines(results["checks"]),
            *machine_lines(results["machine"], results["code"]),
        ]
    )


def run(
    *,
    quick: bool,
    autotune_seconds: int,
    only: list[str],
    settings: list[str],
    name: str,
    results_dir: Path,
    strict: bool,
) -> int:
    return run_measured(
        Bench(quick=quick, autotune_seconds=autotune_seconds, only=only, settings=settings),
        name=name,
        results_dir=results_dir,
        markdown=markdown,
        strict=strict,
    )
