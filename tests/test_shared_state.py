"""With Redis configured, the classify throttle and the API token cache hold for the whole site: two server
processes count one limit and forget a deleted token together."""

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from rest_framework.authtoken.models import Token

from core import roles
from tests.conftest import ROOT
from tests.factories import DatasetFactory, user_with_role

pytestmark = pytest.mark.django_db(transaction=True)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _post(url: str, token: str) -> int:
    request = urllib.request.Request(
        url,
        data=json.dumps({"text": "a rocket to the moon"}).encode(),
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _wait_until_answering(process: subprocess.Popen, base: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stdout.read().decode()[-3000:]
        try:
            urllib.request.urlopen(f"{base}/api/v1/", timeout=10).close()
            return
        except urllib.error.HTTPError:  # answering (401: no credentials)
            return
        except OSError:  # not listening yet, or still starting
            time.sleep(0.2)
    raise AssertionError(f"{base} did not answer within 60 s")


@pytest.fixture
def two_servers(worker_env, tmp_path):
    """Two gunicorn processes (one worker each) on the test database and the test Redis."""
    env = worker_env | {"CLASSIFY_RATE": "4/hour"}
    processes, bases = [], []
    try:
        for _ in range(2):
            port = _free_port()
            command = [sys.executable, "-m", "gunicorn", "admin_site.wsgi", "--bind", f"127.0.0.1:{port}"]
            output = {"stdout": subprocess.PIPE, "stderr": subprocess.STDOUT}
            process = subprocess.Popen([*command, "--workers", "1"], cwd=ROOT, env=env, **output)
            processes.append(process)
            bases.append(f"http://127.0.0.1:{port}")
        for process, base in zip(processes, bases, strict=True):
            _wait_until_answering(process, base)
        yield bases
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)


def test_two_server_processes_count_one_limit_and_forget_a_token_together(two_servers):
    dataset = DatasetFactory()
    token = Token.objects.create(user=user_with_role(roles.ANNOTATOR, username="busy"))
    urls = [f"{base}/api/v1/datasets/{dataset.id}/classify" for base in two_servers]
    codes = [_post(urls[i % 2], token.key) for i in range(6)]  # alternating between the processes
    assert codes.count(429) == 2 and 429 not in codes[:4], codes

    token.delete()  # both processes have the token's user cached by now
    assert [_post(url, token.key) for url in urls] == [401, 401]
