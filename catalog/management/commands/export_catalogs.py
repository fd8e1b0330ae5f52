import csv
import sys
from pathlib import Path

from django.core.management.base import BaseCommand

from catalog.models import Offer

COLUMNS = ["catalog_id", "status", "quality_score", "shop", "external_id", "title"]


class Command(BaseCommand):
    help = "Write every offer with its catalog as CSV (empty catalog_id for an offer in no catalog)."

    def add_arguments(self, parser):
        parser.add_argument("--output", type=Path, help="file to write (default: standard output)")

    def handle(self, *args, output: Path | None, **options):
        rows = (
            Offer.objects.order_by("id")
            .values_list(
                "membership__catalog_id",
                "membership__catalog__status",
                "membership__catalog__quality_score",
                "shop__name",
                "external_id",
                "title",
            )
            .iterator(chunk_size=5000)
        )
        out = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
        try:
            writer = csv.writer(out)
            writer.writerow(COLUMNS)
            count = 0
            for catalog, status, quality, *rest in rows:
                writer.writerow(
                    [
                        "" if catalog is None else catalog,
                        status or "",
                        "" if quality is None else quality,
                        *rest,
                    ]
                )
                count += 1
        finally:
            if output:
                out.close()
        if output:
            self.stdout.write(f"{count} offers written to {output}")
