"""Datasets limited to members: every page and API call that names a dataset (or one of its objects) lets its
members in with their role there and refuses everyone else but admins; lists show only what a user may see."""

import pytest
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from core import roles
from core.models import DatasetMember
from labeling.models import Dataset
from tests.factories import DatasetFactory, UserFactory, user_with_role
from tests.test_role_matrix import (  # noqa: F401
    LOWEST,
    QUERIES,
    _methods,
    _state,
    _urls,
    objects,
    view_kwargs,
)

pytestmark = pytest.mark.django_db
SCOPED = (
    "dataset_id",
    "run_id",
    "example_id",
    "changeset_id",
    "import_id",
    "job_id",
    "rule_id",
    "prediction_id",
)


def _client(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    client.force_authenticate(user)
    return client


def _get(client, name, url, view) -> int:
    return client.get(url, QUERIES.get(name, {})).status_code


def test_members_work_on_their_dataset_and_nobody_else_but_admins(objects):  # noqa: F811
    dataset = Dataset.objects.get(pk=objects["dataset_id"])
    member = UserFactory(username="member")  # no role of their own: the dataset gives it
    DatasetMember.objects.create(dataset=dataset, user=member, role=DatasetMember.Role.ANNOTATOR)
    manager = UserFactory(username="member-manager")
    DatasetMember.objects.create(dataset=dataset, user=manager, role=DatasetMember.Role.MANAGER)
    outsider = user_with_role(roles.MANAGER, username="outsider")  # a manager elsewhere, not a member here
    admin = user_with_role(roles.ADMIN, username="any-admin")
    clients = {
        who: _client(user)
        for who, user in (("member", member), ("manager", manager), ("outsider", outsider), ("admin", admin))
    }
    before = _state()
    failures, checked = [], 0
    for name, route, view in _urls():
        arguments = view_kwargs(route)
        if not any(a in SCOPED for a in arguments) or name not in LOWEST:
            continue
        url = reverse(name, kwargs={a: objects[a] for a in arguments})
        lowest = LOWEST[name]
        checked += 1
        for method in _methods(view):
            if method == "get":
                for who, rank in (("member", 1), ("manager", 2), ("admin", 3)):
                    status = _get(clients[who], name, url, view)
                    allowed = rank >= roles.RANKS[lowest]
                    if allowed and status == 403 or not allowed and status not in (403, 405):
                        failures.append(f"GET {url} as {who}: {status} (lowest {lowest})")
            client = clients["outsider"]
            status = getattr(client, method)(url, {}, format="json").status_code
            if status not in (403, 405):
                failures.append(f"{method.upper()} {url} as a non-member manager: {status}")
    assert checked >= 40
    assert _state() == before, "a refused request changed something"
    assert not failures, "\n".join(failures)


def test_lists_show_open_datasets_and_ones_own():
    limited, other_limited, _open = (
        DatasetFactory(name="limited"),
        DatasetFactory(name="x"),
        DatasetFactory(name="open"),
    )
    member = user_with_role(roles.ANNOTATOR, username="m")
    DatasetMember.objects.create(dataset=limited, user=member)
    DatasetMember.objects.create(dataset=other_limited, user=UserFactory(username="someone"))
    for user, expected in (
        (member, {"limited", "open"}),
        (user_with_role(roles.MANAGER, username="outsider"), {"open"}),
        (user_with_role(roles.ADMIN, username="boss"), {"limited", "x", "open"}),
    ):
        client = _client(user)
        assert {d["name"] for d in client.get(reverse("api-datasets")).json()} == expected
        page = client.get(reverse("labeling:dashboard")).content.decode()
        assert {n for n in ("limited", "open", ">x<") if n in page} >= expected - {"x"}
        assert ("limited" in page) == ("limited" in expected)


def test_classification_by_token_refuses_a_non_member():
    dataset = DatasetFactory()
    DatasetMember.objects.create(dataset=dataset, user=UserFactory(username="insider"))
    outsider = user_with_role(roles.ANNOTATOR, username="caller")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=outsider).key}")
    response = api.post(reverse("api-classify", args=[dataset.id]), {"text": "hello"}, format="json")
    assert response.status_code == 403


def test_search_api_refuses_a_non_member():
    dataset = DatasetFactory()
    DatasetMember.objects.create(dataset=dataset, user=UserFactory(username="insider"))
    outsider = _client(user_with_role(roles.ANNOTATOR, username="outsider"))
    assert outsider.get(reverse("api-search"), {"dataset": dataset.id, "q": "x"}).status_code == 403


def test_pages_offer_what_the_role_on_the_dataset_allows():
    dataset = DatasetFactory()
    manager_elsewhere = user_with_role(roles.MANAGER, username="annotates-here")
    DatasetMember.objects.create(dataset=dataset, user=manager_elsewhere, role=DatasetMember.Role.ANNOTATOR)
    client = _client(manager_elsewhere)
    page = client.get(reverse("labeling:history", args=[dataset.id])).content.decode()
    assert "Commit version" not in page  # a manager elsewhere, an annotator here
    assert client.post(reverse("labeling:commit", args=[dataset.id]), {"message": "m"}).status_code == 403
    assert (
        "Commit version"
        in _client(user_with_role(roles.MANAGER, username="m2"))
        .get(reverse("labeling:history", args=[DatasetFactory().id]))
        .content.decode()
    )
