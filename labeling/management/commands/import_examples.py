from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError
from django.db import transaction

from core.errors import ApplicationError
from labeling.management.base import DataCommand
from labeling.models import Dataset
from labeling.services.imports import dataset_create_from_file, import_apply, import_preview

ROW_ERRORS_SHOWN = 50


class Command(DataCommand):
    help = "Preview (and with --apply, apply) a CSV/TSV of labelled examples. Exits 1 when rows are rejected."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--dataset", required=True)
        parser.add_argument("--encoding", default="", help="utf-8, utf-8-sig or cp949 (default: detect)")
        parser.add_argument("--delimiter", default="", choices=["", "comma", "tab"])
        parser.add_argument("--apply", action="store_true", help="write the accepted rows as one changeset")
        parser.add_argument(
            "--skip-invalid", action="store_true", help="apply the valid rows of a file with errors"
        )
        parser.add_argument("--user", help="username recorded in history")
        parser.add_argument(
            "--create",
            action="store_true",
            help="create a missing dataset, its taxonomy taken from the file's 'large/small' categories",
        )

    def handle(
        self, *args, file: Path, dataset, encoding, delimiter, apply, skip_invalid, user, create, **options
    ):
        if not file.is_file():
            raise CommandError(f"No file {file}.")
        author = get_user_model().objects.filter(username=user).first() if user else None
        if user and author is None:
            raise CommandError(f"No user named {user!r}.")
        delimiter = {"comma": ",", "tab": "\t"}.get(delimiter, "")
        # the file is read in chunks of rows, a pass at a time (bounded memory whatever its size)
        with (
            file.open("rb") as data,
            transaction.atomic(),
        ):  # without --apply everything, a created dataset too, is rolled back
            target = self._dataset(
                dataset, create, data=data, user=author, encoding=encoding, delimiter=delimiter
            )
            preview = import_preview(dataset=target, data=data, encoding=encoding, delimiter=delimiter)
            self._print(preview)
            if preview.file_errors:
                raise CommandError("Nothing imported: " + "; ".join(preview.file_errors))
            if apply:
                self._apply(target, data, author, file.name, encoding, delimiter, skip_invalid)
            else:
                transaction.set_rollback(True)
        if preview.errors:
            raise CommandError(f"{preview.errors} rows rejected" + ("" if apply else "; nothing changed"))

    def _dataset(self, name: str, create: bool, **file) -> Dataset:
        target = Dataset.objects.filter(name=name).first()
        if target is None and not create:
            raise CommandError(f"No dataset named {name!r} (add --create to create it from the file).")
        if target is None:
            try:
                target = dataset_create_from_file(name=name, **file)
            except ApplicationError as error:
                raise CommandError(str(error)) from error
            self.stdout.write(f"dataset {name}: created with {target.taxonomy.categories.count()} categories")
        return target

    def _apply(self, target, data, author, file_name, encoding, delimiter, skip_invalid) -> None:
        try:
            changeset = import_apply(
                dataset=target,
                data=data,
                user=author,
                file_name=file_name,
                encoding=encoding,
                delimiter=delimiter,
                skip_invalid=skip_invalid,
            )
        except ApplicationError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"applied as changeset #{changeset.id}: {changeset.added} added, "
            f"{changeset.relabelled} relabelled, {changeset.restored} restored"
        )

    def _print(self, preview) -> None:
        self.stdout.write(
            f"encoding {preview.encoding}, delimiter {'tab' if preview.delimiter == chr(9) else 'comma'}"
        )
        self.stdout.write(
            f"new {preview.new}\tchanged {preview.changed}\tunchanged {preview.unchanged}\t"
            f"rejected {preview.errors}"
        )
        for row in preview.error_rows[:ROW_ERRORS_SHOWN]:
            self.stdout.write(f"line {row['line']}\t{row['external_id']}\t{row['error']}")
        if preview.errors > ROW_ERRORS_SHOWN:
            self.stdout.write(f"... and {preview.errors - ROW_ERRORS_SHOWN} more rejected rows")
        for note in preview.notes:
            self.stdout.write(f"note: {note}")
