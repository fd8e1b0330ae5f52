from django.core.management.base import BaseCommand

from labeling.services.words import content_words_index


class Command(BaseCommand):
    help = "Index the words of every pending content body for body search (PostgreSQL), what the job does."

    def handle(self, *args, **options):
        self.stdout.write(f"{content_words_index():,} contents indexed")
