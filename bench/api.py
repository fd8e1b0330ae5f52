"""Benchmark of the classification API: a real champion served by granian (gunicorn the peer), over HTTP.

Loads the 20 Newsgroups train split (11,314 posts) into PostgreSQL, trains a champion through the training
pipeline (`run_start` + `run_execute`), serves the site with granian on loopback (2 workers x 4 threads, as
`make run` does; gunicorn with the same counts loaded with the targets' rows as the peer) and loads
`POST /api/v1/datasets/<id>/classify` from a second process with texts of the test split: throughput and
p50/p99 latency of single-text and batch requests (100 and 1,000 texts) at 1, 8 and 32 concurrent clients,
compared with calling the model in-process (`classify()`, and `predict_proba` alone). Single-text requests
and requests of 1,000 texts are profiled in-process (JSON, checks, authentication, throttle, SQL, text
preparation, TF-IDF, scores, decision, answers, log).
Writes bench/results/api.md (for people) and bench/results/api.json (for tools).

Run from the project root:  make bench
                       or:  scripts/with-services.sh .venv/bin/python bench/api.py [--quick]

It needs DATABASE_URL to name a fresh PostgreSQL database (scripts/with-services.sh starts a private
one); the database is created when missing, then migrated, then filled. The models are written to a
temporary MODEL_DIR, removed afterwards.
"""

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import RESULTS, setup_django  # noqa: E402  (the project root must be importable first)

SCRIPT = "bench/api.py"
ALGORITHMS = ("tfidf-svm", "fasttext")
SERVERS = ("granian", "gunicorn")  # bench/api_run.py's Server knows these


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: 4 s per load figure, fewer in-process calls"
    )
    parser.add_argument(
        "--seconds", type=float, default=None, help="seconds of load per figure (15; --quick: 4)"
    )
    parser.add_argument(
        "--algorithms",
        default=",".join(ALGORITHMS),
        help=f"champions to serve, one after the other (default {','.join(ALGORITHMS)}; the first is the "
        "main figure, against the targets)",
    )
    parser.add_argument(
        "--servers",
        default="granian,gunicorn",
        help="HTTP servers of the site: the first serves every figure (the targets'), the others are loaded "
        "with the targets' two rows as peers (default granian,gunicorn; granian alone: --servers granian)",
    )
    parser.add_argument("--threads", type=int, default=4, help="threads per server worker (4)")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes (2)")
    parser.add_argument("--results", type=Path, default=RESULTS, help="output folder")
    parser.add_argument("--strict", action="store_true", help="exit 2 when a target is missed")
    args = parser.parse_args(argv)
    args.algorithms = [name.strip() for name in args.algorithms.split(",") if name.strip()]
    unknown = sorted(set(args.algorithms) - set(ALGORITHMS))
    if unknown or not args.algorithms:
        parser.error(f"--algorithms: choose from {', '.join(ALGORITHMS)}")
    args.servers = list(dict.fromkeys(name.strip() for name in args.servers.split(",") if name.strip()))
    if not args.servers or set(args.servers) - set(SERVERS):
        parser.error(f"--servers: choose from {', '.join(SERVERS)}")
    if args.seconds is None:
        args.seconds = 4.0 if args.quick else 15.0
    if args.seconds <= 0 or args.threads < 1 or args.workers < 1:
        parser.error("need --seconds > 0, --threads >= 1, --workers >= 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    models = tempfile.mkdtemp(prefix="bunryu-bench-models-")
    os.environ["MODEL_DIR"] = models  # read by the settings, here and in the server's workers
    try:
        setup_django(SCRIPT)
        from bench.api_run import run  # needs the apps loaded

        return run(
            algorithms=args.algorithms,
            servers=args.servers,
            seconds=args.seconds,
            quick=args.quick,
            workers=args.workers,
            threads=args.threads,
            results_dir=args.results,
            strict=args.strict,
        )
    finally:
        shutil.rmtree(models, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
