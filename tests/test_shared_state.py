"""With Redis configured, the classify throttle and the API token cache hold for the whole site: two server
processes count one limit and forget a deleted token together."""

import pytest
from rest_framework.authtoken.models import Token

from core import roles
from tests.conftest import classify_status, start_site, stop_site
from tests.factories import DatasetFactory, user_with_role

pytestmark = pytest.mark.django_db(transaction=True)


def _post(url: str, token: str) -> int:
    return classify_status(url, token, "a rocket to the moon")


@pytest.fixture
def two_servers(worker_env, tmp_path):
    """Two servers (scripts/serve.sh, one worker each) on the test database and the test Redis."""
    env = worker_env | {"CLASSIFY_RATE": "4/hour"}
    sites = []
    try:
        for _ in range(2):
            sites.append(start_site(env, tmp_path))
        yield [base for _, base in sites]
    finally:
        for process, _ in sites:
            stop_site(process)


def test_two_server_processes_count_one_limit_and_forget_a_token_together(two_servers):
    dataset = DatasetFactory()
    token = Token.objects.create(user=user_with_role(roles.ANNOTATOR, username="busy"))
    urls = [f"{base}/api/v1/datasets/{dataset.id}/classify" for base in two_servers]
    codes = [_post(urls[i % 2], token.key) for i in range(6)]  # alternating between the processes
    assert codes.count(429) == 2 and 429 not in codes[:4], codes

    token.delete()  # both processes have the token's user cached by now
    assert [_post(url, token.key) for url in urls] == [401, 401]
