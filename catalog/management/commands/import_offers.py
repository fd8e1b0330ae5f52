from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from catalog.errors import CatalogError
from catalog.services.offers import offers_apply, offers_preview
from core.commands import author_named
from labeling.models import Dataset

ROW_ERRORS_SHOWN = 50


class Command(BaseCommand):
    help = "Preview (and with --apply, apply) a CSV/TSV/JSONL of offers. Exits 1 when rows are refused."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--encoding", default="", help="utf-8, utf-8-sig or cp949 (default: detect)")
        parser.add_argument("--apply", action="store_true", help="write the offers (all or nothing)")
        parser.add_argument("--user", help="username recorded in history")
        parser.add_argument(
            "--classify", metavar="DATASET", help="with --apply: offers without a category get the category "
            "this dataset's champion predicts (in this process, in the same all-or-nothing transaction)",
        )  # fmt: skip

    def handle(self, *args, file: Path, encoding: str, apply: bool, user: str | None, classify, **options):
        if not file.is_file():
            raise CommandError(f"No file {file}.")
        dataset = Dataset.objects.filter(name=classify).first() if classify else None
        if classify and dataset is None:
            raise CommandError(f"No dataset named {classify!r}.")
        author = author_named(user)
        data = file.read_bytes()
        preview = offers_preview(data=data, file_name=file.name, encoding=encoding or None)
        parsed = preview.parsed
        self.stdout.write(f"encoding {parsed.encoding or '-'}, {len(parsed.rows)} rows")
        self.stdout.write(
            f"new {preview.new}\tchanged {preview.changed}\tunchanged {preview.unchanged}\t"
            f"refused {len(parsed.errors)}\tnew shops {len(preview.new_shops)}"
        )
        for row in parsed.errors[:ROW_ERRORS_SHOWN]:
            self.stdout.write(f"line {row.line}\t{row.shop}\t{row.external_id}\t{row.error}")
        if len(parsed.errors) > ROW_ERRORS_SHOWN:
            self.stdout.write(f"... and {len(parsed.errors) - ROW_ERRORS_SHOWN} more refused rows")
        if parsed.file_errors:
            raise CommandError("Nothing imported: " + "; ".join(parsed.file_errors))
        if parsed.errors:
            raise CommandError(f"{len(parsed.errors)} rows refused; nothing changed")
        if apply:
            try:
                result = offers_apply(
                    data=data,
                    user=author,
                    file_name=file.name,
                    encoding=encoding or None,
                    classify_with=dataset,
                    checked=preview.packed(),  # the rows just checked, unless the categories changed since
                )
            except CatalogError as error:
                raise CommandError(str(error)) from error
            classified = f", {result['classified']} classified" if "classified" in result else ""
            self.stdout.write(f"applied: {result['new']} new, {result['changed']} changed{classified}")
