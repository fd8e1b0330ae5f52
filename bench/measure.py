"""Measuring helpers: wall time with a per-function / per-SQL breakdown, sizes, memory, machine facts."""

import datetime
import functools
import importlib
import os
import platform
import re
import resource
import statistics
import subprocess
import time
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import django
from django.db import DEFAULT_DB_ALIAS, connection, connections


@dataclass
class Span:
    """Wall time of one measured step, with where the time went (inclusive times, may nest)."""

    seconds: float = 0.0
    calls: dict[str, list] = field(default_factory=lambda: defaultdict(lambda: [0, 0.0]))
    sql: dict[str, list] = field(default_factory=lambda: defaultdict(lambda: [0, 0.0]))

    def breakdown(self) -> dict:
        database_seconds = sum(seconds for _, seconds in self.sql.values())
        return {
            "seconds": round(self.seconds, 4),
            "database_seconds": round(database_seconds, 4),
            "functions": {
                name: {"calls": calls, "seconds": round(seconds, 4)}
                for name, (calls, seconds) in sorted(self.calls.items(), key=lambda item: -item[1][1])
            },
            "sql": {
                name: {"statements": calls, "seconds": round(seconds, 4)}
                for name, (calls, seconds) in sorted(self.sql.items(), key=lambda item: -item[1][1])
            },
        }


_TABLE = re.compile(r"\b(?:FROM|INTO|UPDATE)\s+\"?(\w+)\"?", re.IGNORECASE)


def _sql_label(sql: str) -> str:
    words = sql.lstrip().split(None, 1)
    verb = words[0].upper() if words else "?"
    if verb in {"SAVEPOINT", "RELEASE", "ROLLBACK", "COMMIT", "BEGIN", "SET", "SHOW"}:
        return verb
    table = _TABLE.search(sql)
    return f"{verb} {table.group(1) if table else '?'}"


class Profiler:
    """Times steps; meanwhile wraps named functions and every SQL execute to say where the time went.

    Function times are inclusive (dataset_commit contains its working_state call). SQL times are those of
    execute() calls: rows fetched later through a server-side cursor (QuerySet.iterator) count as Python.
    """

    def __init__(self) -> None:
        self.current: Span | None = None
        self._patched: list[tuple[object, str, object]] = []

    def instrument(self, module_name: str, *names: str, prefix: str = "") -> list[str]:
        """Wrap those of `names` that `module_name` has (the code measured may rename them); say which.

        Times are recorded under `prefix + name` (a prefix tells apart two modules' references to one
        function, e.g. the contents' and the examples' `insert_with_history`)."""
        module = importlib.import_module(module_name)
        found = []
        for name in names:
            original = getattr(module, name, None)
            if not callable(original):
                continue
            found.append(name)
            wrapped = (
                original
                if getattr(original, "_bench_wrapped", False)
                else self._wrap(prefix + name, original)
            )
            self._patched.append((module, name, original))
            setattr(module, name, wrapped)
        return found

    def _wrap(self, name: str, function):
        profiler = self

        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            span = profiler.current
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                if span is not None:
                    entry = span.calls[name]
                    entry[0] += 1
                    entry[1] += time.perf_counter() - start

        wrapper._bench_wrapped = True
        return wrapper

    def restore(self) -> None:
        for module, name, original in reversed(self._patched):
            setattr(module, name, original)
        self._patched.clear()

    def instrument_commit(self) -> None:
        """Time COMMITs too: Django's deferred foreign-key checks run there, outside any execute()."""
        wrapper = connections[DEFAULT_DB_ALIAS]
        original = wrapper._commit
        profiler = self

        def _commit():
            span = profiler.current
            start = time.perf_counter()
            try:
                return original()
            finally:
                if span is not None:
                    entry = span.sql["COMMIT (deferred FK checks)"]
                    entry[0] += 1
                    entry[1] += time.perf_counter() - start

        wrapper._commit = _commit
        self._patched.append((wrapper, "_commit", original))

    def _sql_wrapper(self, execute, sql, params, many, context):
        span = self.current
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            if span is not None:
                entry = span.sql[_sql_label(sql)]
                entry[0] += 1
                entry[1] += time.perf_counter() - start

    @contextmanager
    def step(self):
        span = Span()
        outer, self.current = self.current, span
        start = time.perf_counter()
        try:
            with connection.execute_wrapper(self._sql_wrapper):
                yield span
        finally:
            span.seconds = time.perf_counter() - start
            self.current = outer


def median(values: list[float]) -> float:
    return statistics.median(values)


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def proc_stat(pid: int) -> list[str] | None:
    """The fields of /proc/<pid>/stat after the command's name (fields[0] is the state, field 3 of stat(5):
    ppid [1], utime [11], stime [12], cutime [13], cstime [14], rss pages [21]); None when it is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of one process (0.0 when it is gone)."""
    fields = proc_stat(pid)
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS if fields else 0.0


def peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB


def reset_peak_rss() -> bool:
    """Start a new peak: Linux resets the high-water mark getrusage reports when 5 goes to clear_refs."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as clear_refs:
            clear_refs.write("5")
    except OSError:
        return False
    return True


def table_size(table: str) -> dict[str, int]:
    """Bytes on disk: heap, indexes, TOAST and total (pg_total_relation_size) of one table."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_relation_size(%s), pg_indexes_size(%s), pg_total_relation_size(%s)",
            [table, table, table],
        )
        heap, indexes, total = cursor.fetchone()
        cursor.execute(f"SELECT count(*) FROM {connection.ops.quote_name(table)}")
        (rows,) = cursor.fetchone()
        cursor.execute(
            "SELECT c.relname, pg_relation_size(i.indexrelid) FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid WHERE i.indrelid = %s::regclass ORDER BY 2 DESC",
            [table],
        )
        index_sizes = dict(cursor.fetchall())
    return {
        "heap": heap,
        "indexes": indexes,
        "toast_and_other": total - heap - indexes,
        "total": total,
        "rows": rows,
        "index_sizes": index_sizes,
    }


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ram_bytes() -> int:
    try:
        with open("/proc/meminfo", encoding="utf-8") as meminfo:
            for line in meminfo:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def code_version(root: Path) -> dict:
    """The commit measured and the files changed on top of it (another engineer may be editing)."""

    def git(*args: str) -> str:
        try:
            done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=30)
        except (OSError, subprocess.SubprocessError):
            return ""
        return done.stdout if done.returncode == 0 else ""

    status = git("status", "--porcelain", "--untracked-files=all", "--", "labeling", "admin_site")
    changed = [line[3:] for line in status.splitlines() if len(line) > 3]
    return {"commit": git("rev-parse", "--short", "HEAD").strip() or "unknown", "uncommitted_files": changed}


def machine_facts() -> dict:
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        (server_version,) = cursor.fetchone()
        settings = {}
        for name in ("shared_buffers", "work_mem", "fsync", "synchronous_commit", "max_parallel_workers"):
            cursor.execute(f"SHOW {name}")
            settings[name] = cursor.fetchone()[0]
    return host_facts() | {"postgresql": server_version, "postgresql_settings": settings}


def host_facts() -> dict:
    """The machine and the Python it runs (no database needed)."""
    return {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "host": platform.node(),
        "cpu_model": _cpu_model(),
        "cpu_cores": os.cpu_count(),
        "cpu_cores_usable": len(os.sched_getaffinity(0)),
        "load_average": " ".join(f"{load:.1f}" for load in os.getloadavg()),
        "ram_bytes": _ram_bytes(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "django": django.get_version(),
    }
