"""Writes with real data below their role are refused and change nothing.

Every URL under every role, anonymous included: tests/test_role_matrix.py.
"""

import pytest
from django.urls import reverse

from core import roles
from core.models import Job
from labeling.models import Changeset, DatasetVersion, ExampleImport
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
