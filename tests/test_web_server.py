"""The web server as `make run` and production start it (scripts/serve.sh, granian): a worker that dies is
started again, a SIGTERM lets the prediction log write what it buffered, and requests do not carry the
process environment."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from rest_framework.authtoken.models import Token

from core import roles
from tests.conftest import ROOT, classify_status, start_site, stop_site
from tests.factories import user_with_role
from tests.training.conftest import make_dataset
from tests.training.test_api import SPACE_TEXT
from tests.training.test_runs import train
from training.models import PredictionLog

pytestmark = pytest.mark.django_db(transaction=True)


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "stat").read_text().rsplit(")", 1)[1].split()[1] == str(pid):
                found.append(int(entry.name))
        except OSError:  # gone meanwhile
            pass
    return found


def _classify(url: str, token: str) -> int:
    return classify_status(url, token, SPACE_TEXT, timeout=60)


def test_a_dead_worker_is_replaced_and_a_stop_writes_the_buffered_log(worker_env, tmp_path):
    dataset = make_dataset()
    train(dataset, folds=0)
    token = Token.objects.create(user=user_with_role(roles.ANNOTATOR)).key
    # Rows stay in the worker's buffer until it stops: only the stop writes them.
    env = worker_env | {"MODEL_DIR": str(settings.MODEL_DIR), "PREDICTION_LOG_BUFFER_SECONDS": "600"}
    process, base = start_site(env, tmp_path)
    url = f"{base}/api/v1/datasets/{dataset.id}/classify"
    try:
        (worker,) = _children(process.pid)
        os.kill(worker, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while _children(process.pid) in ([], [worker]) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _children(process.pid) not in ([], [worker]), "no new worker"
        codes = []
        while (not codes or codes[-1] != 200) and time.monotonic() < deadline:
            codes.append(_classify(url, token))
        assert codes[-1] == 200, codes
        assert [_classify(url, token) for _ in range(2)] == [200, 200]
        assert not PredictionLog.objects.filter(dataset=dataset).exists()  # buffered
    finally:
        status = stop_site(process)
    assert status == 0
    assert PredictionLog.objects.filter(dataset=dataset).count() == 3


def test_a_request_does_not_carry_the_process_environment(worker_env):
    """granian starts each request's environ from the process environment; admin_site.wsgi takes it out."""
    script = """
import json, os, sys
from admin_site.wsgi import application
from django.test import RequestFactory
environ = RequestFactory().get("/login/").environ | dict(os.environ) | {
    "SERVER_SOFTWARE": "Granian", "HTTP_X_SEEN": "kept", "CONTENT_TYPE": "text/plain"}
body = b"".join(application(environ, lambda status, headers, exc_info=None: None))
print(json.dumps(sorted(environ)))
"""
    env = worker_env | {"BUNRYU_TEST_SECRET": "not for requests"}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    seen = set(json.loads(done.stdout.splitlines()[-1]))
    assert not seen & {"BUNRYU_TEST_SECRET", "DATABASE_URL", "PATH", "HOME"}
    assert {"HTTP_X_SEEN", "CONTENT_TYPE", "PATH_INFO", "REQUEST_METHOD", "SERVER_NAME"} <= seen


def test_a_request_does_not_carry_process_variables_named_like_headers(worker_env):
    """A process variable named like a header (HTTP_PROXY, often with a proxy's password) is not a header the
    request sent; one the request did send keeps the request's value."""
    script = """
import json, os
from admin_site.wsgi import application
from django.test import RequestFactory
environ = RequestFactory().get("/login/").environ | dict(os.environ) | {
    "SERVER_SOFTWARE": "Granian", "HTTP_X_SENT": "by the client"}
body = b"".join(application(environ, lambda status, headers, exc_info=None: None))
print(json.dumps({name: value for name, value in environ.items() if name.startswith("HTTP_")}))
"""
    env = worker_env | {"HTTP_PROXY": "http://user:secret@proxy:3128", "HTTP_X_SENT": "by the process"}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    headers = json.loads(done.stdout.splitlines()[-1])
    assert "HTTP_PROXY" not in headers
    assert headers["HTTP_X_SENT"] == "by the client"
