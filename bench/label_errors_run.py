"""The label-error benchmark itself (imported by bench/label_errors.py; no Django, no database)."""

import datetime
import os
import platform
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

import numpy as np
import sklearn
from threadpoolctl import threadpool_info, threadpool_limits

from bench.common import ROOT, Checks, checks_lines, error_lines, say, write_results
from bench.corpus import NEWSGROUPS, newsgroups
from bench.measure import _cpu_model, _ram_bytes
from training.algorithms import DEFAULT_ALGORITHM, algorithm_class
from training.algorithms.text import document
from training.evaluation import fold_numbers, out_of_fold
from training.verification import confident_issues, label_quality

NOISE = 0.05  # share of the labels flipped
FOLDS = 5
SHARES = (0.01, 0.02, 0.05)  # top shares of a ranking compared with the reference (0.05 = k, the flipped)
REFERENCE = "TF-IDF word 1-2 grams (sublinear) + logistic regression (scikit-learn defaults otherwise)"
TRAIN_POSTS = 11_314  # the official train split
QUICK_POSTS = 2_000
CLEANLAB_VERSION = "2.9.0"
CLEANLAB_DIR = ROOT / "var" / "bench-cleanlab"  # var/ is git-ignored
CLEANLAB_INSTALL = (  # its other dependencies (numpy, scikit-learn, pandas, tqdm) are in .venv already
    ".venv/bin/pip install --no-deps --target var/bench-cleanlab "
    f"cleanlab=={CLEANLAB_VERSION} termcolor==3.3.0"
)

MEASURED_CODE = (
    "training/algorithms",
    "training/evaluation.py",
    "training/verification.py",
    "bench/corpus.py",
    "bench/label_errors.py",
    "bench/label_errors_run.py",
)

# (key, what the method returns, what is taken from it); "top k" = the k most suspicious, k = posts flipped.
METHODS = [
    ("ours_quality_top_k", "ours: `label_quality` (normalised margin), lowest first", "top k"),
    ("ours_confident_set", "ours: `confident_issues` (confident learning's off-diagonal rule)", "set"),
    ("cleanlab_default_set", "cleanlab: `find_label_issues` default (`prune_by_noise_rate`)", "set"),
    (
        "cleanlab_self_confidence_top_k",
        "cleanlab: `find_label_issues(return_indices_ranked_by='self_confidence')`",
        "top k of its set",
    ),
    (
        "cleanlab_confident_learning_set",
        "cleanlab: `find_label_issues(filter_by='confident_learning')`",
        "set",
    ),
    ("cleanlab_margin_top_k", "cleanlab: `get_label_quality_scores(method='normalized_margin')`", "top k"),
    (
        "cleanlab_self_confidence_scores_top_k",
        "cleanlab: `get_label_quality_scores(method='self_confidence')`",
        "top k",
    ),
]


def reference_out_of_fold(texts: list[str], given: np.ndarray, folds: np.ndarray, classes: int) -> np.ndarray:
    """The plain scikit-learn reference's out-of-fold probabilities on the given folds (IMDB's too)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    probabilities = np.zeros((len(texts), classes))
    for fold in np.unique(folds):
        train, test = np.flatnonzero(folds != fold), np.flatnonzero(folds == fold)
        model = make_pipeline(
            TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True), LogisticRegression(max_iter=1000)
        ).fit([texts[i] for i in train], given[train])
        probabilities[np.ix_(test, model.classes_)] = model.predict_proba([texts[i] for i in test])
    return probabilities


def found_at_shares(score: np.ndarray, is_error: np.ndarray) -> dict:
    """Precision and recall of the first 1 / 2 / 5 % of the ranking by `score` (lowest first)."""
    order = np.argsort(score, kind="stable")
    taken = [order[: round(share * len(order))] for share in SHARES]
    return {
        "precision": [float(is_error[rows].mean()) for rows in taken],
        "recall": [float(is_error[rows].sum() / is_error.sum()) for rows in taken],
    }


def read_train_split() -> tuple[list[str], list[str]]:
    """Texts and groups of the train split; a text is what the app trains on: document(Subject, body)."""
    posts = [text for text in newsgroups() if text.key.startswith("20news/train/")]
    return [document(post.title, post.body) for post in posts], [post.group for post in posts]


def flip_labels(given: np.ndarray, classes: int, *, share: float, rng: np.random.Generator):
    """A copy of `given` with round(share * n) random rows moved to another class, uniform over the others."""
    flipped = np.sort(rng.choice(len(given), size=round(share * len(given)), replace=False))
    noisy = given.copy()
    noisy[flipped] = (given[flipped] + rng.integers(1, classes, size=len(flipped))) % classes
    return noisy, flipped


def load_cleanlab(folder: Path):
    """cleanlab, from `folder` when it is there (appended, so the project's numpy comes first)."""
    if folder.is_dir() and str(folder) not in sys.path:
        sys.path.append(str(folder))
    try:
        import cleanlab
        import cleanlab.filter
        import cleanlab.rank
    except ImportError as error:
        return (
            None,
            f"cleanlab cannot be imported ({error}); `make bench` installs it, or: {CLEANLAB_INSTALL}",
        )
    return cleanlab, None


def _cleanlab_methods(cleanlab, probabilities: np.ndarray, noisy: np.ndarray, k: int) -> dict[str, Callable]:
    find, scores = cleanlab.filter.find_label_issues, cleanlab.rank.get_label_quality_scores
    return {
        "cleanlab_default_set": lambda: np.flatnonzero(find(labels=noisy, pred_probs=probabilities)),
        "cleanlab_self_confidence_top_k": lambda: find(
            labels=noisy, pred_probs=probabilities, return_indices_ranked_by="self_confidence"
        ),
        "cleanlab_confident_learning_set": lambda: np.flatnonzero(
            find(labels=noisy, pred_probs=probabilities, filter_by="confident_learning")
        ),
        "cleanlab_margin_top_k": lambda: np.argsort(
            scores(noisy, probabilities, method="normalized_margin"), kind="stable"
        )[:k],
        "cleanlab_self_confidence_scores_top_k": lambda: np.argsort(
            scores(noisy, probabilities, method="self_confidence"), kind="stable"
        )[:k],
    }


def _found(chosen: np.ndarray, is_flipped: np.ndarray, seconds: float) -> dict:
    hits = int(is_flipped[chosen].sum())
    return {
        "size": len(chosen),
        "hits": hits,
        "precision": hits / len(chosen) if len(chosen) else 0.0,
        "recall": hits / int(is_flipped.sum()),
        "seconds": round(seconds, 4),
    }


class Bench:
    def __init__(self, *, quick: bool, seeds: int, cleanlab_dir: Path) -> None:
        self.quick, self.seeds = quick, seeds
        self.cleanlab, self.cleanlab_skipped = load_cleanlab(cleanlab_dir)
        self.check = Checks()
        self.runs: list[dict] = []
        self.code = _code_version()  # what Python imports now is what gets measured

    def setup(self) -> None:
        started = time.perf_counter()
        self.texts, groups = read_train_split()
        self.read_seconds = time.perf_counter() - started
        self.check("posts in the train split", TRAIN_POSTS, len(self.texts))
        self.check("the train split's groups are the 20 newsgroups", True, set(groups) == set(NEWSGROUPS))
        self.classes = sorted(set(groups))
        self.given = np.array([self.classes.index(group) for group in groups], dtype=np.int64)
        if self.quick:
            rows = np.sort(np.random.default_rng(0).choice(len(self.texts), size=QUICK_POSTS, replace=False))
            self.texts, self.given = [self.texts[i] for i in rows], self.given[rows]
        say(f"{len(self.texts):,} posts read in {self.read_seconds:.1f} s")

    def run(self) -> None:
        for seed in range(self.seeds):
            self.runs.append(self._seed(seed))

    def _seed(self, seed: int) -> dict:
        rng = np.random.default_rng(seed)
        noisy, flipped = flip_labels(self.given, len(self.classes), share=NOISE, rng=rng)
        k = len(flipped)
        self.check(f"seed {seed}: posts flipped", round(NOISE * len(self.given)), k)
        self.check(f"seed {seed}: labels changed exactly where flipped", k, int((noisy != self.given).sum()))
        labels = [self.classes[j] for j in noisy]
        folds = fold_numbers(list(range(len(labels))), labels, folds=FOLDS, seed=seed)
        say(f"seed {seed}: {k} labels flipped; {FOLDS}-fold out-of-fold with {DEFAULT_ALGORITHM}")
        probabilities, oof_seconds, fold_seconds = self._out_of_fold(labels, folds)
        say(f"seed {seed}: out-of-fold in {oof_seconds:.1f} s")
        one_thread = None
        if seed == 0:  # the same work with BLAS held to one thread: its threads fight over 2 loaded cores
            with threadpool_limits(limits=1):
                again, seconds, per_fold = self._out_of_fold(labels, folds)
            one_thread = {
                "oof_seconds": round(seconds, 2),
                "fold_seconds": per_fold,
                "max_abs_probability_difference": float(np.abs(again - probabilities).max()),
            }
            say(f"seed {seed}: out-of-fold with one BLAS thread in {seconds:.1f} s")
        self.check(
            f"seed {seed}: every row's probabilities sum to 1 (within 1e-3)",
            True,
            bool(np.abs(probabilities.sum(axis=1) - 1).max() < 1e-3),
        )
        predicted = probabilities.argmax(axis=1)
        is_flipped = np.zeros(len(noisy), dtype=bool)
        is_flipped[flipped] = True
        methods = {
            "ours_quality_top_k": lambda: np.argsort(label_quality(probabilities, noisy), kind="stable")[:k],
            "ours_confident_set": lambda: np.flatnonzero(confident_issues(probabilities, noisy)),
        }
        if self.cleanlab:
            methods |= _cleanlab_methods(self.cleanlab, probabilities, noisy, k)
        chosen, found = {}, {}
        for key, method in methods.items():
            started = time.perf_counter()
            chosen[key] = np.asarray(method(), dtype=np.int64)
            seconds = time.perf_counter() - started
            taken = chosen[key][:k] if key.endswith("top_k") else chosen[key]
            found[key] = _found(taken, is_flipped, seconds) | {"set_size": len(chosen[key])}
            precision, recall = found[key]["precision"], found[key]["recall"]
            say(f"seed {seed}: {key}: precision {precision:.3f}, recall {recall:.3f}")
        shares = self._shares(probabilities, noisy, folds, is_flipped)
        return {
            "seed": seed,
            "shares": shares,
            "posts": len(noisy),
            "flipped": k,
            "oof_seconds": round(oof_seconds, 2),
            "fold_seconds": fold_seconds,
            "one_blas_thread": one_thread,
            "oof_accuracy_vs_labels_given": float((predicted == noisy).mean()),
            "oof_accuracy_vs_true_labels": float((predicted == self.given).mean()),
            "flipped_whose_top_class_is_the_true_one": int((predicted[flipped] == self.given[flipped]).sum()),
            "found": found,
            "agreement": self._agreement(seed, chosen),
        }

    def _shares(self, probabilities: np.ndarray, noisy: np.ndarray, folds: np.ndarray, is_flipped) -> dict:
        """The pipeline's and the reference's rankings (margin; self-confidence beside) at the same shares."""
        started = time.perf_counter()
        reference = reference_out_of_fold(self.texts, noisy, folds, len(self.classes))
        seconds = time.perf_counter() - started
        say(f"reference out-of-fold in {seconds:.1f} s")
        rows = np.arange(len(noisy))
        shares = {"reference_seconds": round(seconds, 1)}
        for key, matrix in (("pipeline", probabilities), ("reference", reference)):
            shares[key] = {
                "margin": found_at_shares(label_quality(matrix, noisy), is_flipped),
                "self_confidence": found_at_shares(matrix[rows, noisy], is_flipped),
                "oof_accuracy_vs_true_labels": float((matrix.argmax(axis=1) == self.given).mean()),
            }
            say(f"{key}: margin precision at 1/2/5 %: {shares[key]['margin']['precision']}")
        return shares

    def _out_of_fold(self, labels: list[str], folds: np.ndarray) -> tuple[np.ndarray, float, list[float]]:
        """Out-of-fold probabilities (default algorithm and parameters); seconds, in all and per fold."""
        ends: list[float] = []
        started = time.perf_counter()
        probabilities = out_of_fold(
            lambda: algorithm_class(DEFAULT_ALGORITHM)({}),
            self.texts,
            labels,
            self.classes,
            folds,
            on_fold=lambda done, total: ends.append(time.perf_counter() - started),
        )
        per_fold = [round(end - start, 2) for start, end in zip([0.0, *ends], ends, strict=False)]
        return probabilities, time.perf_counter() - started, per_fold

    def _agreement(self, seed: int, chosen: dict[str, np.ndarray]) -> dict:
        """How far cleanlab's implementation of our two rules agrees with ours on the same probabilities."""
        if not self.cleanlab:
            return {}
        self.check(
            f"seed {seed}: cleanlab's ranked list holds the same posts as its default set",
            True,
            set(chosen["cleanlab_self_confidence_top_k"].tolist())
            == set(chosen["cleanlab_default_set"].tolist()),
        )

        def overlap(a: str, b: str) -> dict:
            left, right = set(chosen[a].tolist()), set(chosen[b].tolist())
            return {
                "both": len(left & right),
                "only_ours": len(left - right),
                "only_cleanlab": len(right - left),
            }

        return {
            "label_quality_top_k_vs_cleanlab_normalized_margin_top_k": overlap(
                "ours_quality_top_k", "cleanlab_margin_top_k"
            ),
            "confident_issues_vs_cleanlab_confident_learning": overlap(
                "ours_confident_set", "cleanlab_confident_learning_set"
            ),
        }

    def results(self, error: str | None) -> dict:
        return {
            "benchmark": "label_errors",
            "quick": self.quick,
            "data": {
                "corpus": "20 Newsgroups train split (20news-bydate-train), Latin-1",
                "posts": len(self.given) if hasattr(self, "given") else None,
                "text": "training.algorithms.text.document(Subject header, body after the headers)",
                "noise_share": NOISE,
                "flip": "a random share of posts, each to another group chosen uniformly at random",
            },
            "algorithm": DEFAULT_ALGORITHM,
            "params": "defaults",
            "folds": FOLDS,
            "read_seconds": round(getattr(self, "read_seconds", 0.0), 2),
            "cleanlab": {
                "version": getattr(self.cleanlab, "__version__", None),
                "path": str(Path(self.cleanlab.__file__).parent) if self.cleanlab else None,
                "skipped": self.cleanlab_skipped,
            },
            "methods": {key: {"label": label, "taken": taken} for key, label, taken in METHODS},
            "summary": _summary(self.runs),
            "reference": REFERENCE,
            "shares": list(SHARES),
            **_verdicts(self.runs),
            "runs": self.runs,
            "checks": self.check.rows,
            "machine": _machine(self.cleanlab),
            "code": self.code | _changed_since(self.code),
            "error": error,
        }


def _mean_at_shares(runs: list[dict], who: str, ranking: str, measure: str) -> list[float]:
    return [float(x) for x in np.mean([run["shares"][who][ranking][measure] for run in runs], axis=0)]


def _verdicts(runs: list[dict]) -> dict:
    """Target: the pipeline's margin ranking finds at least as many flips as the reference's at every share
    (precision, mean over the seeds)."""
    runs = [run for run in runs if "shares" in run]
    if not runs:
        return {"verdicts": [], "failed_targets": []}
    ours = _mean_at_shares(runs, "pipeline", "margin", "precision")
    theirs = _mean_at_shares(runs, "reference", "margin", "precision")
    passed = all(a >= b - 1e-9 for a, b in zip(ours, theirs, strict=True))
    label = "pipeline (margin) >= reference (margin): top-k precision at 1 / 2 / 5 %, mean over the seeds"
    verdict = {"key": "flips_vs_reference", "label": label, "verdict": "pass" if passed else "FAIL"}
    return {"verdicts": [verdict], "failed_targets": [] if passed else ["flips_vs_reference"]}


def _summary(runs: list[dict]) -> dict:
    """Per method: mean, min and max over the seeds of set size, precision and recall."""
    summary = {}
    for key, _, _ in METHODS:
        rows = [run["found"][key] for run in runs if key in run["found"]]
        if rows:
            summary[key] = {
                name: {
                    "mean": float(np.mean([row[name] for row in rows])),
                    "min": min(row[name] for row in rows),
                    "max": max(row[name] for row in rows),
                }
                for name in ("size", "precision", "recall", "seconds")
            }
    if runs:
        summary["oof_seconds"] = {
            "mean": float(np.mean([run["oof_seconds"] for run in runs])),
            "min": min(run["oof_seconds"] for run in runs),
            "max": max(run["oof_seconds"] for run in runs),
        }
    return summary


def _machine(cleanlab) -> dict:
    return {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpu_model": _cpu_model(),
        "cpu_cores": os.cpu_count(),
        "cpu_cores_usable": len(os.sched_getaffinity(0)),
        "ram_bytes": _ram_bytes(),
        "kernel": platform.release(),
        "load_average_1_5_15": [round(load, 2) for load in os.getloadavg()],
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scikit_learn": sklearn.__version__,
        "cleanlab": getattr(cleanlab, "__version__", None),
        "blas": [
            f"{pool['internal_api']} {pool.get('version')}, {pool['num_threads']} threads"
            for pool in threadpool_info()
        ],
        "thread_variables": {
            name: os.environ[name]
            for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
            if name in os.environ
        },
    }


def _code_version() -> dict:
    """The commit measured and the files changed on top of it (the code this benchmark runs)."""

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=30)
        return done.stdout if done.returncode == 0 else ""

    status = git("status", "--porcelain", "--", *MEASURED_CODE)
    return {
        "commit": git("rev-parse", "--short", "HEAD").strip() or "unknown",
        "uncommitted_files": [line[3:] for line in status.splitlines() if len(line) > 3],
    }


def _changed_since(code: dict) -> dict:
    """Others may commit or edit the code meanwhile: say so (Python imported it at the start)."""
    now = _code_version()
    return {} if now == code else {"changed_during_the_run": now}


def _spread(figure: dict, digits: int = 3) -> str:
    if figure["min"] == figure["max"]:
        return f"{figure['mean']:.{digits}f}"
    return f"{figure['mean']:.{digits}f} ({figure['min']:.{digits}f}–{figure['max']:.{digits}f})"


def _md_results(results: dict) -> list[str]:
    runs, summary = results["runs"], results["summary"]
    if not runs:
        return ["No seed finished.", ""]
    k, posts = runs[0]["flipped"], runs[0]["posts"]
    seeds = f"mean over {len(runs)} seeds (min–max)" if len(runs) > 1 else "one seed"
    lines = [
        f"## Finding the {k:,} flipped labels among {posts:,} posts ({seeds})",
        "",
        f"k = {k:,} (the number flipped). *top k*: the k most suspicious posts of a ranking; *set*: every "
        "post the method calls an issue. Precision = flipped posts found / posts taken; recall = flipped "
        "posts found / k.",
        "",
        "| method | taken | posts taken | precision | recall | seconds |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for key, label, taken in METHODS:
        if key in summary:
            row = summary[key]
            lines.append(
                f"| {label} | {taken} | {_spread(row['size'], 0)} | {_spread(row['precision'])} "
                f"| {_spread(row['recall'])} | {_spread(row['seconds'], 2)} |"
            )
    if results["cleanlab"]["skipped"]:
        lines += ["", f"**cleanlab comparison skipped**: {results['cleanlab']['skipped']}"]
    return [*lines, ""]


RANKINGS = (("margin", "normalised margin (default)"), ("self_confidence", "self-confidence"))


def _md_reference(results: dict) -> list[str]:
    runs = [run for run in results["runs"] if "shares" in run]
    if not runs:
        return []
    shares = " / ".join(f"{share:.0%}" for share in results["shares"])
    posts = " / ".join(f"{round(share * runs[0]['posts']):,}" for share in results["shares"])
    seeds = f"mean over {len(runs)} seeds" if len(runs) > 1 else "one seed"
    lines = [
        f"## Against a plain scikit-learn reference (same flips, same folds; {seeds})",
        "",
        f"Reference: {results['reference']}, {results['folds']}-fold on the pipeline's folds, raw texts. "
        f"Precision and recall of the first {shares} of each ranking ({posts} posts; 5 % = k).",
        "",
        "| out-of-fold probabilities | ranking | precision at 1 / 2 / 5 % | recall at 1 / 2 / 5 % "
        "| OOF accuracy vs true labels |",
        "|---|---|---|---|---:|",
    ]
    for who, label in (("pipeline", f"the pipeline (`{results['algorithm']}`)"), ("reference", "reference")):
        for ranking, name in (
            ("margin", "normalised margin (default)"),
            ("self_confidence", "self-confidence"),
        ):
            cells = [
                " / ".join(f"{v:.3f}" for v in _mean_at_shares(runs, who, ranking, measure))
                for measure in ("precision", "recall")
            ]
            accuracy = np.mean([run["shares"][who]["oof_accuracy_vs_true_labels"] for run in runs])
            lines.append(f"| {label} | {name} | {cells[0]} | {cells[1]} | {accuracy:.4f} |")
    seconds = ", ".join(f"{run['shares']['reference_seconds']:.0f}" for run in runs)
    lines += ["", f"Reference out-of-fold seconds per seed: {seconds}."]
    for verdict in results["verdicts"]:
        shown = "pass" if verdict["verdict"] == "pass" else "**FAIL**"
        lines.append(f"Target ({verdict['label']}): {shown}.")
    return [*lines, ""]


def _md_seeds(results: dict) -> list[str]:
    lines = [
        f"## Out-of-fold step ({results['folds']}-fold, {results['algorithm']}, default parameters)",
        "",
        "| seed | seconds | per fold | OOF accuracy vs labels given | vs true labels "
        "| flipped posts whose top class is the true one |",
        "|---:|---:|---|---:|---:|---:|",
    ]
    for run in results["runs"]:
        folds = ", ".join(f"{seconds:.1f}" for seconds in run["fold_seconds"])
        recovered = run["flipped_whose_top_class_is_the_true_one"]
        lines.append(
            f"| {run['seed']} | {run['oof_seconds']:.1f} | {folds} "
            f"| {run['oof_accuracy_vs_labels_given']:.3f} | {run['oof_accuracy_vs_true_labels']:.3f} "
            f"| {recovered:,} of {run['flipped']:,} |"
        )
    for run in results["runs"]:
        if run["one_blas_thread"]:
            again = run["one_blas_thread"]
            folds = ", ".join(f"{seconds:.1f}" for seconds in again["fold_seconds"])
            lines += [
                "",
                f"Seed {run['seed']} again with BLAS held to one thread (`threadpool_limits(1)`): "
                f"{again['oof_seconds']:.1f} s (folds {folds}) instead of {run['oof_seconds']:.1f} s; "
                f"probabilities differ by {again['max_abs_probability_difference']:.1e} at most.",
            ]
    lines += ["", "Per seed, precision / recall (posts taken) of each method:", ""]
    lines += ["| method | " + " | ".join(f"seed {run['seed']}" for run in results["runs"]) + " |"]
    lines += ["|---|" + "---:|" * len(results["runs"])]
    for key, label, _ in METHODS:
        cells = [run["found"].get(key) for run in results["runs"]]
        if all(cells):
            shown = " | ".join(f"{c['precision']:.3f} / {c['recall']:.3f} ({c['size']})" for c in cells)
            lines.append(f"| {label} | {shown} |")
    return [*lines, ""]


def _md_agreement(results: dict) -> list[str]:
    rows = [(run["seed"], run["agreement"]) for run in results["runs"] if run["agreement"]]
    if not rows:
        return []
    lines = [
        "## Same rule, two implementations",
        "",
        "Posts in both / only ours / only cleanlab's, on the same probabilities.",
        "",
        "| seed | label_quality top k vs cleanlab normalized_margin top k "
        "| confident_issues vs cleanlab confident_learning |",
        "|---:|---|---|",
    ]
    for seed, agreement in rows:
        cells = ["{both} / {only_ours} / {only_cleanlab}".format(**value) for value in agreement.values()]
        lines.append(f"| {seed} | {' | '.join(cells)} |")
    return [*lines, ""]


def _md_machine(results: dict) -> list[str]:
    machine, code, cleanlab = results["machine"], results["code"], results["cleanlab"]
    changed = (
        f" + uncommitted changes in {', '.join(code['uncommitted_files'])}"
        if code["uncommitted_files"]
        else ""
    )
    if code.get("changed_during_the_run"):
        changed += " (the code changed while the benchmark ran; it was imported at its start)"
    return [
        "## Machine",
        "",
        "| fact | value |",
        "|---|---|",
        f"| date | {machine['date']} |",
        f"| CPU | {machine['cpu_model']} |",
        f"| cores | {machine['cpu_cores']} ({machine['cpu_cores_usable']} usable) |",
        f"| RAM | {machine['ram_bytes'] / 2**30:.1f} GiB |",
        f"| kernel | {machine['kernel']} |",
        f"| load average at the end (1, 5, 15 min) | {', '.join(map(str, machine['load_average_1_5_15']))} |",
        f"| BLAS | {'; '.join(machine['blas'])} {machine['thread_variables'] or '(no variable set)'} |",
        f"| Python / numpy / scikit-learn | {machine['python']} / {machine['numpy']} "
        f"/ {machine['scikit_learn']} |",
        f"| cleanlab | {cleanlab['version'] or 'not available'} ({cleanlab['path'] or '—'}) |",
        f"| code measured | commit {code['commit']}{changed} |",
        "",
        *([code["note"], ""] if code.get("note") else []),
        "Timings share 2 cores with whatever else runs (see the load average): compare them within a run.",
        "",
    ]


def markdown(results: dict) -> str:
    title = "# Label errors: our ranking vs cleanlab" + (
        " (--quick: not comparable)" if results["quick"] else ""
    )
    lines = [
        title,
        "",
        f"{NOISE:.0%} of the labels of the 20 Newsgroups train split flipped at random (each to another "
        f"group, uniform), {results['folds']}-fold out-of-fold probabilities with `{results['algorithm']}`; "
        "each method then ranks or picks the posts whose label looks wrong. Text: Subject header + body.",
        "",
        *_md_results(results),
        *_md_reference(results),
        *_md_seeds(results),
        *_md_agreement(results),
        *checks_lines(results["checks"]),
        *_md_machine(results),
    ]
    lines += error_lines(results["error"])
    return "\n".join(lines)


def run(*, quick: bool, seeds: int, cleanlab_dir: Path, results_dir: Path) -> int:
    """Run, keep what was measured even when the code under test fails, write the results.
    Exit status 1 on an error or a failed check."""
    bench, error = Bench(quick=quick, seeds=seeds, cleanlab_dir=cleanlab_dir), None
    if bench.cleanlab_skipped:
        say(bench.cleanlab_skipped)
    try:
        bench.setup()
        bench.run()
    except Exception:
        error = traceback.format_exc()
        say(f"the benchmark stopped on an error:\n{error}")
    results = bench.results(error)
    write_results(results_dir, "label_errors", results, markdown(results))
    if error or not bench.check.all_ok:
        say("the run failed or some checks failed: the figures may not measure what they say")
        return 1
    return 0
