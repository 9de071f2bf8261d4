"""Rate limits in one process: families, headers, 429s, who is counted, trusted proxies, the stores."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import time

import httpx
import pytest

from starling.app import create_app
from starling.safety import counters, ratelimit
from starling.safety.ratelimit import TrustedProxies, address_key, family_of, parse_limit
from tests.live import free_port

REDIS_URL = os.environ.get("STARLING_TEST_REDIS_URL", "")
requires_redis = pytest.mark.skipif(not REDIS_URL, reason="STARLING_TEST_REDIS_URL is not set")


@pytest.fixture
def settings(settings):
    settings.ratelimit_exempt_loopback = False
    settings.ratelimit_reads_per_token = "5/5m"
    settings.ratelimit_reads_per_account = "8/5m"
    settings.ratelimit_reads_per_ip = "4/5m"
    settings.ratelimit_sign_up_per_ip = "2/30m"
    settings.trusted_proxies = "127.0.0.1/32"
    return settings


def test_limit_specs():
    assert parse_limit("300/5m") == (300, 300)
    assert parse_limit("5/30m") == (5, 1800)
    assert parse_limit("10 / 1h") == (10, 3600)
    assert parse_limit("7/20") == (7, 20)
    assert parse_limit("0") is None
    for bad in ("300", "x/5m", "5/0", "0/5m", "5/5w"):
        with pytest.raises(ValueError):
            parse_limit(bad)


def test_families():
    assert family_of("GET", "/api/v1/timelines/home") == "reads"
    assert family_of("POST", "/api/v1/statuses") == "writes"
    assert family_of("DELETE", "/api/v1/statuses/1") == "writes"
    assert family_of("GET", "/api/v2/search") == "search"
    assert family_of("POST", "/api/v2/media") == "media"
    assert family_of("POST", "/api/v1/accounts") == "sign_up"
    assert family_of("POST", "/oauth/token") == "log_in"
    assert family_of("POST", "/oauth/authorize") == "log_in"
    assert family_of("GET", "/") == "reads"  # web pages too, signed in by their session cookie
    assert family_of("POST", "/auth/sign_up") == "sign_up"
    assert family_of("POST", "/auth/sign_in") == "log_in"
    assert family_of("POST", "/statuses") == "writes"
    assert family_of("GET", "/search") == "search"
    assert family_of("GET", "/health") is None
    assert family_of("GET", "/static/starling.css") is None
    assert family_of("OPTIONS", "/api/v1/timelines/home") is None


def test_client_address_behind_trusted_proxies_only():
    proxies = TrustedProxies("10.0.0.0/8, 127.0.0.1")
    assert proxies.client("127.0.0.1", "203.0.113.7") == "203.0.113.7"
    # The right-most untrusted hop wins: a client cannot choose its address by sending the header itself.
    assert proxies.client("127.0.0.1", "198.51.100.1, 203.0.113.7, 10.1.2.3") == "203.0.113.7"
    assert proxies.client("192.0.2.5", "203.0.113.7") == "192.0.2.5"  # not a proxy of ours
    assert proxies.client("127.0.0.1", "not-an-address") == "127.0.0.1"
    assert TrustedProxies("").client("127.0.0.1", "203.0.113.7") == "127.0.0.1"


def test_ipv6_counted_per_64():
    assert address_key("2001:db8:1:2:aaaa::1") == address_key("2001:db8:1:2:bbbb::9") == "2001:db8:1:2::/64"
    assert address_key("2001:db8:1:3::1") != address_key("2001:db8:1:2::1")
    assert address_key("::ffff:192.0.2.1") == "192.0.2.1"
    assert address_key("192.0.2.1") == "192.0.2.1"


def _from(ip: str, headers: dict | None = None) -> dict:
    return {"X-Forwarded-For": ip, **(headers or {})}


async def test_headers_on_every_api_response(client, cast):
    for path, headers in (("/api/v1/timelines/public", _from("192.0.2.1")),
                          ("/api/v1/timelines/home", _from("192.0.2.2", cast.alice.headers)),
                          ("/api/v1/statuses/12345", _from("192.0.2.3"))):
        response = await client.get(path, headers=headers)
        assert response.headers["X-RateLimit-Limit"] == "4" or response.headers["X-RateLimit-Limit"] == "5"
        assert int(response.headers["X-RateLimit-Remaining"]) >= 0
        assert response.headers["X-RateLimit-Reset"].endswith("Z")
    static = await client.get("/static/starling.css", headers=_from("192.0.2.1"))
    assert "X-RateLimit-Limit" not in static.headers


async def test_logged_out_limit_per_address(client):
    seen = []
    for _ in range(6):
        response = await client.get("/api/v1/timelines/public", headers=_from("198.51.100.20"))
        seen.append(response.status_code)
        remaining = response.headers["X-RateLimit-Remaining"]
    assert seen == [200, 200, 200, 200, 429, 429]
    assert remaining == "0"
    assert response.json() == {"error": "Too many requests"}
    assert 1 <= int(response.headers["Retry-After"]) <= 300
    # Another address has its own budget; the same /64 shares one.
    assert (await client.get("/api/v1/timelines/public", headers=_from("198.51.100.21"))).status_code == 200
    for n in range(4):
        ok = await client.get("/api/v1/timelines/public", headers=_from(f"2001:db8:5:6::{n + 1}"))
        assert ok.status_code == 200
    assert (await client.get("/api/v1/timelines/public", headers=_from("2001:db8:5:6:ffff::1"))).status_code == 429
    assert (await client.get("/api/v1/timelines/public", headers=_from("2001:db8:5:7::1"))).status_code == 200


async def test_forwarded_for_ignored_from_untrusted_peer(app, client, settings):
    settings.trusted_proxies = ""
    other = create_app(settings, run_worker=False)
    try:
        transport = httpx.ASGITransport(app=other, client=("192.0.2.99", 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            codes = [(await http.get("/api/v1/timelines/public", headers=_from(f"203.0.113.{n}"))).status_code
                     for n in range(6)]
    finally:
        await other.state.ctx.close()
    assert codes == [200, 200, 200, 200, 429, 429]  # one peer, whatever the header claims


async def test_token_then_account_limits(client, ctx, cast):
    from starling.accounts import service as accounts

    alice = _from("192.0.2.50", cast.alice.headers)
    codes = [(await client.get("/api/v1/timelines/home", headers=alice)).status_code for _ in range(6)]
    assert codes == [200] * 5 + [429]
    # A second token for the same account has its own token budget, but the account's is shared (8).
    # A token's account is learnt from its first answer, so that first request is not counted for the
    # account: the first token spent 5 of the 8, the second spends 3 after its first request.
    async with ctx.db.write() as session:
        second = await accounts.issue_token(session, account_id=cast.alice.id, scopes="read")
    other = _from("192.0.2.51", {"Authorization": f"Bearer {second}"})
    codes = [(await client.get("/api/v1/timelines/home", headers=other)).status_code for _ in range(5)]
    assert codes == [200, 200, 200, 200, 429]
    # Bob is untouched, from the same address.
    bob = _from("192.0.2.50", cast.bob.headers)
    assert (await client.get("/api/v1/timelines/home", headers=bob)).status_code == 200


async def test_unknown_tokens_spend_the_address_budget(client):
    codes = [(await client.get("/api/v1/timelines/home",
                               headers=_from("192.0.2.60", {"Authorization": f"Bearer made-up-{n}"}))).status_code
             for n in range(6)]
    assert codes == [401, 401, 401, 401, 429, 429]


async def test_refused_before_any_database_work(client, ctx, cast):
    """A refused request never reaches a route: with the database closed it still gets its 429."""
    for _ in range(4):
        await client.get("/api/v1/timelines/public", headers=_from("192.0.2.70"))
    await ctx.db.dispose()

    def broken(*_args, **_kwargs):
        raise AssertionError("the database was used")

    ctx.db.read = ctx.db.reads = ctx.db.write = broken
    response = await client.get("/api/v1/timelines/public", headers=_from("192.0.2.70"))
    assert response.status_code == 429


async def test_sign_up_family(client):
    codes = [(await client.post("/api/v1/accounts", headers=_from("192.0.2.80"), json={})).status_code
             for _ in range(3)]
    assert codes[:2] != [429, 429] and codes[2] == 429


async def test_loopback_is_counted_not_refused(client, settings, app):
    settings.trusted_proxies = ""
    settings.ratelimit_exempt_loopback = True
    other = create_app(settings, run_worker=False)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=other), base_url="http://testserver") as http:
            responses = [await http.get("/api/v1/timelines/public") for _ in range(6)]
    finally:
        await other.state.ctx.close()
    assert [r.status_code for r in responses] == [200] * 6
    assert responses[-1].headers["X-RateLimit-Remaining"] == "0"


def test_local_store_is_shared_between_connections(tmp_path):
    one = counters.LocalCounters(tmp_path / "c.sqlite3")
    two = counters.LocalCounters(tmp_path / "c.sqlite3")
    assert one.increment([("a", 1, 60), ("b", 5, 60)]) == [1, 5]
    assert two.increment([("a", 1, 60)]) == [2]
    assert one.peek(["a", "b", "c"]) == [2, 5, 0]
    assert one.claim("once", 60) is True
    assert two.claim("once", 60) is False


def _tallies(tmp_path, n: int) -> list[counters.Tally]:
    """`n` processes' batched views of one embedded store (each its own connection, as processes have)."""
    return [counters.Tally(counters.Counters(None, counters.LocalCounters(tmp_path / "c.sqlite3")))
            for _ in range(n)]


async def test_batched_counts_reach_the_store_in_one_flush(tmp_path):
    one, two = _tallies(tmp_path, 2)
    store = counters.LocalCounters(tmp_path / "c.sqlite3")
    assert await one.add([("a", 1, 60, 100), ("b", 2, 60, 100)]) == [1, 2]
    assert await one.add([("a", 1, 60, 100)]) == [2]
    assert store.peek(["a", "b"]) == [0, 0]  # counted in the process, not yet in the store
    await one.flush()
    assert store.peek(["a", "b"]) == [2, 2]
    assert await two.peek("a") == 2  # another process sees them after the flush
    assert await two.add([("a", 1, 60, 100)]) == [3]


async def test_a_counter_past_its_batch_limit_is_counted_exactly(tmp_path):
    one, two = _tallies(tmp_path, 2)
    assert await one.add([("k", 1, 60, 2)]) == [1]
    assert await two.add([("k", 1, 60, 2)]) == [1]
    assert await two.add([("k", 1, 60, 2)]) == [2]
    assert await one.add([("k", 1, 60, 2)]) == [2]
    # Beyond its batch limit a call goes to the store at once, with what this process held back.
    assert await two.add([("k", 1, 60, 2)]) == [3]
    assert await one.add([("k", 1, 60, 2)]) == [6]
    assert await two.add([("k", 1, 60, 2)]) == [7]


@pytest.mark.parametrize("processes", [2, 4])
async def test_a_limit_does_not_grow_with_the_number_of_processes(tmp_path, processes):
    """Requests spread over several processes, faster than any flush: no more are admitted than the
    limit plus, for each other process, the quarter of it that process may hold back (docs/safety.md)."""
    limit = 40
    batch = int(limit * counters.BATCH_SHARE)
    tallies = _tallies(tmp_path, processes)
    admitted = 0
    for n in range(limit * 3):
        (count,) = await tallies[n % processes].add([("rl", 1, 60, batch)])
        admitted += count <= limit
    assert limit <= admitted <= limit + (processes - 1) * batch
    if processes == 2:
        assert admitted == limit


@requires_redis
async def test_redis_store(tmp_path):
    from starling.infra import redis as redis_infra

    client = redis_infra.connect(REDIS_URL)
    store = counters.Counters(client, counters.LocalCounters(tmp_path / "c.sqlite3"))
    key = f"starling-test:{os.getpid()}:{time.time_ns()}"
    try:
        assert await store.increment([(key + "a", 1, 30), (key + "b", 2, 30)]) == [1, 2]
        assert await store.increment([(key + "a", 1, 30)]) == [2]
        assert 0 < await client.ttl(key + "a") <= 30
        assert await store.peek([key + "a", key + "zz"]) == [2, 0]
        assert await store.claim(key + "c", 30) is True
        assert await store.claim(key + "c", 30) is False
        assert store.fallbacks == 0
    finally:
        await client.delete(key + "a", key + "b", key + "c")
        await client.aclose()


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed")
async def test_redis_down_falls_back_to_the_local_store(tmp_path):
    from starling.infra import redis as redis_infra

    port = free_port()
    server = subprocess.Popen(["redis-server", "--port", str(port), "--save", "", "--appendonly", "no",
                               "--dir", str(tmp_path)], stdout=subprocess.DEVNULL)
    client = redis_infra.connect(f"redis://127.0.0.1:{port}/0")
    try:
        for _ in range(50):
            try:
                await client.ping()
                break
            except Exception:
                await asyncio.sleep(0.1)
        store = counters.Counters(client, counters.LocalCounters(tmp_path / "c.sqlite3"))
        assert await store.increment([("k", 1, 30)]) == [1]
        assert await client.get("k") == b"1"
        server.terminate()
        server.wait(timeout=10)
        assert await store.increment([("k", 1, 30)]) == [1]  # counted locally, not waved through
        assert await store.increment([("k", 1, 30)]) == [2]
        assert store.fallbacks == 1
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        await client.aclose()


async def test_limiter_with_redis_context(tmp_path, settings):
    if not REDIS_URL:
        pytest.skip("STARLING_TEST_REDIS_URL is not set")
    settings.redis_url = REDIS_URL
    settings.redis_prefix = f"starling-test-{time.time_ns()}:"
    app = create_app(settings, run_worker=False)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
            codes = [(await http.get("/api/v1/timelines/public", headers=_from("192.0.2.90"))).status_code
                     for _ in range(5)]
        keys = await app.state.ctx.redis.keys(settings.redis_prefix + "rl:*")
        assert keys and all(k.startswith(settings.redis_prefix.encode()) for k in keys)
        await app.state.ctx.redis.delete(*keys)
    finally:
        await app.state.ctx.close()
    assert codes == [200, 200, 200, 200, 429]
    assert ratelimit.RateLimiter  # the middleware counted in Redis, not in the local file
    assert not (settings.data_dir / "counters.sqlite3").exists()


async def test_a_spent_limit_refuses_without_the_store(client, ctx):
    """Once a limit is used up, this process refuses the rest of its window from memory: a flood costs
    no counter write."""
    for _ in range(5):
        await client.get("/api/v1/timelines/public", headers=_from("192.0.2.110"))

    class Broken:
        async def increment(self, items):
            raise AssertionError("the store was used")

    ctx.extras["safety.counters"] = Broken()
    response = await client.get("/api/v1/timelines/public", headers=_from("192.0.2.110"))
    assert response.status_code == 429
    assert response.headers["X-RateLimit-Remaining"] == "0" and int(response.headers["Retry-After"]) >= 1


async def test_sign_in_throttle_counts_the_forwarded_address(client, ctx):
    ctx.settings.login_attempts_per_ip = 3
    ctx.settings.ratelimit_log_in_per_ip = "0"
    app = (await client.post("/api/v1/apps", json={"client_name": "x", "redirect_uris": "myapp://cb"},
                             headers=_from("192.0.2.120"))).json()

    async def attempt(ip: str, n: int) -> int:
        response = await client.post("/oauth/token", headers=_from(ip), data={
            "grant_type": "password", "client_id": app["client_id"], "client_secret": app["client_secret"],
            "username": f"nobody{n}", "password": "wrong password"})
        return response.status_code

    codes = [await attempt("198.51.100.30", n) for n in range(4)]
    assert codes[:3] != [429, 429, 429] and codes[3] == 429
    assert await attempt("198.51.100.31", 9) != 429  # another client behind the same proxy


async def test_failed_sign_ins_back_off_per_login_and_per_address(client, ctx, cast):
    ctx.settings.ratelimit_log_in_per_ip = "0"
    ctx.settings.login_failures_per_account = 100  # leave the short database window out of the way
    ctx.settings.login_backoff_per_account = "3/1h"
    ctx.settings.login_backoff_per_ip = "6/1d"
    app = (await client.post("/api/v1/apps", json={"client_name": "x", "redirect_uris": "myapp://cb"},
                             headers=_from("192.0.2.130"))).json()

    async def sign_in(ip: str, username: str, password: str):
        return await client.post("/oauth/token", headers=_from(ip), data={
            "grant_type": "password", "client_id": app["client_id"], "client_secret": app["client_secret"],
            "username": username, "password": password, "scope": "read"})

    for _ in range(3):
        assert (await sign_in("198.51.100.40", "alice", "wrong password")).status_code == 400
    # Locked for the rest of the hour, even with the right password, from any address.
    locked = await sign_in("198.51.100.41", "alice", cast.alice.password)
    assert locked.status_code == 429 and 1 <= int(locked.headers["Retry-After"]) <= 3600
    assert "failed sign-in" in locked.json()["error"]
    # Bob is not locked; a success counts nothing.
    for _ in range(4):
        assert (await sign_in("198.51.100.42", "bob", cast.bob.password)).status_code == 200
    # One address failing on many logins is stopped for the day.
    for n in range(6):
        assert (await sign_in("198.51.100.43", f"guess{n}", "wrong password")).status_code == 400
    stopped = await sign_in("198.51.100.43", "carol", cast.carol.password)
    assert stopped.status_code == 429 and 1 <= int(stopped.headers["Retry-After"]) <= 86_400


async def test_limiter_keeps_limiting_when_redis_is_unreachable(settings, caplog):
    settings.redis_url = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    app = create_app(settings, run_worker=False)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
            codes = [(await http.get("/api/v1/timelines/public", headers=_from("192.0.2.140"))).status_code
                     for _ in range(6)]
    finally:
        await app.state.ctx.close()
    assert codes == [200, 200, 200, 200, 429, 429]
    assert "Redis failed" in caplog.text
    assert (settings.data_dir / "counters.sqlite3").exists()


async def test_web_pages_are_limited_by_address_and_by_session(client, ctx, cast):
    from starling.accounts import sessions

    codes = [(await client.get("/explore", headers=_from("192.0.2.150"))).status_code for _ in range(5)]
    assert codes == [200, 200, 200, 200, 429]
    refused = await client.get("/explore", headers=_from("192.0.2.150"))
    assert refused.headers["content-type"].startswith("text/html") and "Slow down" in refused.text
    async with ctx.db.write() as session:
        raw = await sessions.start(session, ctx.settings, cast.alice.id)
    browser = _from("192.0.2.151", {"Cookie": f"starling_session={raw}"})
    codes = [(await client.get("/home", headers=browser)).status_code for _ in range(6)]
    assert codes == [200] * 5 + [429]  # the session's own budget (5), not the address's (4)


async def test_a_proxy_on_the_same_host_is_trusted_by_default(tmp_path, template_db):
    """Behind a local reverse proxy the clients are counted by their own addresses (not all exempted as
    loopback); without the header a local script stays exempt."""
    import shutil

    from starling.config import Settings

    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(template_db, data / "starling.sqlite3")
    settings = Settings(data_dir=data, domain="testserver", secret_key="t" * 48, embedded_worker=False,
                        ratelimit_reads_per_ip="2/5m", _env_file=None)
    assert settings.trusted_proxies == "127.0.0.1,::1" and settings.ratelimit_exempt_loopback
    app = create_app(settings, run_worker=False)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
            proxied = [(await http.get("/api/v1/timelines/public", headers=_from("203.0.113.50"))).status_code
                       for _ in range(3)]
            local = [(await http.get("/api/v1/timelines/public")).status_code for _ in range(3)]
    finally:
        await app.state.ctx.close()
    assert proxied == [200, 200, 429]
    assert local == [200, 200, 200]
