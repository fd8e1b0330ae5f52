"""manage.py search_index create|status|rebuild [--resume]|sync [--since ...]|verify [--repair], each
for every index or one (--index contents|catalogs)."""

import contextlib
import json
import threading
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from core.commands import author_named
from core.jobs import job_run
from core.models import Job
from indexing import services
from indexing.documents import DEFINITIONS
from indexing.engine import EngineError
from indexing.monitoring import indexing_status
from indexing.services.jobs import rebuild_job_start


def _since(value: str):
    """'2026-12-06T10:00', or a duration back from now: '15m', '2h', '1d'."""
    units = {"m": "minutes", "h": "hours", "d": "days"}
    if value[-1:] in units and value[:-1].isdigit():
        return timezone.now() - timedelta(**{units[value[-1]]: int(value[:-1])})
    moment = parse_datetime(value)
    if moment is None:
        raise CommandError(f"--since: {value!r} is neither a date-time (2026-12-06T10:00) nor 15m / 2h / 1d")
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)


@contextlib.contextmanager
def _printing_progress(out, job_id: int, every: float = 1.0):
    """Print the job's stage while it runs here (read by a thread of its own, on its own connection)."""
    done = threading.Event()

    def watch() -> None:
        try:
            while not done.wait(every):
                stage = Job.objects.filter(pk=job_id).values_list("stage", flat=True).first()
                if stage:
                    out.write(f"\r{stage}", ending="")
        finally:
            connection.close()

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        yield
    finally:
        done.set()
        watcher.join()


class Command(BaseCommand):
    help = "Create, fill, sync and check the search index (SEARCH_URL)."

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="command", required=True)
        create = commands.add_parser("create", help="create the indexes (empty) behind their aliases")
        status = commands.add_parser("status", help="lag, pending events, checkpoints, drift, as JSON")
        rebuild = commands.add_parser("rebuild", help="build a new index newest-first, then swap the alias")
        rebuild.add_argument("--resume", action="store_true", help="go on from an interrupted rebuild")
        rebuild.add_argument(
            "--background", action="store_true", help="hand the job to a worker instead of running it here"
        )
        rebuild.add_argument("--user", help="who the job is recorded for (a username)")
        sync = commands.add_parser("sync", help="drain the outbox, or re-index what changed since a moment")
        sync.add_argument("--since", help="2026-12-06T10:00, or 15m / 2h / 1d back from now")
        verify = commands.add_parser(
            "verify", help="compare the index with the database document by document"
        )
        verify.add_argument("--repair", action="store_true", help="re-index the documents that differ")
        for command in (create, status, rebuild, sync, verify):
            command.add_argument(
                "--index",
                choices=sorted(DEFINITIONS),
                help="one index (default: every index; every one created, for status, sync and verify)",
            )

    def handle(self, *args, command, index=None, **options):
        if not services.indexing_enabled():
            raise CommandError("SEARCH_URL is not set (e.g. opensearch://127.0.0.1:9200): there is no engine")
        if index:
            names = [index]
        elif command in ("create", "rebuild"):
            names = sorted(DEFINITIONS)
        else:
            names = services.created_indexes()
        try:
            for name in names:
                getattr(self, f"_{command}")(name=name, **options)
        except EngineError as error:
            raise CommandError(f"the search engine refused or is unreachable: {error}") from error

    def _create(self, *, name, **options):
        state = services.index_create(name=name)
        self.stdout.write(f"{services.search_alias(name)} -> {state.live}")

    def _status(self, *, name, **options):
        self.stdout.write(json.dumps(indexing_status(name), indent=2, default=str, ensure_ascii=False))

    def _rebuild(self, *, name, resume, background, user, **options):
        """A rebuild job (its page: /jobs/<id>/) run here with its progress printed, or by a worker. A job
        of this index already queued, or left running by a process that died, is the one run here."""
        job = rebuild_job_start(name=name, user=author_named(user), resume=resume, queue=background)
        where = reverse("core:job", args=[job.id])
        self.stdout.write(f"{name}: rebuild job #{job.id}, its progress on {where}")
        if background:
            return
        with _printing_progress(self.stdout, job.id):
            job_run(job.id)
        job.refresh_from_db()
        if job.status == Job.Status.RUNNING:
            self.stdout.write(f"{name}: job #{job.id} is running in another process")
        elif job.status != Job.Status.SUCCEEDED:
            raise CommandError(f"{name}: rebuild job #{job.id} {job.status}: {job.message}")
        else:
            documents, seconds, index = (job.result[k] for k in ("documents", "seconds", "index"))
            self.stdout.write(f"\n{name}: {documents:,} documents in {seconds:.1f} s -> {index}")

    def _sync(self, *, name, since, **options):
        if since:
            result = services.sync_since(name=name, since=_since(since))
            self.stdout.write(
                f"{name}: {result.written:,} written, {result.stale:,} already newer, "
                f"{len(result.errors)} refused"
            )
        else:
            self.stdout.write(f"{name}: {services.outbox_drain(name=name):,} events drained")

    def _verify(self, *, name, repair, **options):
        off = services.index_compare(name=name)
        ids = sorted({pk for ids in off.values() for pk in ids})
        self.stdout.write(f"{name}: " + ", ".join(f"{kind}: {len(pks):,}" for kind, pks in off.items()))
        if ids and repair:
            result = services.documents_write(name=name, ids=ids)
            self.stdout.write(f"repaired: {result.written:,} written, {len(result.errors)} refused")
        elif ids:
            raise CommandError(f"{name}: {len(ids):,} documents differ from the database (run with --repair)")
