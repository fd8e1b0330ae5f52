"""Version pages, the API's optimistic locking, exports and the versions command."""

import csv
import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from rest_framework.test import APIClient

from core import roles
from core.models import Job
from labeling.models import DatasetVersion, Example
from labeling.selectors.versions import version_state, working_state
from labeling.services import example_label
from labeling.services.versions import dataset_commit
from tests.factories import DatasetFactory, ExampleFactory, SmallCategoryFactory, user_with_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    return {role: user_with_role(role, username=role.replace(" ", "-")) for role in roles.RANKS}


@pytest.fixture
def dataset(people):
    dataset = DatasetFactory(name="news", min_examples_per_category=3)
    a, b = SmallCategoryFactory.create_batch(2, parent__taxonomy=dataset.taxonomy)
    ExampleFactory.create_batch(3, dataset=dataset, category=a, content__title="<script>x</script>")
    ExampleFactory.create_batch(2, dataset=dataset, category=b)
    dataset_commit(dataset=dataset, user=people["admin"], message="v1")
    example = Example.objects.filter(category=a).first()
    example_label(dataset=dataset, content=example.content, category=b, user=people["annotator"])
    return dataset


def test_only_admins_reach_rollback(client, people, dataset):
    url = reverse("labeling:rollback", args=[dataset.id]) + "?to=1"
    for role in (roles.ANNOTATOR, roles.MANAGER):
        client.force_login(people[role])
        assert client.get(url).status_code == 403
        assert client.post(url, {"to": 1, "reason": "x"}).status_code == 403
    client.logout()
    assert client.get(url).status_code == 302
    client.force_login(people[roles.ADMIN])
    response = client.get(url)
    assert response.status_code == 200 and response.context["diff"].totals["relabelled"] == 1
    assert not Job.objects.exists()


def test_rollback_api_refuses_annotators_and_managers(people, dataset):
    api = APIClient()
    url = reverse("api-rollback", args=[dataset.id])
    assert api.post(url, {"to_version": 1, "reason": "x"}).status_code in (401, 403)
    for role in (roles.ANNOTATOR, roles.MANAGER):
        api.force_authenticate(people[role])
        assert api.post(url, {"to_version": 1, "reason": "x"}).status_code == 403
    api.force_authenticate(people[roles.ADMIN])
    assert api.post(url, {"reason": "x"}).status_code == 400
    assert api.post(url, {"to_version": 9, "reason": "x"}).status_code == 404
    assert not Job.objects.exists()


def test_dashboard_badge_and_diff_page(client, people, dataset):
    client.force_login(people[roles.ANNOTATOR])
    html = client.get(reverse("labeling:dataset", args=[dataset.id])).content.decode()
    assert "1 changes since v1, 1 category below minimum" in html
    response = client.get(reverse("labeling:diff", args=[dataset.id]))
    assert response.context["diff"].totals["relabelled"] == 1
    assert "&lt;script&gt;x&lt;/script&gt;" in response.content.decode()
    assert "<script>x</script>" not in response.content.decode()


def test_commit_page_is_for_managers(client, people, dataset):
    url = reverse("labeling:commit", args=[dataset.id])
    client.force_login(people[roles.ANNOTATOR])
    assert client.post(url, {"message": "mine"}).status_code == 403
    client.force_login(people[roles.MANAGER])
    client.post(url, {"message": "  "})
    assert DatasetVersion.objects.filter(dataset=dataset).count() == 1
    client.post(url, {"message": "after review"})
    version = DatasetVersion.objects.get(dataset=dataset, number=2)
    assert (version.author, version.entries_written) == (people[roles.MANAGER], 1)
    timeline = client.get(reverse("labeling:history", args=[dataset.id]) + "?kind=version").context["events"]
    assert [item.number for _, _, item in timeline] == [2, 1]


def test_concurrent_edit_gets_409_and_changes_nothing(people, dataset):
    example = Example.objects.filter(dataset=dataset).first()
    other = SmallCategoryFactory(parent=example.category.parent)
    first, second = APIClient(), APIClient()
    first.force_authenticate(people[roles.ANNOTATOR])
    second.force_authenticate(people[roles.MANAGER])
    url = reverse("api-example", args=[example.id])
    seen = first.get(url).json()["version"]

    assert second.patch(url, {"category": other.id, "version": seen}, format="json").status_code == 200
    response = first.patch(url, {"category": example.category_id, "version": seen}, format="json")

    assert response.status_code == 409
    body = response.json()
    assert "changed by category-manager" in body["detail"]
    assert (body["code"], body["changed_by"], body["example"]) == (
        "stale_example",
        "category-manager",
        example.id,
    )
    assert body["changed_at"]
    example.refresh_from_db()
    assert (example.category, example.version) == (other, seen + 1)


def test_patch_is_partial_a_note_alone_changes_only_the_note(people, dataset):
    example = Example.objects.filter(dataset=dataset).first()
    example.status = Example.Status.NEEDS_REVIEW
    example.save()
    client = APIClient()
    client.force_authenticate(people[roles.ANNOTATOR])
    url = reverse("api-example", args=[example.id])
    seen = client.get(url).json()["version"]
    response = client.patch(url, {"note": "checked twice", "version": seen}, format="json")
    assert response.status_code == 200, response.json()
    changed = Example.objects.get(pk=example.pk)
    assert (changed.note, changed.version) == ("checked twice", seen + 1)
    assert changed.category_id == example.category_id
    assert changed.status == Example.Status.NEEDS_REVIEW and changed.labeled_by_id == example.labeled_by_id
    assert changed.history.first().history_user == people[roles.ANNOTATOR]
    assert client.patch(url, {"version": seen + 1}, format="json").status_code == 400


def test_example_history_page_names_who_and_what(client, people, dataset):
    example = Example.objects.filter(dataset=dataset, labeled_by=people[roles.ANNOTATOR]).get()
    client.force_login(people[roles.ANNOTATOR])
    response = client.get(reverse("labeling:example_history", args=[example.id]))
    (latest, changes), (created, _) = response.context["entries"]
    assert latest.history_user == people[roles.ANNOTATOR] and created.history_type == "+"
    assert "category" in {c.field for c in changes}
    assert "<script>" not in response.content.decode()


def test_example_history_shows_categories_by_path_and_labellers_by_name(client, people, dataset):
    example = Example.objects.filter(dataset=dataset, labeled_by=people[roles.ANNOTATOR]).get()
    before = example.history.last().category
    client.force_login(people[roles.ANNOTATOR])
    page = client.get(reverse("labeling:example_history", args=[example.id])).content.decode()
    assert f"{before.path} &rarr; {example.category.path}" in page.replace("→", "&rarr;")
    assert f"{before.id} &rarr; {example.category_id}" not in page


def test_only_managers_see_the_export_links_they_can_use(client, people, dataset):
    url = reverse("labeling:history", args=[dataset.id])
    export = reverse("labeling:export", args=[dataset.id])
    client.force_login(people[roles.ANNOTATOR])
    assert export not in client.get(url).content.decode()
    client.force_login(people[roles.MANAGER])
    assert export in client.get(url).content.decode()


def test_exports_of_a_version(client, people, dataset):
    client.force_login(people[roles.MANAGER])
    url = reverse("labeling:export", args=[dataset.id])
    body = b"".join(client.get(url + "?version=1&format=csv").streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(body.lstrip("\ufeff"))))
    v1 = version_state(DatasetVersion.objects.get(dataset=dataset, number=1))
    assert len(rows) == len(v1) == 5
    lines = b"".join(client.get(url + "?format=fasttext").streaming_content).decode().splitlines()
    assert len(lines) == len(working_state(dataset)) and all(line.startswith("__label__") for line in lines)
    records = [
        json.loads(line)
        for line in b"".join(client.get(url + "?format=jsonl").streaming_content).splitlines()
    ]
    assert {r["external_id"] for r in records} == {r["external_id"] for r in rows}
    client.force_login(people[roles.ANNOTATOR])
    assert client.get(url + "?format=csv").status_code == 403


def test_versions_command(people, dataset, capsys):
    call_command("versions", "--dataset", "news", "dirty")
    assert capsys.readouterr().out.strip().endswith("1 changes")
    call_command("versions", "--dataset", "news", "commit", "-m", "from the shell")
    call_command("versions", "--dataset", "news", "list")
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[0] for line in lines[1:]] == ["2", "1"]
    call_command("versions", "--dataset", "news", "diff", "1", "2")
    assert capsys.readouterr().out.strip().endswith("1 changes")
    with pytest.raises(CommandError, match="add --yes"):
        call_command("versions", "--dataset", "news", "rollback", "--to", "1", "--user", "admin")
    with pytest.raises(CommandError, match="naming an admin"):
        call_command("versions", "--dataset", "news", "rollback", "--to", "1", "--user", "annotator", "--yes")
    assert working_state(dataset) == version_state(DatasetVersion.objects.get(dataset=dataset, number=2))
    call_command(
        "versions", "--dataset", "news", "rollback", "--to", "1", "--user", "admin", "--reason", "r", "--yes"
    )
    assert working_state(dataset) == version_state(DatasetVersion.objects.get(dataset=dataset, number=1))
    with pytest.raises(CommandError, match="no version 7"):
        call_command("versions", "--dataset", "news", "diff", "1", "7")
