"""Test wiring: the real PostgreSQL, Redis, Celery worker and Chromium that `make test` provides."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in the test thread; the ORM calls beside it are still sync.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


POSTGRESQL = os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))
NEEDS_DATABASE = {"db", "transactional_db", "django_db_setup", "live_server", "live_worker", "worker_env"}


def pytest_collection_modifyitems(config, items):
    """Tests using the live worker are `integration`, tests driving Chromium are `browser`, whether or not
    they say so. Without PostgreSQL (no `make test`) only the pure tests run; the rest are skipped."""
    skip = pytest.mark.skip(reason="needs PostgreSQL, Redis and a worker: run it with `make test`")
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if "live_worker" in fixtures and not item.get_closest_marker("integration"):
            item.add_marker(pytest.mark.integration)
        if fixtures & {"page", "browser"} and not item.get_closest_marker("browser"):
            item.add_marker(pytest.mark.browser)
        if not POSTGRESQL and (item.get_closest_marker("django_db") or fixtures & NEEDS_DATABASE):
            item.add_marker(skip)


def wait_until(condition, *, timeout: float, what: str, every: float = 0.1):
    """Poll `condition()` until it returns something true (returned), or fail after `timeout` seconds
    saying `what` was awaited: the tests' only way to wait for a worker or a thread."""
    deadline = time.monotonic() + timeout
    while True:
        found = condition()
        if found:
            return found
        if time.monotonic() >= deadline:
            raise AssertionError(f"waited {timeout} s for {what}")
        time.sleep(every)


@pytest.fixture(scope="session", autouse=True)
def _no_collected_static_files(tmp_path_factory):
    """The test server (started once a session, before any test's settings) serves the static files of the
    tree through WhiteNoise's finders, never a copy `make run` collected into var/staticfiles."""
    from django.conf import settings

    settings.STATIC_ROOT = tmp_path_factory.mktemp("static-root")
    settings.WHITENOISE_USE_FINDERS = True


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    settings.MODEL_DIR = tmp_path / "models"
    # PBKDF2 is slow on purpose; tests create hundreds of users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Requests write their prediction log rows themselves: a writer thread's own connection would not see
    # the rows of a test's transaction (tests/training/test_prediction_log.py tests the buffered writer).
    settings.PREDICTION_LOG_BUFFER_SECONDS = 0
    # Pages name static files without their hash: the test server finds them in the app folders, no
    # `collectstatic` needed (tests/test_static_files.py tests the hashed, compressed files of `make run`).
    settings.STORAGES = settings.STORAGES | {
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    }


def _worker_env() -> dict[str, str]:
    from django.db import connection

    db = connection.settings_dict  # points at the test database once django_db_setup ran
    url = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    return os.environ | {"DATABASE_URL": url}


def _wait_for_worker(name: str, process: subprocess.Popen, log: Path) -> None:
    from admin_site.celery import app

    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"Celery worker exited:\n{log.read_text()[-4000:]}")
        if app.control.ping(destination=[name], timeout=1.0):
            return
    raise RuntimeError(f"Celery worker did not answer within 90 s:\n{log.read_text()[-4000:]}")


def start_worker(
    env: dict, folder: Path, *, queues: str = "celery,training", concurrency: int = 2
) -> tuple[subprocess.Popen, str]:
    """Start a Celery worker in its own process group (a test may kill it whole); wait until it answers."""
    name = f"test-{uuid.uuid4().hex[:8]}@localhost"
    log = folder / f"{name}.log"
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "admin_site",
        "worker",
        "--pool=prefork",
        f"--concurrency={concurrency}",
    ]
    command += [f"--queues={queues}", "--without-gossip", "--without-mingle", "-n", name, "-l", "INFO"]
    with log.open("w") as out:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    _wait_for_worker(name, process, log)
    return process, name


def stop_worker(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@pytest.fixture(scope="session")
def worker_env(django_db_setup, django_db_blocker, tmp_path_factory) -> dict:
    """Environment of test workers: the test database, and model files in a temporary folder."""
    with django_db_blocker.unblock():
        return _worker_env() | {"MODEL_DIR": str(tmp_path_factory.mktemp("worker-models"))}


def classify_status(url: str, token: str, text: str, *, timeout: float = 30) -> int:
    """The HTTP status a served site answers to one text sent for classification (0: nothing answered)."""
    request = urllib.request.Request(
        url,
        data=json.dumps({"text": text}).encode(),
        headers={"Authorization": f"Token {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:  # no worker to answer (yet)
        return 0


def start_site(env: dict, folder: Path, *, workers: int = 1) -> tuple[subprocess.Popen, str]:
    """The site served as `make run` and production serve it (scripts/serve.sh) on a free loopback port, in
    its own process group; returns once it answers: (the server's process, its base URL)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base, log = f"http://127.0.0.1:{port}", folder / f"site-{port}.log"
    env = env | {"BIND": f"127.0.0.1:{port}", "WEB_WORKERS": str(workers)}
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(ROOT / "scripts/serve.sh")],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()[-3000:]
        try:
            urllib.request.urlopen(f"{base}/api/v1/", timeout=10).close()
            return process, base
        except urllib.error.HTTPError:  # answering (401: no credentials)
            return process, base
        except OSError:  # not listening yet, or still starting
            time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)
    raise AssertionError(f"the site did not answer within 60 s:\n{log.read_text()[-3000:]}")


def stop_site(process: subprocess.Popen) -> int:
    """SIGTERM (a graceful stop) and its exit status; the whole group is killed if it takes over 30 s."""
    process.terminate()
    try:
        return process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        raise


@pytest.fixture(scope="session")
def _session_worker(worker_env, tmp_path_factory):
    process, name = start_worker(worker_env, tmp_path_factory.mktemp("worker"))
    try:
        yield process, name
    finally:
        stop_worker(process)


def _wait_until_idle(name: str, timeout: float = 120) -> None:
    """Let the worker finish what a test queued (e.g. background indexing after an import) before the
    database is flushed under it."""
    from admin_site.celery import app

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        inspect = app.control.inspect(destination=[name], timeout=1.0)
        busy = [
            tasks for reply in (inspect.active() or {}, inspect.reserved() or {}) for tasks in reply.values()
        ]
        with app.connection() as connection:
            queued = sum(connection.default_channel.client.llen(queue) for queue in ("celery", "training"))
        if not any(busy) and not queued:
            return
        time.sleep(0.3)


@pytest.fixture
def live_worker(_session_worker):
    """A real Celery worker process on the test Redis, reading and writing the test database.

    Tests that use it must commit their data (`django_db(transaction=True)`) so the worker sees it.
    """
    process, name = _session_worker
    yield process
    _wait_until_idle(name)


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="ko-KR")
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()
