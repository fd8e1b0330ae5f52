"""Django's Redis cache with one client per connection pool, and a counter in one short round trip.

Django's `RedisCacheClient.get_client` builds a new `redis.Redis` for every cache call, and each one fills
its table of response callbacks (~170 entries): on the classification API that was most of the CPU of the
cache calls a request makes (the token generation, the throttle's counter). A redis-py client is safe to
share between threads (each command takes a connection from the pool), so one per pool serves them all.

The counter (`count`, `count_and_get`: the classification API's throttle, once per request) goes one step
further: its one command is written and its short reply read on a socket of the thread's own (`_Counter`),
without redis-py's pool, parser and callbacks, which cost ~8 times the CPU of the round trip itself
(0.06 against 0.007 ms back to back, 0.13-0.18 against 0.02-0.04 ms between classifications). Only for
a plain TCP or Unix socket connection: TLS or a credential provider take redis-py's way.
"""

import hashlib
import os
import socket
import threading

from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.connection import Connection, UnixDomainSocketConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

# The first key's counter, created at 0 with a timeout (seconds) when missing, then one more; then the other
# keys' values. A script runs atomically: the counter cannot expire between the two steps (losing its
# timeout), and it is one command: a third of the client's CPU of the MULTI/EXEC pipeline it replaces.
COUNT_SCRIPT = """
redis.call('SET', KEYS[1], 0, 'EX', ARGV[1], 'NX')
local found = {redis.call('INCR', KEYS[1])}
for index = 2, #KEYS do
    found[index] = redis.call('GET', KEYS[index])
end
return found
"""
COUNT_SHA = hashlib.sha1(COUNT_SCRIPT.encode()).hexdigest().encode()


class SharedClientRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            client = self._clients[index] = self._client(connection_pool=self._get_connection_pool(write))
        return client


class SharedClientRedisCache(RedisCache):
    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = SharedClientRedisCacheClient
        self._scripts: dict[int, object] = {}  # per client: the counting script (redis-py's way)
        self._counters: dict[int, _Counter | None] = {}  # per connection pool: the short way, if it can

    def count(self, key: str, timeout: int) -> int:
        """One more under `key` (created at 0 with `timeout` when missing, atomically): the count, this one
        included. One round trip, where Django's `add` + `incr` (EXISTS then INCRBY) make two or three."""
        return self._count(key, timeout)[0]

    def count_and_get(self, key: str, timeout: int, other: str, default=None) -> tuple[int, object]:
        """`count(key, timeout)` and `get(other, default)` in the same round trip (the classification
        shortcut: the throttle's counter and the API tokens' generation)."""
        count, value = self._count(key, timeout, other)
        return count, default if value is None else self._cache._serializer.loads(value)

    def _count(self, key: str, timeout: int, *others: str) -> list:
        """The counter, then the values under `others`, from one Lua script (atomic, one command)."""
        keys = [self.make_and_validate_key(name) for name in (key, *others)]
        index = self._cache._get_connection_pool_index(True)
        try:
            counter = self._counters[index]
        except KeyError:
            counter = self._counters[index] = _Counter.of(self._cache._get_connection_pool(True))
        if counter is not None:
            return counter.count(keys, timeout)
        client = self._cache.get_client(keys[0], write=True)
        script = self._scripts.get(id(client))
        if script is None:
            script = self._scripts[id(client)] = client.register_script(COUNT_SCRIPT)
        found = script(keys=keys, args=[timeout])
        return [int(found[0]), *found[1:]]


def _command(*words: bytes) -> bytes:
    """A command as Redis reads it (RESP: an array of bulk strings)."""
    return b"*%d\r\n" % len(words) + b"".join(b"$%d\r\n%s\r\n" % (len(word), word) for word in words)


class _Counter:
    """COUNT_SCRIPT run on one connection per thread (and process), opened with the pool's settings: the
    command written by hand, its reply (an array of an integer and bulk strings, RESP2) read by hand. A
    broken connection is opened again and the command sent once more (not after a reply timed out: Redis may
    run the command yet, and the request would count twice); a script Redis forgot (restarted, SCRIPT FLUSH)
    is sent whole (EVAL loads it again)."""

    @classmethod
    def of(cls, pool) -> "_Counter | None":
        """The pool's counter, or None when its connections need more than a plain socket (TLS, a
        credential provider, a protocol handshake)."""
        settings = pool.connection_kwargs
        if pool.connection_class not in (Connection, UnixDomainSocketConnection):
            return None
        if settings.get("credential_provider") is not None or settings.get("protocol") not in (None, 2, "2"):
            return None
        return cls(settings)

    def __init__(self, settings: dict) -> None:
        self._settings = settings
        self._local = threading.local()
        # AUTH and SELECT, sent once on each new connection.
        password, username = settings.get("password"), settings.get("username")
        hello = []
        if password is not None:
            words = (username, password) if username else (password,)
            hello.append(_command(b"AUTH", *(str(word).encode() for word in words)))
        hello.append(_command(b"SELECT", str(settings.get("db") or 0).encode()))
        self._hello, self._hellos = b"".join(hello), len(hello)

    def count(self, keys: list[str], timeout: int) -> list:
        tail = [str(len(keys)).encode(), *(key.encode() for key in keys), str(timeout).encode()]
        try:
            return self._call(_command(b"EVALSHA", COUNT_SHA, *tail))
        except ResponseError as error:
            if not str(error).startswith("NOSCRIPT"):
                raise
            return self._call(_command(b"EVAL", COUNT_SCRIPT.encode(), *tail))

    def _call(self, command: bytes) -> list:
        local = self._local
        reader = getattr(local, "reader", None)
        if reader is not None and local.pid == os.getpid():
            try:
                return reader.ask(command)
            except TimeoutError as error:  # sent, and run once Redis is free: not sent again (counted twice)
                self._close()
                raise RedisTimeoutError(f"Redis: {error}") from error
            except OSError:  # closed by Redis meanwhile (idle timeout, restart): open it again, once
                self._close()
        try:
            reader = local.reader = _Reader(self._connect())
            local.pid = os.getpid()
            reader.ask(self._hello, replies=self._hellos)
            return reader.ask(command)
        except OSError as error:
            self._close()
            raise RedisConnectionError(f"Redis: {error}") from error
        except ResponseError:
            self._close()
            raise

    def _connect(self) -> socket.socket:
        settings = self._settings
        if "path" in settings:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(settings.get("socket_connect_timeout") or settings.get("socket_timeout"))
            sock.connect(settings["path"])
        else:
            address = (settings.get("host") or "localhost", int(settings.get("port") or 6379))
            sock = socket.create_connection(address, settings.get("socket_connect_timeout"))
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.settimeout(settings.get("socket_timeout"))
        return sock

    def _close(self) -> None:
        reader = getattr(self._local, "reader", None)
        self._local.reader = None
        if reader is not None:
            reader.sock.close()


class _Reader:
    """Replies read off one socket: integers, bulk strings (or nil), errors and arrays of them."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock, self._buffer = sock, b""

    def ask(self, command: bytes, replies: int = 1):
        """Send `command` (holding `replies` commands) and read its replies; the last one is returned. A
        Redis error raises ResponseError once every reply is read, so the connection stays usable."""
        self.sock.sendall(command)
        found = [self._reply() for _ in range(replies)]
        for reply in found:
            if isinstance(reply, ResponseError):
                raise reply
        return found[-1]

    def _line(self) -> bytes:
        while (end := self._buffer.find(b"\r\n")) < 0:
            self._more()
        line, self._buffer = self._buffer[:end], self._buffer[end + 2 :]
        return line

    def _more(self) -> None:
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionResetError("connection closed by Redis")
        self._buffer += data

    def _reply(self):
        line = self._line()
        kind, rest = line[:1], line[1:]
        if kind == b":":
            return int(rest)
        if kind == b"$":
            size = int(rest)
            if size < 0:
                return None
            while len(self._buffer) < size + 2:
                self._more()
            value, self._buffer = self._buffer[:size], self._buffer[size + 2 :]
            return value
        if kind == b"*":
            size = int(rest)
            return None if size < 0 else [self._reply() for _ in range(size)]
        if kind == b"+":
            return rest
        if kind == b"-":
            return ResponseError(rest.decode(errors="replace"))
        raise ConnectionResetError(f"unexpected reply {line[:40]!r}")  # the stream is lost: a new connection
