import json
import sys
import time

from django.core.management.base import BaseCommand, CommandError

from core.commands import author_named
from core.errors import ApplicationError
from labeling.models import Dataset, DatasetVersion
from training.algorithms import ALGORITHMS, DEFAULT_ALGORITHM, ParameterError, parse_assignments
from training.models import TrainingRun
from training.selectors import dataset_champion_run, run_summary
from training.services.runs import run_execute, run_start


class Command(BaseCommand):
    help = "Train a model on a dataset (in a worker, or here with --inline); exit status 1 if the run fails."

    def create_parser(self, prog_name, subcommand, **kwargs):
        # Our --version names a dataset version and replaces Django's "print the Django version".
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser):
        parser.add_argument("--dataset", required=True)
        parser.add_argument("--algorithm", default=DEFAULT_ALGORITHM, choices=sorted(ALGORITHMS))
        parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE")
        parser.add_argument(
            "--folds", type=int, default=5, help="k of the k-fold out-of-fold predictions (0 = none)"
        )
        parser.add_argument("--holdout", type=float, default=0.2, help="share of each category held out")
        parser.add_argument(
            "--no-refit",
            action="store_true",
            help="serve the model fitted without the held-out rows (default: refit on every row)",
        )
        parser.add_argument(
            "--version", type=int, dest="number", help="dataset version (default: the working state)"
        )
        parser.add_argument("--inline", action="store_true", help="train in this process, not in a worker")
        parser.add_argument("--json", action="store_true", help="print the finished run as one JSON object")
        parser.add_argument("--user", help="username recorded as the run's author")
        parser.add_argument("--no-wait", action="store_true", help="queue the run and return at once")
        parser.add_argument(
            "--unless-champion",
            action="store_true",
            help="do nothing when the dataset already has a champion",
        )
        parser.add_argument("--timeout", type=float, default=4 * 3600, help="seconds to wait for the worker")

    def handle(self, *args, **opts):
        dataset = Dataset.objects.filter(name=opts["dataset"]).first()
        if dataset is None:
            raise CommandError(f"No dataset named {opts['dataset']!r}.")
        user = author_named(opts["user"])
        if opts["unless_champion"] and dataset_champion_run(dataset) is not None:
            self._log(f"{dataset.name} has a champion; nothing to do.")
            return
        try:
            version = (
                DatasetVersion.objects.get(dataset=dataset, number=opts["number"]) if opts["number"] else None
            )
            run = run_start(
                dataset=dataset,
                user=user,
                algorithm=opts["algorithm"],
                params=parse_assignments(opts["param"]),
                folds=opts["folds"],
                holdout_share=opts["holdout"],
                refit_all=not opts["no_refit"],
                version=version,
                source=TrainingRun.Source.COMMAND,
                enqueue=not opts["inline"],
            )
        except DatasetVersion.DoesNotExist:
            raise CommandError(f"Dataset {dataset.name} has no version {opts['number']}.") from None
        except (ApplicationError, ParameterError) as error:
            raise CommandError(str(error)) from None
        self._log(f"run #{run.id}: {run.algorithm} on {dataset.name} version {run.version.number}")
        if opts["inline"]:
            run_execute(run.id)
        elif opts["no_wait"]:
            self.stdout.write(f"run #{run.id} queued")
            return
        else:
            self._follow(run, opts["timeout"])
        run.refresh_from_db()
        self._report(run, as_json=opts["json"])
        if run.status != TrainingRun.Status.SUCCEEDED:
            raise CommandError(f"run #{run.id} {run.status}: {run.message}")

    def _log(self, line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    def _follow(self, run: TrainingRun, timeout: float) -> None:
        deadline, shown = time.monotonic() + timeout, None
        while time.monotonic() < deadline:
            run.refresh_from_db()
            if (run.status, run.stage) != shown:
                shown = (run.status, run.stage)
                self._log(f"  {run.status:9} {run.stage} {run.progress:.0%}")
            if run.is_finished:
                return
            time.sleep(1)
        raise CommandError(
            f"run #{run.id} still {run.status} after {timeout:.0f} s (it goes on in the worker)."
        )

    def _report(self, run: TrainingRun, *, as_json: bool) -> None:
        summary = run_summary(run)
        if as_json:
            self.stdout.write(json.dumps(summary, ensure_ascii=False))
            return
        if run.status != TrainingRun.Status.SUCCEEDED:
            return
        self.stdout.write(
            f"accuracy {run.accuracy:.4f}  macro-F1 {run.macro_f1:.4f}  train {run.train_seconds:.1f} s  "
            f"model {run.model_bytes / 1e6:.1f} MB  "
            f"latency p50 {run.latency_p50_ms:.2f} ms p99 {run.latency_p99_ms:.2f} ms"
        )
        for verdict in run.verdicts:
            mark = "pass" if verdict["passed"] else "FAIL"
            self.stdout.write(
                f"  {mark}  {verdict['requirement']}: {verdict['value']} (needs {verdict['threshold']})"
            )
        self.stdout.write("champion: " + ("yes" if summary["champion"] else "no"))
