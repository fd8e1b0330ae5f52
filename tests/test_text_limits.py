"""One rule for stored text on both databases: no NUL, no lone surrogate, no more than the column holds.

PostgreSQL refused such text with a DataError (a 500) while SQLite stored it; now every entry point refuses it
with a message and changes nothing: the taxonomy page, the queue's note, the API, the CSV import, services.
"""

import json

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from core import roles
from core.errors import ApplicationError
from labeling.models import Category, Content, Example
from labeling.services.imports import import_preview
from labeling.services.taxonomy import category_create
from tests.factories import ExampleFactory, LargeCategoryFactory, user_with_role
from tests.test_embedded_default import manage

pytestmark = pytest.mark.django_db
BAD_NAMES = ["n" * 101, "a\x00b", "\ud800"]


def test_the_taxonomy_page_refuses_bad_names_with_a_message(client):
    example = ExampleFactory()
    client.force_login(user_with_role(roles.MANAGER, username="shaper"))
    url = reverse("labeling:taxonomy", args=[example.dataset_id])
    before = Category.objects.count()
    for name in BAD_NAMES[:2]:
        response = client.post(url, {"action": "create", "name": name}, follow=True)
        assert response.status_code == 200
        assert "category name" in response.content.decode()
        response = client.post(
            url, {"action": "update", "category": example.category_id, "name": name}, follow=True
        )
        assert "category name" in response.content.decode()
    assert Category.objects.count() == before
    assert Category.objects.get(pk=example.category_id).name == example.category.name


def test_services_refuse_every_bad_name():
    taxonomy = LargeCategoryFactory().taxonomy
    for name in BAD_NAMES:
        with pytest.raises(ApplicationError, match="category name"):
            category_create(taxonomy=taxonomy, name=name, user=None)
    with pytest.raises(ApplicationError, match="guideline contains a NUL"):
        category_create(taxonomy=taxonomy, name="ok", guideline="a\x00", user=None)
    assert Category.objects.filter(name="ok").count() == 0


def test_the_queue_note_and_the_api_note_follow_the_same_rule(client):
    example = ExampleFactory()
    user = user_with_role(roles.ANNOTATOR, username="noter")
    client.force_login(user)
    url = reverse("labeling:queue", args=[example.dataset_id])
    for note in ("a\x00b", "n" * 2001):
        data = {"content": example.content_id, "category": example.category_id, "version": example.version}
        response = client.post(url, data | {"note": note}, follow=True)
        assert response.status_code == 200 and "note" in response.content.decode()
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    body = {"category": example.category_id, "version": example.version, "note": "a\x00b"}
    assert api.patch(reverse("api-example", args=[example.id]), body, format="json").status_code == 400
    assert Example.objects.get().version == example.version and Example.objects.get().note == ""


def test_the_import_rejects_rows_with_a_nul_and_keeps_the_others():
    example = ExampleFactory()
    data = (
        "external_id,title,body,category\n"
        f"ok-1,fine,a body,{example.category.name}\n"
        f'nul-1,"ti\x00tle",a body,{example.category.name}\n'
        f"long-1,{'t' * 501},a body,{example.category.name}\n"
    ).encode()
    preview = import_preview(dataset=example.dataset, data=data)
    assert preview.new == 1 and preview.errors == 2
    reasons = " ".join(row["error"] for row in preview.error_rows)
    assert "title contains a NUL character" in reasons and "title is longer than 500 characters" in reasons
    assert not Content.objects.filter(external_id__in=["nul-1", "long-1"]).exists()


SQLITE_SCRIPT = """
import json
from core.errors import ApplicationError
from labeling.models import Category, Taxonomy
from labeling.services.taxonomy import category_create
taxonomy = Taxonomy.objects.create(name="t")
refused = []
for name in {names}:
    try:
        category_create(taxonomy=taxonomy, name=name, user=None)
    except ApplicationError as error:
        refused.append(str(error))
print(json.dumps({{"refused": refused, "stored": Category.objects.count()}}))
"""


@pytest.mark.integration
def test_sqlite_refuses_the_same_names(tmp_path):
    manage(tmp_path, "migrate", "--noinput")
    out = manage(tmp_path, "shell", "-c", SQLITE_SCRIPT.format(names=repr(BAD_NAMES)))
    result = json.loads(out.strip().splitlines()[-1])
    assert result["stored"] == 0
    assert [r.split(" ", 3)[3] for r in result["refused"]] == [
        "is longer than 100 characters.",
        "contains a NUL character.",
        "contains a character that is not UTF-8 (a lone surrogate).",
    ]
