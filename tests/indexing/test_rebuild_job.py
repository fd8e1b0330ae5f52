"""A rebuild is a core Job: started from the status page (admins) or `search_index rebuild`, its progress on
the job page while it runs, held against the reaper, resumable after a crash."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import DEFAULT_DB_ALIAS, connections
from django.urls import reverse

from core import roles
from core.jobs import job_record, job_run
from core.models import Job
from core.pauses import pausing
from core.reaping import jobs_reap_orphaned
from indexing.models import IndexState
from tests.factories import ExampleFactory, user_with_role
from tests.indexing.conftest import assert_index_equals_database, drain

KIND = "index_rebuild"


def _contents(search, count: int = 30) -> None:
    for n in range(count):
        ExampleFactory(content__title=f"재색인 작업 {n}", content__body="")
    drain(search)


@pytest.mark.django_db
def test_the_status_page_starts_one_rebuild_job_and_links_it(search, client):
    client.force_login(user_with_role(roles.ADMIN))
    answer = client.post(reverse("indexing:action"), {"action": "rebuild", "index": "contents"})
    job = Job.objects.get(kind=KIND)
    assert answer.status_code == 302 and answer.url == reverse("core:job", args=[job.id])
    assert job.params == {"index": "contents", "resume": True} and job.status == Job.Status.QUEUED
    client.post(reverse("indexing:action"), {"action": "rebuild", "index": "contents"})
    assert Job.objects.filter(kind=KIND).count() == 1  # the one queued, not a second
    page = client.get(reverse("indexing:status")).content.decode()
    assert f'href="{reverse("core:job", args=[job.id])}"' in page
    client.force_login(user_with_role(roles.MANAGER))
    assert client.post(reverse("indexing:action"), {"action": "rebuild"}).status_code == 403


def _read_job(other, job_id: int) -> tuple[float, str]:
    with other.cursor() as cursor:
        cursor.execute("SELECT progress, stage FROM core_job WHERE id = %s", [job_id])
        return cursor.fetchone()


@pytest.mark.django_db(transaction=True)
def test_progress_shows_while_it_runs_and_the_reaper_leaves_it_alone(search, client):
    _contents(search)
    job = job_record(kind=KIND, dataset=None, params={"index": "contents", "chunk": 10}, user=None)
    other, seen = connections.create_connection(DEFAULT_DB_ALIAS), []

    def look() -> None:  # after each chunk: what a page polling the job reads, and the reaper's verdict
        seen.append((*_read_job(other, job.id), jobs_reap_orphaned(grace=timedelta(0))))

    try:
        with pausing("rebuild-chunk-done", look):
            job_run(job.id)
    finally:
        other.close()
    assert [(round(p, 2), stage, reaped) for p, stage, reaped in seen] == [
        (0.33, "contents: 10 / 30 documents", []),
        (0.65, "contents: 20 / 30 documents", []),
        (0.98, "contents: 30 / 30 documents", []),
    ]
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED and job.progress == 1.0 and job.result["documents"] == 30
    client.force_login(user_with_role(roles.ADMIN))
    poll = client.get(reverse("core:job", args=[job.id]), {"format": "json"}).json()
    assert poll["status"] == "succeeded" and poll["result"]["documents"] == 30
    assert_index_equals_database(search)


@pytest.mark.django_db
def test_a_crashed_rebuild_job_resumes_from_the_command(search, capsys):
    _contents(search)
    job = job_record(kind=KIND, dataset=None, params={"index": "contents", "chunk": 10}, user=None)
    chunks = []

    def crash_after_two() -> None:
        chunks.append(1)
        if len(chunks) == 2:
            raise RuntimeError("worker lost")

    with pausing("rebuild-chunk-done", crash_after_two), pytest.raises(RuntimeError):
        job_run(job.id)
    job.refresh_from_db()
    state = IndexState.objects.get(name="contents")
    assert job.status == Job.Status.FAILED and "worker lost" in job.message
    assert state.building and state.rebuild_done == 20
    building = state.building
    call_command("search_index", "rebuild", "--resume", "--index", "contents")
    out = capsys.readouterr().out
    assert "contents: rebuild job #" in out and f"-> {building}" in out
    resumed = Job.objects.filter(kind=KIND).exclude(pk=job.pk).get()
    assert resumed.status == Job.Status.SUCCEEDED and resumed.result["index"] == building
    assert search.engine_get().indices_of(search.search_alias("contents")) == [building]
    assert_index_equals_database(search)


@pytest.mark.django_db
def test_the_reaper_says_a_lost_rebuild_keeps_what_it_finished():
    from django.utils import timezone

    job = Job.objects.create(
        kind=KIND, params={"index": "contents"}, status=Job.Status.RUNNING, started_at=timezone.now()
    )
    assert jobs_reap_orphaned(grace=timedelta(0)) == [job.id]
    job.refresh_from_db()
    assert job.status == Job.Status.FAILED and "goes on from there" in job.message
