from django.core.management.base import BaseCommand, CommandError

from catalog.errors import CatalogError
from catalog.models import CatalogRun
from catalog.services.offers import offers_classify
from catalog.services.runs import catalog_run_enqueue, catalog_run_inline, run_totals
from core.commands import author_named
from core.errors import ApplicationError
from labeling.models import Category, Dataset


class Command(BaseCommand):
    help = "Build catalogs: new offers attach to existing catalogs, or --full regroups every offer."

    def add_arguments(self, parser):
        parser.add_argument("--category", action="append", default=[], help="a small category (id or path)")
        parser.add_argument(
            "--full", action="store_true", help="regroup every offer (default: attach new ones)"
        )
        parser.add_argument(
            "--inline", action="store_true", help="run in this process instead of the workers"
        )
        parser.add_argument("--user", help="username recorded in history")
        parser.add_argument(
            "--classify",
            metavar="DATASET",
            help="first give uncategorised offers the category DATASET's champion predicts",
        )

    def handle(
        self, *args, category: list[str], full: bool, inline: bool, user: str | None, classify, **options
    ):
        author = author_named(user)
        if classify:
            dataset = Dataset.objects.filter(name=classify).first()
            if dataset is None:
                raise CommandError(f"No dataset named {classify!r}.")
            try:
                self.stdout.write(f"classified {offers_classify(dataset=dataset, user=author)} offers")
            except ApplicationError as error:
                raise CommandError(str(error)) from error
        ids = [self._category(name) for name in category]
        mode = CatalogRun.Mode.FULL if full else CatalogRun.Mode.INCREMENTAL
        start = catalog_run_inline if inline else catalog_run_enqueue
        try:
            run = start(user=author, mode=mode, category_ids=ids or None)
        except CatalogError as error:
            raise CommandError(str(error)) from error
        if not inline:
            self.stdout.write(f"catalog run #{run.id} queued over {len(run.categories)} categories")
            return
        totals = run_totals(run)
        self.stdout.write(
            f"run #{run.id} {run.status}: offers {totals['offers']}, groups {totals['groups']}, "
            f"published {totals['published']}, in review {totals['in_review']}, attached {totals['attached']}"
        )
        if run.status != CatalogRun.Status.SUCCEEDED:
            raise CommandError(run.message or f"run #{run.id} {run.status}")

    def _category(self, name: str) -> int:
        small = Category.objects.filter(level=Category.Level.SMALL).select_related("parent")
        found = [c for c in small if name in (str(c.id), c.path, c.name)]
        if len(found) != 1:
            raise CommandError(f"{'No' if not found else 'More than one'} small category {name!r}.")
        return found[0].id
