"""API tokens: the token's user and role are kept per process, and forgotten when they change."""

import time

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.authentication import get_authorization_header
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from core import roles
from core.tokens import authorization_header, tokens_forget
from tests.factories import user_with_role

pytestmark = pytest.mark.django_db


@pytest.fixture
def caller():
    tokens_forget()
    user = user_with_role(roles.ANNOTATOR, username="caller")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    yield user, client
    tokens_forget()


def datasets(client) -> int:
    return client.get(reverse("api-datasets")).status_code


def test_a_known_token_is_not_read_again(caller):
    user, client = caller
    assert datasets(client) == 200
    with CaptureQueriesContext(connection) as queries:
        assert datasets(client) == 200
    read = " ".join(query["sql"] for query in queries)
    assert "authtoken_token" not in read and "auth_group" not in read


def test_a_deleted_token_is_refused_at_once(caller):
    user, client = caller
    assert datasets(client) == 200
    Token.objects.filter(user=user).get().delete()
    assert datasets(client) == 401


def test_a_deactivated_user_is_refused_at_once(caller):
    user, client = caller
    assert datasets(client) == 200
    user.is_active = False
    user.save()
    assert datasets(client) == 401


def test_a_role_taken_away_or_its_group_deleted_counts_at_once(caller):
    user, client = caller
    assert datasets(client) == 200
    user.groups.clear()
    assert datasets(client) == 403
    user.groups.add(Group.objects.get(name=roles.ANNOTATOR))
    assert datasets(client) == 200
    Group.objects.get(name=roles.ANNOTATOR).delete()
    assert datasets(client) == 403


def test_a_change_made_elsewhere_counts_once_the_entry_expires(caller, settings):
    """Another process's change sends no signal here: it counts after API_TOKEN_CACHE_SECONDS."""
    settings.API_TOKEN_CACHE_SECONDS = 0.3
    user, client = caller
    assert datasets(client) == 200
    get_user_model().objects.filter(pk=user.pk).update(is_active=False)  # no signal, as from elsewhere
    assert datasets(client) == 200
    time.sleep(0.35)
    assert datasets(client) == 401


def test_a_dataset_members_change_counts_at_once_and_a_known_rank_is_not_read_again(caller):
    from core.models import DatasetMember
    from tests.factories import DatasetFactory, UserFactory

    user, client = caller
    dataset = DatasetFactory()
    url = reverse("api-dataset", args=[dataset.id])
    assert client.get(url).status_code == 200  # open: no members
    other = DatasetMember.objects.create(dataset=dataset, user=UserFactory(username="someone"))
    assert client.get(url).status_code == 403  # limited to its members, and the caller is not one
    mine = DatasetMember.objects.create(dataset=dataset, user=user)
    assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    assert "core_datasetmember" not in " ".join(query["sql"] for query in queries)
    mine.delete()
    assert client.get(url).status_code == 403
    other.delete()
    assert client.get(url).status_code == 200


@pytest.mark.parametrize("value", ["Token abc", "token  ab c", "Bearer x", "", "Tökén é", b"Token raw"])
def test_the_authorization_header_is_read_as_drf_reads_it(value):
    request = RequestFactory().get("/api/v1/datasets/", HTTP_AUTHORIZATION=value, HTTP_X_OTHER="y")
    assert authorization_header(request) == get_authorization_header(request)
    without = RequestFactory().get("/")
    assert authorization_header(without) == get_authorization_header(without) == b""
