"""Who may open what: every page and API under each role (anonymous users see nothing)."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from core import roles
from core.models import Job
from labeling.models import Changeset, DatasetVersion, Example, ExampleImport
from tests.factories import ExampleFactory, user_with_role

pytestmark = pytest.mark.django_db
ANONYMOUS = "anonymous"
WHO = (ANONYMOUS, roles.ANNOTATOR, roles.MANAGER, roles.ADMIN)


@pytest.fixture
def things():
    example = ExampleFactory()
    dataset = example.dataset
    admin = user_with_role(roles.ADMIN, username="boss")
    version = DatasetVersion.objects.create(dataset=dataset, number=1, message="v1", author=admin)
    changeset = Changeset.objects.create(dataset=dataset, kind="relabel", reason="r", user=admin)
    upload = ExampleImport.objects.create(dataset=dataset, file_name="a.csv", data=b"x", status="previewed")
    job = Job.objects.create(kind="rollback", dataset=dataset, created_by=admin)
    return {
        "dataset": dataset.id,
        "example": example.id,
        "version": version.number,
        "changeset": changeset.id,
        "import": upload.id,
        "job": job.id,
    }


# page, lowest role allowed to GET it
PAGES = [
    ("labeling:dashboard", [], roles.ANNOTATOR),
    ("labeling:dataset", ["dataset"], roles.ANNOTATOR),
    ("labeling:history", ["dataset"], roles.ANNOTATOR),
    ("labeling:diff", ["dataset"], roles.ANNOTATOR),
    ("labeling:queue", ["dataset"], roles.ANNOTATOR),
    ("labeling:browse", ["dataset"], roles.ANNOTATOR),
    ("labeling:example_history", ["example"], roles.ANNOTATOR),
    ("labeling:changeset", ["changeset"], roles.ANNOTATOR),
    ("core:job", ["job"], roles.ANNOTATOR),
    ("labeling:taxonomy", ["dataset"], roles.MANAGER),
    ("labeling:import_upload", ["dataset"], roles.MANAGER),
    ("labeling:import", ["import"], roles.MANAGER),
    ("labeling:export", ["dataset"], roles.MANAGER),
    ("labeling:rollback", ["dataset"], roles.ADMIN),
]


@pytest.mark.parametrize("who", WHO)
@pytest.mark.parametrize(("name", "args", "lowest"), PAGES, ids=[p[0] for p in PAGES])
def test_page_access(client, things, who, name, args, lowest):
    if who != ANONYMOUS:
        client.force_login(user_with_role(who, username=f"u-{who.replace(' ', '-')}"))
    url = reverse(name, args=[things[a] for a in args]) + ("?to=1" if name == "labeling:rollback" else "")
    response = client.get(url)
    if who == ANONYMOUS:
        assert response.status_code == 302 and "/login/" in response.url
    elif roles.RANKS[who] >= roles.RANKS[lowest]:
        assert response.status_code == 200
    else:
        assert response.status_code == 403


# write pages: POSTs that must be refused below the role, changing nothing
WRITES = [
    ("labeling:commit", ["dataset"], {"message": "m"}, roles.MANAGER),
    ("labeling:revert", ["changeset"], {"reason": "r"}, roles.ADMIN),
    ("labeling:import_apply", ["import"], {}, roles.MANAGER),
    ("labeling:taxonomy", ["dataset"], {"action": "create", "name": "new"}, roles.MANAGER),
]


@pytest.mark.parametrize(("name", "args", "data", "lowest"), WRITES, ids=[w[0] for w in WRITES])
def test_writes_below_the_role_are_refused(client, things, name, args, data, lowest):
    for who in (r for r in WHO[1:] if roles.RANKS[r] < roles.RANKS[lowest]):
        client.force_login(user_with_role(who, username=f"w-{who.replace(' ', '-')}"))
        assert client.post(reverse(name, args=[things[a] for a in args]), data).status_code == 403
    assert (DatasetVersion.objects.count(), Job.objects.count()) == (1, 1)


def test_api_needs_a_signed_in_annotator(things):
    api = APIClient()
    url = reverse("api-example", args=[things["example"]])
    assert api.get(url).status_code in (401, 403)
    api.force_authenticate(user_with_role(roles.ANNOTATOR, username="api-user"))
    assert api.get(url).json()["id"] == things["example"]
    assert Example.objects.count() == 1


def test_a_signed_in_user_without_a_role_sees_nothing(client, things):
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="no-role"))
    for name, args, _ in PAGES:
        assert client.get(reverse(name, args=[things[a] for a in args])).status_code == 403, name
