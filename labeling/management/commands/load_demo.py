from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from labeling.management.base import DataCommand
from labeling.services.demo import demo_load


class Command(DataCommand):
    help = "Load the demo datasets (Korean petitions, 20 Newsgroups). Running it twice changes nothing."

    def add_arguments(self, parser):
        parser.add_argument("--user", help="username recorded as the author of the demo labels")

    def handle(self, *args, user=None, **options):
        author = None
        if user:
            author = get_user_model().objects.filter(username=user).first()
            if author is None:
                raise CommandError(f"No user named {user!r}.")
        for result in demo_load(user=author):
            self.stdout.write(
                f"{result.dataset}: {result.categories_created} categories, "
                f"{result.contents_created} contents, {result.examples_created} examples created"
            )
