import sys

from django.core.management.base import CommandError

from labeling.management.base import DataCommand
from labeling.models import Dataset, DatasetVersion
from labeling.selectors.export import FORMATS, export_lines


class Command(DataCommand):
    help = "Write a dataset's examples (working state or --version N) to standard output."

    def create_parser(self, prog_name, subcommand, **kwargs):
        # Our --version names a dataset version and replaces Django's "print the Django version".
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser):
        parser.add_argument("--dataset", required=True)
        parser.add_argument("--version", type=int, dest="number")
        parser.add_argument("--format", choices=sorted(FORMATS), default="csv", dest="fmt")

    def handle(self, *args, dataset, number, fmt, **options):
        found = Dataset.objects.filter(name=dataset).first()
        if found is None:
            raise CommandError(f"No dataset named {dataset!r}.")
        version = None
        if number is not None:
            version = DatasetVersion.objects.filter(dataset=found, number=number).first()
            if version is None:
                raise CommandError(f"{found.name} has no version {number}.")
        for chunk in export_lines(dataset=found, fmt=fmt, version=version):
            sys.stdout.write(chunk)
