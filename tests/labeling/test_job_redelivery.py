"""Jobs that survive redelivery: a real Celery worker is SIGKILLed in the middle of its jobs (pause points
hold them there), then each task is delivered again (run here, as a new worker would). Nothing is
half-applied, and nothing is applied twice."""

import os
import signal
import time

import pytest

from core import roles
from core.jobs import job_run
from core.models import Job
from labeling.models import Changeset, DatasetVersion, Example, ExampleImport
from labeling.selectors.versions import version_state, working_state
from labeling.services import dataset_commit, example_label, examples_relabel_bulk
from tests.conftest import start_worker
from tests.factories import ContentFactory, DatasetFactory, SmallCategoryFactory, user_with_role
from tests.labeling.test_import_flow import demo_petitions_csv, petitions_dataset

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
QUEUE = "redelivery-tests"  # a queue of its own: the session's shared worker must not take these jobs
PAUSES = "import-contents-written,job-work-done"  # mid-import; after a job's work, before its result


def run_until_killed(jobs: list[Job], worker_env: dict, folder) -> None:
    """One worker runs the jobs (one process each) up to their pause points; then it is SIGKILLed whole."""
    from core.tasks import job_run_task

    mark = folder / "paused"
    env = worker_env | {"BUNRYU_PAUSE_AT": PAUSES, "BUNRYU_PAUSE_MARK": str(mark)}
    process, _ = start_worker(env, folder, queues=QUEUE, concurrency=len(jobs))
    try:
        for job in jobs:
            job_run_task.apply_async((job.id,), queue=QUEUE)
        deadline = time.monotonic() + 60
        while not mark.exists() or len(mark.read_text().split()) < len(jobs):
            assert time.monotonic() < deadline, "the jobs never all reached their pause points"
            time.sleep(0.1)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    _wait_for_dead_transactions()


def _wait_for_dead_transactions() -> None:
    """The killed processes' database sessions end once PostgreSQL sees their sockets close."""
    from django.db import connection

    deadline = time.monotonic() + 20
    with connection.cursor() as cursor:
        while True:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND state LIKE 'idle in transaction%%' AND pid <> pg_backend_pid()"
            )
            if not cursor.fetchone()[0]:
                return
            assert time.monotonic() < deadline, "the killed worker's transactions are still open"
            time.sleep(0.1)


def redeliver(job: Job) -> Job:
    job_run(job.id)
    job.refresh_from_db()
    return job


def relabelled(user):
    """Three examples in a (version 1), then all moved to b by a bulk relabel (one changeset)."""
    dataset = DatasetFactory()
    a, b = SmallCategoryFactory.create_batch(2, parent__taxonomy=dataset.taxonomy)
    for content in ContentFactory.create_batch(3):
        example_label(dataset=dataset, content=content, category=a, user=user)
    v1 = dataset_commit(dataset=dataset, user=user, message="in a")
    ids = list(Example.objects.filter(dataset=dataset).values_list("id", flat=True))
    bulk = examples_relabel_bulk(dataset=dataset, example_ids=ids, category=b, user=user, reason="to b")
    return dataset, v1, bulk


def test_jobs_killed_midway_are_applied_once_on_redelivery(worker_env, tmp_path):
    manager = user_with_role(roles.MANAGER, username="manager")
    imported = petitions_dataset()
    upload = ExampleImport.objects.create(
        dataset=imported, file_name="p.csv", data=demo_petitions_csv(40), uploaded_by=manager
    )
    (rolled, v1, _), (reverted, r1, bulk) = relabelled(manager), relabelled(manager)
    jobs = [
        Job.objects.create(
            kind="import_apply", dataset=imported, params={"import": upload.id}, created_by=manager
        ),
        Job.objects.create(kind="rollback", dataset=rolled, params={"to_version": 1}, created_by=manager),
        Job.objects.create(
            kind="revert", dataset=reverted, params={"changeset": bulk.id}, created_by=manager
        ),
    ]
    before = (Changeset.objects.count(), DatasetVersion.objects.count())
    run_until_killed(jobs, worker_env, tmp_path)

    assert {job.status for job in Job.objects.all()} == {Job.Status.RUNNING}
    assert not Example.objects.filter(dataset=imported).exists()  # nothing half-applied
    assert (Changeset.objects.count(), DatasetVersion.objects.count()) == before
    for job in jobs:
        assert redeliver(job).status == Job.Status.SUCCEEDED, job.message
        assert redeliver(job).status == Job.Status.SUCCEEDED  # a second redelivery finds it done
    assert Example.objects.filter(dataset=imported).count() == 40
    assert Changeset.objects.get(dataset=imported).id == jobs[0].result["changeset"]
    for dataset, version in ((rolled, v1), (reverted, r1)):
        undo = Changeset.objects.filter(dataset=dataset).latest("id")
        assert undo.relabelled == 3 and Changeset.objects.filter(dataset=dataset).count() == 2  # applied once
        assert {c: s[:2] for c, s in working_state(dataset).items()} == {
            c: s[:2] for c, s in version_state(version).items()
        }
