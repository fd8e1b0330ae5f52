import argparse
from functools import partial

from django.core.management.base import CommandError, CommandParser
from django.utils.dateparse import parse_datetime
from django.utils.timezone import is_naive, localtime, make_aware

from core import roles
from core.commands import author_named
from core.errors import ApplicationError
from labeling.management.base import DataCommand
from labeling.models import Dataset, DatasetVersion
from labeling.selectors.versions import dataset_dirty, diff_by_category, rollback_preview, version_diff
from labeling.services.versions import dataset_commit, version_rollback


class Command(DataCommand):
    help = "Dataset versions: list | commit -m MESSAGE | diff A B | dirty [--since N] | rollback --to N --yes"

    def add_arguments(self, parser):
        parser.add_argument("--dataset", required=True)
        parser.add_argument("--user", help="username recorded in history (required for rollback)")
        # --user is accepted after the action too: `versions --dataset D rollback --to 3 --user ana --yes`
        common = argparse.ArgumentParser(add_help=False)
        common.add_argument("--user", default=argparse.SUPPRESS)
        actions = parser.add_subparsers(dest="action", required=True, parser_class=CommandParser)
        add = partial(actions.add_parser, parents=[common])
        add("list")
        commit = add("commit")
        commit.add_argument("-m", "--message", required=True)
        diff = add("diff")
        diff.add_argument("older", type=int)
        diff.add_argument("newer", type=int)
        dirty = add("dirty")
        dirty.add_argument("--since", type=int)
        rollback = add("rollback")
        target = rollback.add_mutually_exclusive_group(required=True)
        target.add_argument("--to", type=int, dest="to_version")
        target.add_argument("--to-time", dest="to_time")
        rollback.add_argument("--reason", default="")
        rollback.add_argument("--yes", action="store_true", help="apply; without it only the diff is shown")

    def handle(self, *args, dataset, user, action, **options):
        self.dataset = Dataset.objects.filter(name=dataset).first()
        if self.dataset is None:
            raise CommandError(f"No dataset named {dataset!r}.")
        self.user = author_named(user)
        try:
            getattr(self, f"do_{action}")(**options)
        except ApplicationError as error:
            raise CommandError(str(error)) from error

    def _version(self, number: int) -> DatasetVersion:
        version = DatasetVersion.objects.filter(dataset=self.dataset, number=number).first()
        if version is None:
            raise CommandError(f"{self.dataset.name} has no version {number}.")
        return version

    def _print_diff(self, diff) -> None:
        for category, delta in diff_by_category(diff, self.dataset):
            self.stdout.write(
                f"{category.path}\t{delta.before} -> {delta.after}\tadded {delta.added}\t"
                f"removed {delta.removed}\tin {delta.moved_in}\tout {delta.moved_out}\t"
                f"status {delta.status}\ttext {delta.text}"
            )
        self.stdout.write(f"{len(diff)} changes")

    def do_list(self, **options):
        for v in DatasetVersion.objects.filter(dataset=self.dataset).select_related("author"):
            author = v.author.get_username() if v.author else "-"
            self.stdout.write(
                f"{v.number}\t{localtime(v.created_at):%Y-%m-%d %H:%M}\t{author}\t{v.kind}\t"
                f"{v.example_count} examples\t{v.message}"
            )

    def do_commit(self, *, message, **options):
        version = dataset_commit(dataset=self.dataset, user=self.user, message=message)
        self.stdout.write(
            f"{version.number}\tcommitted: {version.entries_written} changes since the previous version"
        )

    def do_diff(self, *, older, newer, **options):
        self._print_diff(version_diff(self._version(older), self._version(newer)))

    def do_dirty(self, *, since, **options):
        check = dataset_dirty(self.dataset, since=self._version(since) if since else None)
        self.stdout.write(f"since v{check.since.number}" if check.since else "no version yet")
        self._print_diff(check.diff)

    def do_rollback(self, *, to_version, to_time, reason, yes, **options):
        if self.user is None or not roles.has_role(self.user, roles.ADMIN):
            raise CommandError("Rollback needs --user naming an admin.")
        version = self._version(to_version) if to_version is not None else None
        moment = self._moment(to_time) if to_time else None
        self._print_diff(rollback_preview(self.dataset, version=version, moment=moment))
        if not yes:
            raise CommandError("Nothing changed: add --yes to roll back.")
        changeset = version_rollback(
            dataset=self.dataset, user=self.user, reason=reason, to_version=version, to_time=moment
        )
        self.stdout.write(
            f"rolled back as changeset #{changeset.id}: {changeset.relabelled} relabelled, "
            f"{changeset.status_changed} status changed, {changeset.removed} removed, "
            f"{changeset.restored + changeset.added} restored"
        )

    def _moment(self, text: str):
        moment = parse_datetime(text)
        if moment is None:
            raise CommandError(f"{text!r} is not an ISO 8601 date and time.")
        return make_aware(moment) if is_naive(moment) else moment
