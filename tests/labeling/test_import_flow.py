"""Imports through the pages and the real worker: a manager in Chromium, and a 5,000-row file as a job
(the 100,000-row file is bench/import_job.py)."""

import gzip
import itertools
import json

import pytest
from django.test import Client
from django.urls import reverse

from core import roles
from core.jobs import job_enqueue
from core.models import Job
from labeling.models import Changeset, Example, ExampleImport
from labeling.services.demo import DEMO_DIR
from tests.conftest import wait_until
from tests.factories import DatasetFactory, LargeCategoryFactory, SmallCategoryFactory, user_with_role

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
PASSWORD = "correct horse battery staple"


def petitions_dataset(name: str = "petitions"):
    dataset = DatasetFactory(name=name, min_examples_per_category=2)
    society = LargeCategoryFactory(taxonomy=dataset.taxonomy, name="사회/복지")
    for name in ("육아/교육", "보건복지"):
        SmallCategoryFactory(parent=society, name=name)
    return dataset


@pytest.mark.browser
def test_manager_imports_a_cp949_file_with_a_bad_row(page, live_worker, tmp_path):
    user_with_role(roles.MANAGER, username="manager-lee", password=PASSWORD)
    dataset = petitions_dataset()
    path = tmp_path / "엑셀.csv"
    path.write_bytes(
        "external_id,title,body,category\n"
        "p-1,어린이집 확충,보육 시설이 부족합니다,육아/교육\n"
        "p-2,병원비 지원,의료비가 비쌉니다,보건복지\n"
        "p-3,유치원 비리,감사를 요구합니다,육아/교육\n"
        "p-4,반려견 등록,동물 등록제,반려동물\n".encode("cp949")
    )

    page.goto("/login/")
    page.fill("input[name=username]", "manager-lee")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"/labeling/datasets/{dataset.id}/import/")
    page.set_input_files("input[name=file]", str(path))
    page.click("text=Upload and preview")
    page.wait_for_selector("[data-testid=import-summary]", timeout=60000)
    summary = page.locator("[data-testid=import-summary]").inner_text()
    assert "3 new" in summary and "1 rejected" in summary and "cp949" in summary
    assert "unknown category '반려동물'" in page.locator("[data-testid=error-rows]").inner_text()
    assert not Example.objects.exists()

    page.click("[data-testid=apply-import]")
    page.wait_for_selector("[data-testid=job-changeset]", timeout=60000)
    page.goto(f"/labeling/datasets/{dataset.id}/")
    assert page.locator("tr[data-category='사회/복지 › 육아/교육'] [data-testid=count]").inner_text() == "2"
    assert page.locator("tr[data-category='사회/복지 › 보건복지'] [data-testid=count]").inner_text() == "1"
    assert Changeset.objects.get().details["rejected"] == 1


@pytest.mark.browser
def test_a_job_that_ended_before_its_page_opened_goes_on_at_once(page):
    user_with_role(roles.MANAGER, username="manager-kim", password=PASSWORD)
    dataset = petitions_dataset()
    next_page = reverse("labeling:dataset", args=[dataset.id])
    job = Job.objects.create(kind="import", dataset=dataset, status="succeeded", result={"next": next_page})

    page.goto("/login/")
    page.fill("input[name=username]", "manager-kim")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.goto(reverse("core:job", args=[job.id]))
    page.wait_for_url(f"**{next_page}", timeout=15000)  # the poll would have; a finished page must too


def test_annotators_are_refused_the_import_pages():
    dataset = petitions_dataset()
    client = Client()
    client.force_login(user_with_role(roles.ANNOTATOR, username="annotator-park"))
    assert client.get(reverse("labeling:import_upload", args=[dataset.id])).status_code == 403
    assert client.post(reverse("labeling:import_upload", args=[dataset.id])).status_code == 403
    assert not ExampleImport.objects.exists()


def demo_petitions_csv(rows: int, prefix: str = "") -> bytes:
    """`rows` rows of real petition text (the demo file, cycled with a suffix on the id)."""
    with gzip.open(DEMO_DIR / "petitions.jsonl.gz", "rt", encoding="utf-8") as lines:
        records = [json.loads(line) for line in lines]
    out = ["external_id,title,body,category"]
    for n, record in zip(range(rows), itertools.cycle(records), strict=False):
        body = record["body"].replace('"', '""')
        category = "육아/교육" if n % 2 else "보건복지"
        title = record["title"].replace('"', "")
        out.append(f'{prefix}{record["external_id"]}-{n},"{title}","{body}",{category}')
    return ("\n".join(out) + "\n").encode("utf-8")


def test_a_5k_row_file_imports_as_a_job(live_worker):
    rows = 5_000
    manager = user_with_role(roles.MANAGER, username="manager-choi")
    dataset = petitions_dataset()
    upload = ExampleImport.objects.create(
        dataset=dataset, file_name="big.csv", data=demo_petitions_csv(rows), uploaded_by=manager
    )
    wait_for(job_enqueue_committed("import_preview", dataset, upload, manager))
    upload.refresh_from_db()
    assert (upload.preview["new"], upload.preview["errors"]) == (rows, 0)

    job = wait_for(job_enqueue_committed("import_apply", dataset, upload, manager))
    assert job.status == Job.Status.SUCCEEDED, job.message
    assert Example.objects.filter(dataset=dataset).count() == rows
    assert Example.history.filter(changeset_id=job.result["changeset"]).count() == rows


def job_enqueue_committed(kind, dataset, upload, user) -> Job:
    return job_enqueue(kind=kind, dataset=dataset, params={"import": upload.id}, user=user)


def wait_for(job: Job, seconds: int = 300) -> Job:
    def finished() -> bool:
        job.refresh_from_db()
        return job.status in (Job.Status.SUCCEEDED, Job.Status.FAILED)

    wait_until(finished, timeout=seconds, what=f"job {job.kind} to finish", every=0.3)
    return job
