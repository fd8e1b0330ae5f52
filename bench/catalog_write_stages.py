"""CPU seconds of one category's real build, worker and PostgreSQL apart, per step of the write.

    OMP_NUM_THREADS=1 SEARCH_NODE=off scripts/with-services.sh \
        .venv/bin/python bench/catalog_write_stages.py [--offers 1000000] [--category 0] [--runs 1]

On the (fresh) database DATABASE_URL names: one category of the synthetic offers (bench/catalog_scale.py, as
bench/catalog_stages.py picks it) loaded by COPY, then `category_build` run `--runs` times (the second and
later runs are rebuilds over existing catalogs). Prints one JSON line per run: the worker's CPU
(time.process_time) and the PostgreSQL backend's CPU (/proc of pg_backend_pid(); same machine) for the whole
task and for each step; what the task spent outside the steps is mostly the commit (deferred key checks).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import setup_django  # noqa: E402

# PostgreSQL only (pg_backend_pid); the database is made when missing
setup_django("bench/catalog_write_stages.py")

from django.db import connection  # noqa: E402

from bench.catalog_scale import synthetic_offers  # noqa: E402
from bench.catalog_scale_db import _load  # noqa: E402
from bench.measure import process_cpu  # noqa: E402

STEPS = ("offers_frame", "decisions_for", "offers_group", "_write", "insert_with_history", "_retire",
         "_memberships", "_edges")  # fmt: skip


def backend_cpu() -> float:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    return process_cpu(pid)


def _category(count: int, category: int):
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from catalog.models import Shop
    from core.inserts import insert_with_history
    from labeling.models import Category, Taxonomy

    call_command("migrate", interactive=False, verbosity=0)
    user = get_user_model().objects.create_user("write-stages", password=uuid.uuid4().hex)
    taxonomy = Taxonomy.objects.create(name="write stages")
    top = Category.objects.create(taxonomy=taxonomy, level=1, name="synthetic")
    offers = synthetic_offers(count)
    offers = offers[offers["category"] == category].reset_index(drop=True)
    category_id = Category.objects.create(taxonomy=taxonomy, level=2, parent=top, name=f"c{category}").id
    insert_with_history(Shop, [{"name": f"shop{s}"} for s in range(60)], user=user, reason="write stages")
    _load(offers, {category: category_id}, dict(Shop.objects.values_list("name", "id")), user, "write stages")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return user, category_id, len(offers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--offers", type=int, default=1_000_000)
    parser.add_argument("--category", type=int, default=0)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args()
    from catalog.models import CatalogEdge
    from catalog.services import build

    user, category_id, count = _category(args.offers, args.category)
    spent: dict[str, list[float]] = {}

    def timed(name, function):
        def wrapper(*positional, **named):
            worker, server = time.process_time(), backend_cpu()
            try:
                return function(*positional, **named)
            finally:
                step = spent.setdefault(name, [0.0, 0.0])
                step[0] += time.process_time() - worker
                step[1] += backend_cpu() - server

        return wrapper

    for name in STEPS:
        setattr(build, name, timed(name, getattr(build, name)))
    for run in range(args.runs):
        spent.clear()
        worker, server, wall = time.process_time(), backend_cpu(), time.perf_counter()
        built = build.category_build(category_id=category_id, user=user)
        print(json.dumps({
            "run": run, "offers": count, "wall_seconds": round(time.perf_counter() - wall, 2),
            "worker_cpu_seconds": round(time.process_time() - worker, 2),
            "postgresql_cpu_seconds": round(backend_cpu() - server, 2),
            "edge_rows": CatalogEdge.objects.count(), "catalogs": built.groups,
            "steps_worker_postgresql": {name: [round(w, 2), round(s, 2)] for name, (w, s) in spent.items()},
        }), flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
