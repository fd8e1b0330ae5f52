import csv

from django.core.management.base import BaseCommand, CommandError

from labeling.models import Dataset
from training.models import TrainingRun
from training.selectors import dataset_champion_run
from training.selectors.verification import suspicious_predictions


class Command(BaseCommand):
    help = (
        "Write examples ranked by how likely their label is wrong (most suspicious first) as CSV: "
        "external_id,given_category,predicted_category,score (score = p(given) - p(best other), out of fold)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dataset", required=True)
        parser.add_argument("--run", type=int, help="a training run (default: the champion)")
        parser.add_argument("--limit", type=int, help="at most this many rows (default: every example)")

    def handle(self, *args, dataset: str, run: int | None, limit: int | None, **options):
        found = Dataset.objects.filter(name=dataset).first()
        if found is None:
            raise CommandError(f"No dataset named {dataset!r}.")
        chosen = (
            TrainingRun.objects.filter(pk=run, dataset=found).first() if run else dataset_champion_run(found)
        )
        if chosen is None:
            raise CommandError(
                f"No run #{run} of {dataset}." if run else f"{dataset} has no champion; name a --run."
            )
        if not chosen.out_of_fold.exists():
            raise CommandError(
                f"Run #{chosen.id} has no out-of-fold predictions (it trained with --folds 0)."
            )
        if limit is not None and limit < 1:
            raise CommandError("--limit must be at least 1.")
        rows = suspicious_predictions(chosen, only_doubted=False).select_related(
            "given__parent", "predicted__parent"
        )
        writer = csv.writer(self.stdout, lineterminator="\n")
        writer.writerow(["external_id", "given_category", "predicted_category", "score"])
        for row in rows[:limit] if limit else rows.iterator(chunk_size=2000):
            writer.writerow(
                [row.content.external_id, row.given.path, row.predicted.path, f"{row.label_quality:.6f}"]
            )
