import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core.errors import ApplicationError
from labeling.models import Dataset
from training.services.bulk import (
    MAX_K,
    bulk_classify,
    bulk_input_from_contents,
    bulk_input_from_file,
    default_workers,
)


class Command(BaseCommand):
    help = (
        "Classify a CSV file (the import's columns; category optional) or stored contents with a dataset's "
        "serving ensemble, on this machine's cores (threads); writes external_id,predicted_category,score,"
        "second_category,second_score (+ given_category) and reports accuracy when categories are given."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dataset", required=True)
        parser.add_argument("file", nargs="?", type=Path, help="CSV/TSV to classify")
        parser.add_argument("--contents", action="store_true", help="classify stored contents instead")
        parser.add_argument(
            "--source", action="append", default=[], help="with --contents: only this source (repeatable)"
        )
        parser.add_argument("--output", type=Path, help="CSV to write (default: standard output)")
        parser.add_argument("--k", type=int, default=2, help=f"categories per text, 1-{MAX_K} (2)")
        parser.add_argument(
            "--workers",
            "--processes",
            dest="workers",
            type=int,
            default=0,
            help=f"worker threads (default: the cores, {default_workers()}); --processes is the old name",
        )
        parser.add_argument("--json", action="store_true", help="print the summary as one JSON object")

    def handle(self, *args, **opts):
        dataset = Dataset.objects.filter(name=opts["dataset"]).first()
        if dataset is None:
            raise CommandError(f"No dataset named {opts['dataset']!r}.")
        if bool(opts["file"]) == opts["contents"]:
            raise CommandError("Give either a FILE or --contents.")
        if opts["source"] and not opts["contents"]:
            raise CommandError("--source goes with --contents.")
        if opts["workers"] < 0:
            raise CommandError("--workers must be 1 or more (0 = one per core).")
        try:
            if opts["contents"]:
                bulk = bulk_input_from_contents(dataset, opts["source"])
            else:
                try:
                    data = opts["file"].read_bytes()
                except OSError as error:
                    raise CommandError(f"Cannot read {opts['file']}: {error.strerror}.") from None
                bulk = bulk_input_from_file(dataset, data)
            result = bulk_classify(
                dataset=dataset,
                bulk=bulk,
                k=opts["k"],
                workers=opts["workers"] or None,
                progress=lambda done, total: self.stderr.write(f"\r{done}/{total} chunks", ending=""),
            )
        except ApplicationError as error:
            raise CommandError(str(error)) from None
        self.stderr.write("")
        if opts["output"]:
            opts["output"].write_text(result.csv_text(), encoding="utf-8")
        else:
            sys.stdout.write(result.csv_text())
        report = self.stdout if opts["output"] else self.stderr  # stdout holds the CSV otherwise
        if opts["json"]:
            report.write(json.dumps(result.summary(), ensure_ascii=False))
            return
        report.write(
            f"{result.rows} texts in {result.seconds:.1f} s ({result.texts_per_second:.0f}/s, "
            f"{result.workers} workers (threads))"
        )
        if result.accuracy is not None:
            report.write(f"accuracy {result.accuracy:.4f} on {result.compared} texts with a category")
            for given, predicted, count in result.confusions:
                report.write(f"  {count:6d}  {given} -> {predicted}")
