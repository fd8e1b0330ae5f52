"""The Redis cache's counter (core/cache.py): the classification throttle's window and, in the same round
trip, the API tokens' generation."""

import threading
import time

import pytest
from django.core.cache import cache
from redis.exceptions import RedisError, ResponseError

from core.cache import _Counter

pytestmark = pytest.mark.skipif(not hasattr(cache, "count"), reason="needs the Redis cache")


def _ttl(key: str) -> int:
    return cache._cache.get_client(write=True).ttl(cache.make_and_validate_key(key))


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def test_a_counter_starts_at_one_with_its_timeout_and_counts_on():
    assert [cache.count("window", 30) for _ in range(3)] == [1, 2, 3]
    assert 0 < _ttl("window") <= 30  # created with the timeout; counting does not move it
    cache.set("window", 7, timeout=5)
    assert cache.count("window", 30) == 8 and _ttl("window") <= 5


def test_counting_reads_another_key_in_the_same_call():
    assert cache.count_and_get("window", 30, "generation", 0) == (1, 0)  # missing: the default
    cache.set("generation", 4, timeout=None)
    assert cache.count_and_get("window", 30, "generation", 0) == (2, 4)
    cache.set("generation", {"any": "value"}, timeout=None)  # read as `get` reads it
    assert cache.count_and_get("window", 30, "generation") == (3, {"any": "value"})


def test_the_script_is_loaded_again_when_redis_forgot_it():
    assert cache.count("window", 30) == 1
    cache._cache.get_client(write=True).script_flush()  # a restarted Redis knows no scripts
    assert cache.count_and_get("window", 30, "generation", 0) == (2, 0)


def test_a_connection_redis_closed_is_opened_again_and_counts_once():
    assert cache.count("window", 30) == 1
    assert all(isinstance(counter, _Counter) for counter in cache._counters.values())  # the short way
    killed = cache._cache.get_client(write=True).client_kill_filter(_type="normal", skipme=True)
    assert killed >= 1  # the counter's own connection among them
    assert cache.count_and_get("window", 30, "generation", 0) == (2, 0)
    assert cache.count("window", 30) == 3


def test_threads_count_on_their_own_connections_without_losing_a_count():
    def count_many():
        for _ in range(50):
            cache.count("window", 30)

    threads = [threading.Thread(target=count_many) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert cache.count("window", 30) == 8 * 50 + 1


def test_a_redis_error_is_raised_and_the_connection_still_counts():
    cache.set("window", "not a number", timeout=30)
    with pytest.raises(ResponseError, match="not an integer"):
        cache.count("window", 30)
    assert cache.count_and_get("other-window", 30, "generation", 0) == (1, 0)


BUSY_SCRIPT = """
local start = redis.call('TIME')
repeat
  local now = redis.call('TIME')
until (now[1] - start[1]) * 1000000 + (now[2] - start[2]) > tonumber(ARGV[1])
return 1
"""


def test_a_count_whose_reply_timed_out_is_not_sent_again():
    # The command was sent and Redis runs it once it is free: sending it again on a new connection (as for
    # a connection Redis closed) would count the request twice. redis-py does not retry it either.
    client = cache._cache.get_client(write=True)
    pool = cache._cache._get_connection_pool(True)
    counter = _Counter(dict(pool.connection_kwargs, socket_timeout=0.4))
    key = cache.make_and_validate_key("window")
    assert counter.count([key], 30) == [1]  # connected
    busy = threading.Thread(target=client.eval, args=(BUSY_SCRIPT, 0, 1_500_000))  # Redis busy for 1.5 s
    busy.start()
    time.sleep(0.3)  # the script under way (a resent count would connect again at ~0.7 s and go through)
    with pytest.raises(RedisError):
        counter.count([key], 30)  # times out at ~0.7 s, while Redis is still busy
    busy.join()
    time.sleep(0.1)
    assert int(client.get(key)) == 2  # counted once
    assert counter.count([key], 30) == [3]  # and the counter connects again
