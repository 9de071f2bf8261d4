"""The rate limit across two real API processes on one data dir: the budget is the instance's, not each
process's, whether the counters live in the embedded store or in Redis."""

from __future__ import annotations

import os

import httpx
import pytest

from tests.live import LiveServer, free_port
from tests.postgres import own_redis_prefix

REDIS_URL = os.environ.get("STARLING_TEST_REDIS_URL", "")

pytestmark = pytest.mark.slow


def _two_servers(tmp_path, extra: dict[str, str]) -> tuple[LiveServer, LiveServer]:
    env = {"STARLING_TRUSTED_PROXIES": "127.0.0.1", "STARLING_RATELIMIT_EXEMPT_LOOPBACK": "false",
           "STARLING_RATELIMIT_READS_PER_IP": "10/5m", **extra}
    data = tmp_path / "data"
    first = LiveServer(data_dir=data, port=free_port(), domain="starling.test", extra_env=env)
    second = LiveServer(data_dir=data, port=free_port(), domain="starling.test", extra_env=env)
    return first, second


def _hammer(first: LiveServer, second: LiveServer, address: str, times: int) -> list[int]:
    codes = []
    with httpx.Client(timeout=10) as http:
        for n in range(times):
            server = first if n % 2 == 0 else second
            codes.append(http.get(server.url("/api/v1/timelines/public"),
                                  headers={"X-Forwarded-For": address}).status_code)
    return codes


def _run(tmp_path, extra: dict[str, str]) -> None:
    first, second = _two_servers(tmp_path, extra)
    first.start()
    try:
        second.start()
        try:
            codes = _hammer(first, second, "198.51.100.7", 16)
            # Ten in the window for the whole instance, not ten per process.
            assert codes.count(200) == 10, codes
            assert codes[10:] == [429] * 6
            # Another client is unaffected on either process.
            assert _hammer(first, second, "198.51.100.8", 2) == [200, 200]
        finally:
            second.stop()
    finally:
        first.stop()


def test_two_processes_share_the_embedded_store(tmp_path):
    _run(tmp_path, {"STARLING_REDIS_URL": ""})  # no Redis, even on the PostgreSQL pass
    assert (tmp_path / "data" / "counters.sqlite3").exists()


@pytest.mark.skipif(not REDIS_URL, reason="STARLING_TEST_REDIS_URL is not set")
def test_two_processes_share_redis(tmp_path):
    import redis

    prefix = own_redis_prefix()  # every key under it is deleted when the test ends
    _run(tmp_path, {"STARLING_REDIS_URL": REDIS_URL, "STARLING_REDIS_PREFIX": prefix})
    client = redis.Redis.from_url(REDIS_URL)
    try:
        assert client.keys(prefix + "rl:*"), "the counters were not in Redis"
    finally:
        client.close()
    assert not (tmp_path / "data" / "counters.sqlite3").exists()
