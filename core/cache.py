"""Django's Redis cache with one client per connection pool.

Django's `RedisCacheClient.get_client` builds a new `redis.Redis` for every cache call, and each one fills
its table of response callbacks (~170 entries): on the classification API that was most of the CPU of the
cache calls a request makes (the token generation, the throttle's counter). A redis-py client is safe to
share between threads (each command takes a connection from the pool), so one per pool serves them all.
"""

from django.core.cache.backends.redis import RedisCache, RedisCacheClient

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
        self._scripts: dict[int, object] = {}  # per client: the counting script

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
        client = self._cache.get_client(keys[0], write=True)
        script = self._scripts.get(id(client))
        if script is None:
            script = self._scripts[id(client)] = client.register_script(COUNT_SCRIPT)
        found = script(keys=keys, args=[timeout])
        return [int(found[0]), *found[1:]]
