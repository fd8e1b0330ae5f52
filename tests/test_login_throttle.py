"""Logins are throttled: a username+address pair is locked after a few wrong passwords; an admin unlocks."""

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.test import Client

from core import roles
from tests.factories import user_with_role

pytestmark = pytest.mark.django_db
PASSWORD = "a-good-long-password"


def _login(username: str, password: str, address: str = "10.0.0.1"):
    return Client(REMOTE_ADDR=address).post("/login/", {"username": username, "password": password})


def _is_logged_in(response) -> bool:
    return response.status_code == 302 and response.url.startswith("/labeling/")


def test_wrong_passwords_lock_the_user_and_address_until_an_admin_unlocks(settings):
    user = user_with_role(roles.ANNOTATOR, username="victim")
    user.set_password(PASSWORD)
    user.save()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _login("victim", "guess").status_code == 200  # the form again, with its error
    locked = _login("victim", "guess")
    assert locked.status_code == 429 and "Login locked" in locked.content.decode()
    # the right password no longer works from there; other addresses and other people are not locked
    assert _login("victim", PASSWORD).status_code == 429
    assert _is_logged_in(_login("victim", PASSWORD, address="10.0.0.2"))
    other = user_with_role(roles.ANNOTATOR, username="neighbour")
    other.set_password(PASSWORD)
    other.save()
    assert _is_logged_in(_login("neighbour", PASSWORD))
    assert AccessFailureLog.objects.filter(username="victim").count() >= settings.AXES_FAILURE_LIMIT

    admin = Client()
    admin.force_login(user_with_role(roles.ADMIN, username="boss", is_staff=True, is_superuser=True))
    attempt = AccessAttempt.objects.get(username="victim", ip_address="10.0.0.1")
    page = admin.get("/admin/axes/accessattempt/")
    assert page.status_code == 200 and "victim" in page.content.decode()
    admin.post(
        "/admin/axes/accessattempt/",
        {"action": "delete_selected", "_selected_action": [attempt.id], "post": "yes"},
    )
    assert not AccessAttempt.objects.filter(username="victim").exists()
    assert _is_logged_in(_login("victim", PASSWORD))
