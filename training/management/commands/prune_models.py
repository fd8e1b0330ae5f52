from django.core.management.base import BaseCommand

from training.services.artifacts import models_prune


class Command(BaseCommand):
    help = "Delete the model files of old runs that never were champion (each dataset keeps its newest ones)."

    def add_arguments(self, parser):
        parser.add_argument("--keep", type=int, default=3, help="newest runs kept per dataset (default 3)")
        parser.add_argument("--dry-run", action="store_true", help="list what would be deleted")

    def handle(self, *args, keep: int, dry_run: bool, **options):
        pruned = models_prune(keep_latest=keep, dry_run=dry_run)
        verb = "would delete" if dry_run else "deleted"
        for run in pruned:
            self.stdout.write(f"{verb} {run.artifact_path} (run #{run.id}, {run.dataset})")
        self.stdout.write(f"{len(pruned)} model folders {verb}.")
