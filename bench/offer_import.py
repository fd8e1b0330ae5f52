"""Benchmark of the catalog's offer import at 100,000 rows: preview and apply jobs beside a plain baseline.

Two files in turn: 100,000 new offers (50 shops, half of the rows without a category), then the same offers
with every title and price changed. Each runs as the catalog's pages run it: upload, the preview job, the
apply job, both by `core.jobs.job_run` in this process as the worker runs them. Before each, in the same run,
a **plain baseline** does the bare minimum with the same rows in the same tables and rolls it back: the
standard csv module reads the file, then a COPY of the new offers (or one `UPDATE ... FROM unnest(...)` of
the changed ones) and one `INSERT ... SELECT` of their history rows. No checks, no preview, no counts: the
ratio import / baseline says what the import's checks and bookkeeping cost on this machine, whatever its load.
CPU seconds are this process's plus its PostgreSQL server process's (/proc), the figure that counts on a
shared machine; wall seconds beside them. The jobs' progress reports are counted (the job page's bar).

Run from the project root:  make bench
                       or:  scripts/with-services.sh .venv/bin/python bench/offer_import.py [--rows N]
"""

import argparse
import csv
import io
import os
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = "bench/offer_import.py"
SHOPS = 50
HEADER = "shop,external_id,title,price,brand,category"
COLUMNS = "shop_id, external_id, title, price, brand, category_id"  # the offer's columns a file sets


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="rows of the file (100,000)")
    parser.add_argument("--results", type=Path, default=ROOT / "bench" / "results", help="output folder")
    parser.add_argument("--name", default="offer_import", help="results file name (offer_import)")
    parser.add_argument("--strict", action="store_true", help="exit 2 when a target is missed")
    return parser.parse_args(argv)


def offer_csv(rows: int, edition: str = "") -> bytes:
    """`rows` offers of SHOPS shops; `edition` changes every title and price (the same offers, changed)."""
    bump = 7 if edition else 0
    lines = [HEADER]
    for n in range(rows):
        category = "electronics/audio" if n % 2 else ""
        lines.append(
            f"shop{n % SHOPS},{n},[무료배송] Sony speaker model SK-{n}{edition} 2L 12개입,"
            f"{1000 + (n + bump) % 977},Sony,{category}"
        )
    return "\n".join(lines).encode()


def _cpu(backend_pid: int) -> float:
    """CPU seconds of this process and of its PostgreSQL server process."""
    from bench.catalog_scale_db import tree_cpu

    return time.process_time() + tree_cpu(backend_pid)


class OfferImportBench:
    def __init__(self, rows: int) -> None:
        from bench.common import Checks

        self.rows, self.figures, self.check, self.loads = rows, [], Checks(), []

    def setup(self) -> None:
        from bench.common import migrate_fresh
        from tests.factories import SmallCategoryFactory, user_with_role

        migrate_fresh(SCRIPT)
        import catalog.services.imports  # noqa: F401  imported before the clock starts, as in a worker

        self.audio = SmallCategoryFactory(name="audio", parent__name="electronics")
        self.user = user_with_role("category manager", username="offer-importer")
        with self._cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            (self.backend,) = cursor.fetchone()

    @staticmethod
    def _cursor():
        from django.db import connection

        return connection.cursor()

    def run(self) -> None:
        from catalog.models import Offer

        for label, edition in (("new", ""), ("changed", "B")):
            data = offer_csv(self.rows, edition)
            self.loads.append(os.getloadavg()[0])
            baseline = self._measured(f"baseline_{label}", self._baseline, data, label)
            preview = self._measured(f"preview_{label}", self._job, data, "preview")
            apply = self._measured(f"apply_{label}", self._job, data, "apply")
            self._ratio(label, baseline, preview, apply)
            self.check(f"offers after the {label} file", self.rows, Offer.objects.count())
            titles = Offer.objects.filter(title__endswith=f"{edition} 2L 12개입", external_id="1").count()
            self.check(f"the {label} file's titles written", 1, titles)
        self.check(
            "offer history rows (one per new, one per changed offer)", 2 * self.rows, Offer.history.count()
        )
        self.loads.append(os.getloadavg()[0])

    def _measured(self, key: str, work, *args) -> dict:
        from bench.common import say

        cpu, wall = _cpu(self.backend), time.perf_counter()
        extra = work(*args)
        row = {
            "key": key,
            "cpu_seconds": round(_cpu(self.backend) - cpu, 2),
            "wall_seconds": round(time.perf_counter() - wall, 2),
            **extra,
        }
        self.figures.append(row)
        say(f"{key}: {row['cpu_seconds']:.1f} CPU s, {row['wall_seconds']:.1f} wall s {extra or ''}")
        return row

    def _job(self, data: bytes, step: str) -> dict:
        from catalog.models import OfferImport
        from catalog.services.imports import offer_import_apply_enqueue, offer_import_upload
        from core.jobs import job_run
        from core.pauses import pausing

        if step == "preview":
            job = offer_import_upload(
                data=data, file_name="big.csv", encoding="", classify_with=None, user=self.user
            )
        else:
            job = offer_import_apply_enqueue(
                upload=OfferImport.objects.order_by("-id").first(), user=self.user
            )
        reports = []
        with pausing("job-progress", lambda: reports.append(1)):
            job_run(job.id)
        job.refresh_from_db()
        self.check(f"{job.kind} #{job.id} succeeded", "succeeded", job.status)
        self.check(
            f"{job.kind} #{job.id}: its page's bar moved (>= 5 progress reports)", True, len(reports) >= 5
        )
        upload = OfferImport.objects.order_by("-id").first()
        counts = upload.preview if step == "preview" else upload.result
        return {"progress_reports": len(reports), **{name: counts.get(name) for name in ("new", "changed")}}

    def _baseline(self, data: bytes, label: str) -> dict:
        """The same rows, bare: csv module, COPY or UPDATE FROM unnest, history by INSERT ... SELECT;
        rolled back."""
        from django.db import transaction

        from catalog.models import Offer, Shop

        rows = list(csv.DictReader(io.StringIO(data.decode("utf-8"))))
        categories = {"electronics/audio": self.audio.id}
        with transaction.atomic():
            if label == "new":
                with self._cursor() as cursor:
                    cursor.execute(
                        "INSERT INTO catalog_shop (name, created_at) SELECT unnest(%s::text[]), now()",
                        [sorted({row["shop"] for row in rows})],
                    )
            shops = dict(Shop.objects.values_list("name", "id"))
            columns = (
                [shops[row["shop"]] for row in rows],
                [row["external_id"] for row in rows],
                [row["title"] for row in rows],
                [Decimal(row["price"]) for row in rows],
                [row["brand"] for row in rows],
                [categories.get(row["category"]) for row in rows],
            )
            with self._cursor() as cursor:
                if label == "new":
                    self._copy(cursor, columns)
                    cursor.execute(
                        "SELECT o.id FROM catalog_offer o JOIN unnest(%s::bigint[], %s::text[]) "
                        "AS c(shop_id, external_id) USING (shop_id, external_id)",
                        columns[:2],
                    )
                    ids = [row[0] for row in cursor.fetchall()]
                else:
                    cursor.execute(
                        "UPDATE catalog_offer o SET title = c.title, price = c.price, brand = c.brand, "
                        "category_id = coalesce(c.category_id, o.category_id), modified_at = now() "
                        "FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::numeric[], %s::text[], "
                        "%s::bigint[]) AS c(shop_id, external_id, title, price, brand, category_id) "
                        "WHERE o.shop_id = c.shop_id AND o.external_id = c.external_id RETURNING o.id",
                        columns,
                    )
                    ids = [row[0] for row in cursor.fetchall()]
                tracked = f"id, {COLUMNS}, image_url, attributes, created_at"
                cursor.execute(
                    f"INSERT INTO {Offer.history.model._meta.db_table} ({tracked}, history_date, "
                    f"history_change_reason, history_type, history_user_id) SELECT {tracked}, now(), "
                    "'baseline', %s, %s FROM catalog_offer WHERE id = ANY(%s)",
                    ["+" if label == "new" else "~", self.user.id, ids],
                )
            self.check(f"baseline {label}: rows written", self.rows, len(ids))
            transaction.set_rollback(True)
        return {}

    @staticmethod
    def _copy(cursor, columns) -> None:
        now = time.strftime("%Y-%m-%d %H:%M:%S+00", time.gmtime())
        names = f"{COLUMNS}, image_url, attributes, created_at, modified_at"
        with cursor.cursor.copy(f"COPY catalog_offer ({names}) FROM STDIN") as copy:
            for values in zip(*columns, strict=True):
                copy.write_row([*values, "", "{}", now, now])

    def _ratio(self, label: str, baseline: dict, preview: dict, apply: dict) -> None:
        cpu = preview["cpu_seconds"] + apply["cpu_seconds"]
        wall = preview["wall_seconds"] + apply["wall_seconds"]
        self.figures.append(
            {
                "key": f"ratio_{label}",
                "cpu_ratio": round(cpu / max(baseline["cpu_seconds"], 0.01), 2),
                "wall_ratio": round(wall / max(baseline["wall_seconds"], 0.01), 2),
                "apply_over_preview_cpu": round(apply["cpu_seconds"] / max(preview["cpu_seconds"], 0.01), 2),
            }
        )

    def results(self, machine: dict, code: dict) -> dict:
        from bench.measure import peak_rss_bytes

        return {
            "benchmark": "offer_import",
            "machine": machine,
            "code": code,
            "parameters": {"rows": self.rows, "shops": SHOPS},
            "load_average_1min": [round(load, 1) for load in self.loads],
            "peak_rss_bytes": peak_rss_bytes(),
            "figures": self.figures,
            # The issue sets no target for the import: every figure is information, beside its baseline.
            "verdicts": {row["key"]: "info" for row in self.figures},
            "failed_targets": [],
            "checks": self.check.rows,
        }


LABELS = {
    "baseline": "plain baseline (csv module, COPY / UPDATE FROM unnest, history INSERT ... SELECT)",
    "preview": "preview job (upload, parse, checks, counts against the offers)",
    "apply": "apply job (checks, writes with history, one transaction)",
}


def markdown(results: dict) -> str:
    from bench.common import report_end

    rows = results["parameters"]["rows"]
    lines = [
        f"# Offer import: {rows:,} offers through the preview and apply jobs",
        "",
        f"Produced by `{SCRIPT}` (`make bench`). The catalog's jobs run in the benchmark's process as the "
        "worker runs them (`core.jobs.job_run`), on PostgreSQL. CPU = this process + its PostgreSQL server "
        "process. The baseline (rolled back after it) is measured in the same run on the same rows and "
        "tables: the ratios count, absolute seconds depend on the machine's load "
        f"(1-minute load average during the run: {', '.join(map(str, results['load_average_1min']))}).",
        "",
        "| file | step | CPU s | wall s | progress reports | new | changed |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    ratios = []
    for row in results["figures"]:
        step, label = row["key"].split("_", 1)
        if step == "ratio":
            ratios.append(
                f"| {label} | {row['cpu_ratio']:.2f} | {row['wall_ratio']:.2f} | "
                f"{row['apply_over_preview_cpu']:.2f} |"
            )
            continue
        lines.append(
            f"| {label} | {LABELS[step]} | {row['cpu_seconds']:.1f} | {row['wall_seconds']:.1f} | "
            f"{row.get('progress_reports', '—')} | {row.get('new', '—')} | {row.get('changed', '—')} |"
        )
    lines += [
        "",
        "| file | (preview + apply) / baseline, CPU | same, wall | apply / preview, CPU |",
        "|---|---:|---:|---:|",
        *ratios,
        "",
        f"Peak RSS of the process: {results['peak_rss_bytes'] / 2**20:.0f} MiB. No target: the issue sets "
        "none for the import, so every verdict is `info`.",
        "",
    ]
    return report_end(lines, results)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    sys.path.insert(0, str(ROOT))
    from bench.common import run_measured, setup_django

    setup_django(SCRIPT)
    bench = OfferImportBench(args.rows)
    return run_measured(
        bench, name=args.name, results_dir=args.results, markdown=markdown, strict=args.strict
    )


if __name__ == "__main__":
    sys.exit(main())
