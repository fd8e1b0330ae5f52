"""A newcomer's first `make run`, measured: a fresh `git clone` of this repository's current commit, then
`make run` in a terminal (a pseudo-terminal here): the time until the login line is printed, then Ctrl-C
(typed into the terminal, which signals the whole foreground process group as a user's key does) and the
time until make has exited and the port is free again. Also lists what the console showed that a newcomer
should not see ("Error 1", a web server worker killed on the way out, tracebacks, a hanging beat).
Writes bench/results/first_run.md and .json.

Run from the project root:  .venv/bin/python bench/first_run.py [--clone DIR] [--port N]
The clone gets its own .venv (PyPI, pip's cache): the figure includes installing requirements.txt.
"""

import argparse
import os
import pty
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import RESULTS, ROOT, say, write_results  # noqa: E402

UNWANTED = {
    "make error": re.compile(r"make: \*\*\* .*(Error|Interrupt)"),
    # gunicorn said SIGKILL; granian says a worker "refused to gracefully stop" before killing it
    "web worker killed": re.compile(r"SIGKILL|refused to gracefully stop"),
    "traceback": re.compile(r"Traceback \(most recent call last\)"),
}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def _read(fd: int, seconds: float) -> bytes:
    ready, _, _ = select.select([fd], [], [], seconds)
    if not ready:
        return b""
    try:
        return os.read(fd, 65536)
    except OSError:  # the terminal closed: every process on it exited
        return b""


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clone", type=Path, default=Path("/tmp/bunryu-first-run"), help="where to clone")
    parser.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    parser.add_argument("--timeout", type=float, default=900, help="seconds to wait for the login line")
    args = parser.parse_args(argv)
    port = args.port or _free_port()
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    shutil.rmtree(args.clone, ignore_errors=True)
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(args.clone)], check=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "CELERY_", "REDIS_URL"))}
    env |= {"BIND": f"127.0.0.1:{port}", "TERM": "dumb"}
    say(f"make run in {args.clone} on port {port}")
    start = time.monotonic()
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(args.clone)
        os.execvpe("make", ["make", "run"], env)
    output, login_at, stopped_at, free_at = b"", None, None, None
    while time.monotonic() - start < args.timeout and login_at is None:
        output += _read(fd, 1.0)
        if b"bunryu is running on" in output and b"password" in output.split(b"bunryu is running on")[-1]:
            login_at = time.monotonic() - start
    if login_at is None:
        os.kill(pid, signal.SIGKILL)
        raise SystemExit(f"no login line within {args.timeout} s:\n{output.decode(errors='replace')[-3000:]}")
    say(f"login line after {login_at:.1f} s; letting it run 20 s, then Ctrl-C")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        output += _read(fd, 0.5)
    mark = len(output)
    os.write(fd, b"\x03")  # Ctrl-C, as typed
    interrupted = time.monotonic()
    while time.monotonic() - interrupted < 120:
        output += _read(fd, 0.2)
        if stopped_at is None and os.waitpid(pid, os.WNOHANG)[0] == pid:
            stopped_at = time.monotonic() - interrupted
        if free_at is None and _port_free(port):
            free_at = time.monotonic() - interrupted
        if stopped_at is not None and free_at is not None:
            break
    output += _read(fd, 0.5)
    text = output.decode(errors="replace")
    after_interrupt = output[mark:].decode(errors="replace")
    seen = {name: bool(pattern.search(text)) for name, pattern in UNWANTED.items()}
    seen["beat hanging"] = "beat: Shutting down" in after_interrupt and stopped_at is None
    zones = sorted(set(re.findall(r"\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:,\d+)? ?([+-]\d{4})\]", text)))
    results = {
        "commit": commit.stdout.strip(),
        "port": port,
        "seconds_to_login_line": round(login_at, 1),
        "seconds_ctrl_c_to_exit": None if stopped_at is None else round(stopped_at, 1),
        "seconds_ctrl_c_to_free_port": None if free_at is None else round(free_at, 1),
        "unwanted_output": seen,
        "log_time_zones": zones,
        "console_after_ctrl_c": after_interrupt[-2000:],
    }
    targets = {
        "Ctrl-C to free port <= 10 s": free_at is not None and free_at <= 10,
        "Ctrl-C to exit <= 10 s": stopped_at is not None and stopped_at <= 10,
        "no unwanted output": not any(seen.values()),
        "one time zone in the console": len(zones) <= 1,
    }
    results["verdicts"] = {name: "pass" if ok else "FAIL" for name, ok in targets.items()}
    results["failed_targets"] = [name for name, ok in targets.items() if not ok]
    lines = [
        "# A newcomer's first `make run`",
        "",
        f"Fresh `git clone` of commit {results['commit']}, `make run` in a pseudo-terminal "
        f"(`.venv/bin/python bench/first_run.py`), BIND=127.0.0.1:{port}; includes creating .venv and "
        "installing requirements.txt (PyPI through pip's cache), migrating, collecting static files and "
        "loading the demo.",
        "",
        "| figure | value |",
        "|---|---|",
        f"| to the login line | {results['seconds_to_login_line']} s |",
        f"| Ctrl-C to make exiting | {results['seconds_ctrl_c_to_exit']} s |",
        f"| Ctrl-C to a free port | {results['seconds_ctrl_c_to_free_port']} s |",
        f"| time zones in log lines | {', '.join(zones) or 'none with an offset'} |",
        *(f"| {name} seen | {'yes' if found else 'no'} |" for name, found in seen.items()),
        "",
        "| target | verdict |",
        "|---|---|",
        *(f"| {name} | {verdict} |" for name, verdict in results["verdicts"].items()),
        "",
        "Console after Ctrl-C:",
        "",
        "```",
        after_interrupt[-1500:].replace("\r", "").strip(),
        "```",
    ]
    write_results(RESULTS, "first_run", results, "\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
