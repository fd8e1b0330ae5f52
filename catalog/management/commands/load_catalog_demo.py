from django.core.management.base import BaseCommand

from catalog.models import CatalogRun
from catalog.services.demo import catalog_demo_load
from catalog.services.runs import run_totals


class Command(BaseCommand):
    help = "Load the catalog demo (Abt and Buy offers) and build its catalogs, unless offers exist already."

    def handle(self, *args, **options):
        result = catalog_demo_load()
        if result is None:
            self.stdout.write("catalog demo: offers exist already, nothing loaded")
            return
        totals = run_totals(CatalogRun.objects.get(pk=result["run"]))
        self.stdout.write(
            f"catalog demo: {result['offers']} offers, {totals['groups']} catalogs "
            f"({totals['published']} published, {totals['in_review']} in review)"
        )
