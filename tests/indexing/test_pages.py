"""The search API, the examples search page, the status API and page, and the search_index command."""

import json

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from core import roles
from indexing.models import DeadLetter
from labeling.models import Content, Example
from tests.factories import DatasetFactory, ExampleFactory, SmallCategoryFactory, user_with_role
from tests.indexing.conftest import drain

pytestmark = pytest.mark.django_db


@pytest.fixture
def dataset(search):
    dataset = DatasetFactory()
    category = SmallCategoryFactory(parent__taxonomy=dataset.taxonomy, name="보건복지")
    ExampleFactory(
        dataset=dataset, category=category, content__title="국민건강보험 개편 <b>요구</b>", content__body=""
    )
    ExampleFactory(dataset=dataset, category=category, content__title="다른 글", content__body="")
    drain(search)
    return dataset


def test_search_api_takes_ids_from_the_engine(client, dataset):
    client.force_login(user_with_role(roles.ANNOTATOR))
    answer = client.get(reverse("api-search"), {"q": "건강보험", "dataset": dataset.id}).json()
    assert answer["source"] == "engine" and answer["count"] == 1
    hit = answer["results"][0]
    assert hit["title"] == "국민건강보험 개편 <b>요구</b>"  # the row from the database, as it is (JSON)
    assert "<mark>" in hit["highlight"]["title"] and "&lt;b&gt;" in hit["highlight"]["title"]


def test_search_api_falls_back_to_the_database(client, dataset, settings):
    settings.SEARCH_URL = ""
    client.force_login(user_with_role(roles.ANNOTATOR))
    answer = client.get(reverse("api-search"), {"q": "건강보험", "dataset": dataset.id}).json()
    assert answer["source"] == "database" and answer["count"] == 1


def test_search_api_refuses_bad_parameters(client, dataset):
    client.force_login(user_with_role(roles.ANNOTATOR))
    assert client.get(reverse("api-search"), {"q": "x"}).status_code == 400
    assert client.get(reverse("api-search"), {"dataset": "abc"}).status_code == 400
    assert client.get(reverse("api-search"), {"dataset": dataset.id, "status": "nope"}).status_code == 400
    assert client.get(reverse("api-search"), {"dataset": dataset.id, "category": 999999}).status_code == 404


def test_search_api_needs_a_role(client, dataset):
    assert client.get(reverse("api-search"), {"dataset": dataset.id}).status_code in (401, 403)


def test_examples_page_searches_through_the_engine(client, dataset):
    client.force_login(user_with_role(roles.ANNOTATOR))
    browse = reverse("labeling:browse", args=[dataset.id])
    response = client.get(browse, {"q": "건강보험"})
    assert [e.content.title for e in response.context["page"]] == ["국민건강보험 개편 <b>요구</b>"]
    # the ids come from the engine: a title changed in the database but not yet indexed is still found by its
    # indexed words, and shown as the database has it now
    Content.objects.filter(title__startswith="국민").update(title="새 제목")
    response = client.get(browse, {"q": "건강보험"})
    assert [e.content.title for e in response.context["page"]] == ["새 제목"]
    assert b"&lt;b&gt;" not in response.content or b"<b>" not in response.content


def test_status_api_and_page_for_admins_only(client, dataset):
    client.force_login(user_with_role(roles.MANAGER))
    assert client.get(reverse("api-indexing-status")).status_code == 403
    assert client.get(reverse("indexing:status")).status_code == 403
    client.force_login(user_with_role(roles.ADMIN))
    status = client.get(reverse("api-indexing-status")).json()
    assert status["created"] and status["pending"] == 0 and status["engine"]["status"] in ("green", "yellow")
    page = client.get(reverse("indexing:status"))
    assert page.status_code == 200 and b'data-testid="figure"' in page.content


def test_dead_letter_retry_button(client, dataset):
    DeadLetter.objects.create(target="contents", doc_id=Example.objects.first().content_id, error="<refused>")
    client.force_login(user_with_role(roles.ADMIN))
    page = client.get(reverse("indexing:status"))
    assert b"&lt;refused&gt;" in page.content
    client.post(reverse("indexing:action"), {"action": "retry"})
    assert not DeadLetter.objects.exists()


def test_command(dataset, capsys):
    call_command("search_index", "verify")
    call_command("search_index", "sync", "--since", "1h")
    status = json.loads(_out(capsys, "status"))
    assert status["pending"] == 0
    with pytest.raises(CommandError, match="since"):
        call_command("search_index", "sync", "--since", "yesterday")


def _out(capsys, *args) -> str:
    capsys.readouterr()
    call_command("search_index", *args)
    return capsys.readouterr().out


def test_command_without_engine(settings):
    settings.SEARCH_URL = ""
    with pytest.raises(CommandError, match="SEARCH_URL"):
        call_command("search_index", "status")
