"""Offer files through core jobs: upload -> preview job -> apply job, all or nothing, classification in the
job, roles. Jobs run by `job_run` here (as the worker does) and once through the real Celery worker."""

import io
import threading

import pytest
from django.db import connections
from django.test import Client
from django.urls import reverse

from catalog.models import Offer, OfferImport, Shop
from core import roles
from core.jobs import job_run
from core.models import Job
from core.pauses import pausing
from tests.conftest import wait_until
from tests.factories import DatasetFactory, SmallCategoryFactory, user_with_role
from training.models import RuleMapping

GOOD = (
    "shop,external_id,title,price,brand,category\n"
    "abt,1,Sony Turntable PSLX350H,99,Sony,electronics/audio\n"
    "buy,1,Bose speaker AM53BK,89.5,Bose,\n"
)


def _client(role):
    client = Client()
    client.force_login(user_with_role(role))
    return client


def _file(text: str, name: str = "offers.csv"):
    upload = io.BytesIO(text.encode())
    upload.name = name
    return upload


def _ran(response) -> Job:
    """The job the page redirected to, run as the worker runs it."""
    job = Job.objects.get(pk=response.url.rstrip("/").rsplit("/", 1)[-1])
    job_run(job.id)
    job.refresh_from_db()
    return job


@pytest.fixture
def audio():
    return SmallCategoryFactory(name="audio", parent__name="electronics")


@pytest.mark.django_db
def test_upload_previews_in_a_job_then_applies_in_a_job_and_reimport_updates(audio):
    client = _client(roles.MANAGER)
    job = _ran(client.post(reverse("catalog:import"), {"file": _file(GOOD)}))
    upload = OfferImport.objects.get()
    assert (job.status, job.kind, upload.status) == ("succeeded", "offer_import_preview", "previewed")
    assert job.result["next"] == reverse("catalog:import-detail", args=[upload.id])
    assert upload.preview["new"] == 2 and not Offer.objects.exists()  # a preview writes nothing
    page = client.get(job.result["next"]).content.decode()
    assert 'data-testid="sample"' in page and "Sony Turntable PSLX350H" in page

    job = _ran(client.post(reverse("catalog:import-detail", args=[upload.id])))
    assert job.status == "succeeded" and job.result["new"] == 2
    assert OfferImport.objects.get().status == "applied"
    assert Offer.objects.get(shop__name="abt").category == audio
    assert client.post(reverse("catalog:import-detail", args=[upload.id])).status_code == 302
    assert Job.objects.filter(kind="offer_import_apply").count() == 1  # an applied file is not applied again

    changed = GOOD.replace("Sony Turntable PSLX350H,99", "Sony Turntable PS-LX350H,79")
    _ran(client.post(reverse("catalog:import"), {"file": _file(changed)}))
    second = OfferImport.objects.order_by("-id").first()
    assert (second.preview["new"], second.preview["changed"], second.preview["unchanged"]) == (0, 1, 1)
    assert _ran(client.post(reverse("catalog:import-detail", args=[second.id]))).status == "succeeded"
    offer = Offer.objects.get(shop__name="abt", external_id="1")
    assert (offer.title, str(offer.price), Offer.objects.count()) == ("Sony Turntable PS-LX350H", "79.00", 2)
    assert (
        offer.history.count() == 2
        and offer.history.first().history_change_reason == "offer import offers.csv"
    )


@pytest.mark.django_db
def test_offers_without_a_category_are_classified_in_the_apply_job(audio):
    dataset = DatasetFactory(name="products", taxonomy=audio.taxonomy)
    RuleMapping.objects.create(dataset=dataset, name="a", kind="keywords", pattern="speaker", category=audio)
    client = _client(roles.MANAGER)
    _ran(client.post(reverse("catalog:import"), {"file": _file(GOOD), "classify_with": dataset.id}))
    upload = OfferImport.objects.get()
    job = _ran(client.post(reverse("catalog:import-detail", args=[upload.id])))
    assert job.status == "succeeded" and job.result["classified"] == 1
    bose = Offer.objects.get(shop__name="buy")
    assert bose.category == audio
    assert bose.history.first().history_change_reason == "classified by the champion of products"


@pytest.mark.django_db
def test_the_classify_job_of_the_import_page(audio):
    dataset = DatasetFactory(name="products", taxonomy=audio.taxonomy)
    RuleMapping.objects.create(dataset=dataset, name="a", kind="keywords", pattern="speaker", category=audio)
    shop = Shop.objects.create(name="abt")
    Offer.objects.create(shop=shop, external_id="1", title="Bose speaker AM53BK")
    client = _client(roles.MANAGER)
    assert 'data-testid="uncategorised">1<' in client.get(reverse("catalog:import")).content.decode()
    job = _ran(client.post(reverse("catalog:classify"), {"dataset": dataset.id}))
    assert job.status == "succeeded" and job.result["classified"] == 1
    assert Offer.objects.get().category == audio
    response = client.post(reverse("catalog:classify"), {"dataset": dataset.id}, follow=True)
    assert "nothing to classify" in response.content.decode()  # refused: no job


@pytest.mark.django_db
def test_bad_input_changes_nothing(audio):
    client = _client(roles.MANAGER)
    _ran(client.post(reverse("catalog:import"), {"file": _file(GOOD + "abt,2,Garmin GPS,NaN,,\n")}))
    upload = OfferImport.objects.get()
    assert upload.preview["error_count"] == 1
    page = client.get(reverse("catalog:import-detail", args=[upload.id])).content.decode()
    assert "not a number" in page and 'data-testid="apply"' not in page
    response = client.post(reverse("catalog:import-detail", args=[upload.id]), follow=True)
    assert "refused rows" in response.content.decode()
    assert not Job.objects.filter(kind="offer_import_apply").exists() and not Offer.objects.exists()

    # a classification that cannot run (no champion, no rules) fails the apply job whole: no offer written
    empty = DatasetFactory(name="empty", taxonomy=audio.taxonomy)
    _ran(client.post(reverse("catalog:import"), {"file": _file(GOOD), "classify_with": empty.id}))
    upload = OfferImport.objects.order_by("-id").first()
    job = _ran(client.post(reverse("catalog:import-detail", args=[upload.id])))
    assert job.status == "failed" and "no champion" in job.message
    page = client.get(reverse("core:job", args=[job.id])).content.decode()
    assert "no champion" in page and reverse("catalog:import-detail", args=[upload.id]) in page
    upload.refresh_from_db()
    assert upload.status == "previewed" and not Offer.objects.exists() and not Shop.objects.exists()
    assert not Offer.history.exists()


@pytest.mark.django_db
def test_the_apply_writes_the_rows_its_preview_checked_unless_the_file_or_the_categories_changed(audio):
    client = _client(roles.MANAGER)
    _ran(client.post(reverse("catalog:import"), {"file": _file(GOOD)}))
    upload = OfferImport.objects.get()
    assert upload.checked_rows  # kept by the preview for the apply
    upload.data = GOOD.replace("PSLX350H", "PSLX350H-B").encode()  # the bytes changed after the preview
    upload.save(update_fields=["data"])
    assert _ran(client.post(reverse("catalog:import-detail", args=[upload.id]))).status == "succeeded"
    assert Offer.objects.get(shop__name="abt").title == "Sony Turntable PSLX350H-B"  # not the kept rows
    upload.refresh_from_db()
    assert upload.checked_rows is None  # applied: nothing more to keep

    # the category the preview matched is gone by the apply: the file is checked again and refused whole
    moved = GOOD.replace(",1,", ",2,")
    _ran(client.post(reverse("catalog:import"), {"file": _file(moved)}))
    upload = OfferImport.objects.order_by("-id").first()
    assert upload.preview["error_count"] == 0
    audio.status = "excluded"
    audio.save()
    job = _ran(client.post(reverse("catalog:import-detail", args=[upload.id])))
    assert job.status == "failed"
    assert job.message == (
        "Nothing imported: 1 row(s) refused, first at line 2: unknown category 'electronics/audio'."
    )
    assert Offer.objects.count() == 2 and OfferImport.objects.get(pk=upload.pk).status == "previewed"


@pytest.mark.django_db(transaction=True)
def test_two_files_applied_at_once_with_the_same_new_offers_both_succeed(audio):
    client = _client(roles.MANAGER)
    for text in (GOOD, GOOD.replace("Bose speaker", "Bose Speaker")):
        _ran(client.post(reverse("catalog:import"), {"file": _file(text)}))
    first, second = [_queued(client, upload) for upload in OfferImport.objects.order_by("id")]
    other, reports = threading.Thread(target=_run_closing, args=[second.id]), []

    def second_starts() -> None:  # at the first's 2nd report it has read the offers (none), not written them
        reports.append(threading.current_thread() is not other)
        if reports[-1] and reports.count(True) == 2:
            other.start()
            other.join(timeout=2)  # blocked on the first's lock (it would fail on the unique constraint)

    with pausing("job-progress", second_starts):
        job_run(first.id)
    other.join()
    first.refresh_from_db(), second.refresh_from_db()
    assert (first.status, second.status) == ("succeeded", "succeeded"), second.message
    assert (first.result["new"], second.result["new"], second.result["changed"]) == (2, 0, 1)
    assert Offer.objects.get(shop__name="buy").title == "Bose Speaker AM53BK" and Offer.objects.count() == 2


def _queued(client: Client, upload: OfferImport) -> Job:
    client.post(reverse("catalog:import-detail", args=[upload.id]))
    return Job.objects.filter(kind="offer_import_apply").latest("id")


def _run_closing(job_id: int) -> None:
    try:
        job_run(job_id)
    finally:
        connections.close_all()


def _polled(client: Client, job_id: int) -> dict:
    """The job page's poll from another thread: another database connection, outside the job's work."""
    seen = {}

    def poll() -> None:
        try:
            seen.update(client.get(reverse("core:job", args=[job_id]), {"format": "json"}).json())
        finally:
            connections.close_all()

    thread = threading.Thread(target=poll)
    thread.start()
    thread.join()
    return seen


@pytest.mark.django_db(transaction=True)
def test_the_job_page_shows_the_progress_of_the_preview_and_the_apply_while_they_run(audio):
    lines = [f"shop{n % 3},{n},Speaker SK-{n},{100 + n % 50},Sony,electronics/audio" for n in range(12_000)]
    client = _client(roles.MANAGER)
    client.post(reverse("catalog:import"), {"file": _file("\n".join([GOOD.split("\n")[0], *lines]))})
    watched, seen = [Job.objects.get()], []
    with pausing("job-progress", lambda: seen.append(_polled(client, watched[-1].id))):
        job_run(watched[-1].id)
        upload = OfferImport.objects.get()
        client.post(reverse("catalog:import-detail", args=[upload.id]))
        watched.append(Job.objects.get(kind="offer_import_apply"))
        job_run(watched[-1].id)
    assert {poll["status"] for poll in seen} == {"running"}
    stages = [(poll["progress"], poll["stage"]) for poll in seen]
    assert stages[:3] == [
        (0.354, "reading line 5,001 of 12,001"),
        (0.708, "reading line 10,001 of 12,001"),
        (0.9, "comparing 12,000 rows with the offers"),
    ]  # the preview: its row says 0 until the job commits
    # the apply: the rows its preview checked, not the file read again
    assert stages[3:] == [
        (0.36, "comparing 12,000 rows with the offers"),
        (0.65, "adding new offers: 0 of 12,000"),
    ]

    assert Offer.objects.count() == 12_000 and Job.objects.get(pk=watched[-1].pk).progress == 1.0


@pytest.mark.django_db
@pytest.mark.parametrize("role", [roles.ANNOTATOR, None])
def test_only_managers_import_or_classify(role, audio):
    client = _client(role) if role else Client()
    upload = OfferImport.objects.create(file_name="x.csv", data=GOOD.encode(), status="previewed",
                                        preview={"new": 2, "error_count": 0})  # fmt: skip
    posts = [
        (reverse("catalog:import"), {"file": _file(GOOD)}),
        (reverse("catalog:import-detail", args=[upload.id]), {}),
        (reverse("catalog:classify"), {"dataset": DatasetFactory().id}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == (403 if role else 302), url
        assert client.get(url).status_code in ((403, 405) if role else (302, 405)), url
    assert not Job.objects.exists() and OfferImport.objects.count() == 1


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_an_import_through_the_real_worker(live_worker, audio):
    client = _client(roles.MANAGER)
    response = client.post(reverse("catalog:import"), {"file": _file(GOOD)})
    job = Job.objects.get()

    def ended(job=job):
        job.refresh_from_db()
        return job.status in ("succeeded", "failed")

    wait_until(ended, timeout=120, what="the preview job")
    assert response.url == reverse("core:job", args=[job.id]) and job.status == "succeeded", job.message
    upload = OfferImport.objects.get()
    client.post(reverse("catalog:import-detail", args=[upload.id]))
    job = Job.objects.get(kind="offer_import_apply")
    wait_until(lambda: ended(job), timeout=120, what="the apply job")
    assert job.status == "succeeded", job.message
    assert Offer.objects.count() == 2 and set(Offer.history.values_list("history_user", flat=True)) == {
        job.created_by_id
    }
