"""Read caps: posts served per day by tier, counted on what timelines, threads and search returned."""

from __future__ import annotations

from datetime import timedelta

import pytest

from starling import clock
from starling.safety import readcap


@pytest.fixture
def settings(settings):
    settings.ratelimit_exempt_loopback = False
    settings.trusted_proxies = "127.0.0.1"
    settings.readcap_new_unverified = 5
    settings.readcap_unverified = 7
    settings.readcap_verified = 0
    settings.readcap_logged_out = 3
    return settings


async def _post(client, who, text: str, **extra) -> dict:
    response = await client.post("/api/v1/statuses", json={"status": text, **extra}, headers=who.headers)
    assert response.status_code == 200, response.text
    return response.json()


TEXTS = ["The tomatoes finally ripened after weeks of rain", "Reading a novel about lighthouse keepers tonight",
         "Our bus was late again, so I walked along the river", "Made soup with the last of the autumn squash",
         "Anyone know a good repair shop for old bicycles?", "The choir rehearsal ran long but sounded lovely",
         "Learning to knit socks is harder than it looks", "Saw a heron standing perfectly still by the pond"]


def _as(who, ip: str = "192.0.2.10") -> dict:
    return {**who.headers, "X-Forwarded-For": ip}


async def test_tiers(ctx, cast):
    async with ctx.db.read() as session:
        from starling.accounts import service as accounts

        alice = await accounts.account(session, cast.alice.id)
        admin = await accounts.account(session, cast.admin.id)
    assert readcap.tier(ctx.settings, alice) == "new_unverified"
    assert readcap.tier(ctx.settings, admin) == "verified"
    clock.set_now(clock.now() + timedelta(days=31))
    assert readcap.tier(ctx.settings, alice) == "unverified"
    assert readcap.reader(ctx.settings, alice, "192.0.2.1").cap == 7
    assert readcap.reader(ctx.settings, None, "2001:db8::1").key == "ip:2001:db8::/64"


async def test_account_cap_counts_posts_returned(client, ctx, cast):
    for text in TEXTS:
        await _post(client, cast.bob, text + " #gardening")
    path = f"/api/v1/accounts/{cast.bob.id}/statuses"
    first = await client.get(path, params={"limit": 3}, headers=_as(cast.alice))
    assert first.status_code == 200 and len(first.json()) == 3
    second = await client.get(path, params={"limit": 3}, headers=_as(cast.alice))
    assert second.status_code == 200  # 3 served so far: still under 5, the page may overshoot to 6
    third = await client.get(path, params={"limit": 1}, headers=_as(cast.alice))
    assert third.status_code == 429
    body = third.json()
    assert "Daily read limit reached" in body["error"] and "5 posts a day" in body["error"]
    assert 0 < int(third.headers["Retry-After"]) <= 86_400
    # Every timeline of hers is refused now; bob (same address) still reads.
    for other in ("/api/v1/timelines/home", "/api/v1/timelines/public", "/api/v1/timelines/tag/gardening"):
        assert (await client.get(other, headers=_as(cast.alice))).status_code == 429
    assert (await client.get(path, headers=_as(cast.bob))).status_code == 200
    # Tomorrow the count starts again.
    clock.set_now(clock.now() + timedelta(days=1))
    assert (await client.get(path, params={"limit": 1}, headers=_as(cast.alice))).status_code == 200


async def test_empty_pages_cost_nothing(client, ctx, cast):
    for _ in range(10):
        response = await client.get("/api/v1/timelines/home", headers=_as(cast.eve))
        assert response.status_code == 200 and response.json() == []
    eve = await _reader(ctx, cast.eve.id)
    assert await readcap.served_today(ctx, eve) == 0


async def _reader(ctx, account_id: int) -> readcap.Reader:
    from starling.accounts import service as accounts

    async with ctx.db.read() as session:
        account = await accounts.account(session, account_id)
    return readcap.reader(ctx.settings, account, "192.0.2.10")


async def test_every_reading_endpoint_counts(client, ctx, cast, drain):
    ctx.settings.readcap_new_unverified = 1000
    await client.post(f"/api/v1/accounts/{cast.bob.id}/follow", headers=cast.alice.headers)
    root = await _post(client, cast.bob, "a thread about #birds")
    await _post(client, cast.bob, "a reply about birds", in_reply_to_id=root["id"])
    await drain()
    made = await client.post("/api/v1/lists", json={"title": "birders"}, headers=cast.alice.headers)
    list_id = made.json()["id"]
    await client.post(f"/api/v1/lists/{list_id}/accounts", json={"account_ids": [str(cast.bob.id)]},
                      headers=cast.alice.headers)
    await drain()
    alice = await _reader(ctx, cast.alice.id)
    reads = [("/api/v1/timelines/home", {}), ("/api/v1/timelines/public", {}),
             ("/api/v1/timelines/tag/birds", {}), (f"/api/v1/timelines/list/{list_id}", {}),
             (f"/api/v1/accounts/{cast.bob.id}/statuses", {}), (f"/api/v1/statuses/{root['id']}/context", {}),
             ("/api/v2/search", {"q": "birds", "type": "statuses"})]
    for path, params in reads:
        before = await readcap.served_today(ctx, alice)
        response = await client.get(path, params=params, headers=_as(cast.alice))
        assert response.status_code == 200, (path, response.text)
        body = response.json()
        returned = len(body["statuses"]) if "statuses" in body else (
            len(body["ancestors"]) + len(body["descendants"]) if "ancestors" in body else len(body))
        assert returned > 0, path
        assert await readcap.served_today(ctx, alice) == before + returned, path


async def test_logged_out_cap_per_address(client, cast):
    for text in TEXTS[:4]:
        await _post(client, cast.bob, text)
    codes = []
    for _ in range(3):
        response = await client.get("/api/v1/timelines/public", params={"limit": 2},
                                    headers={"X-Forwarded-For": "198.51.100.3"})
        codes.append(response.status_code)
    assert codes == [200, 200, 429]
    assert "Sign in to read more" in response.json()["error"]
    other = await client.get("/api/v1/timelines/public", headers={"X-Forwarded-For": "198.51.100.4"})
    assert other.status_code == 200


async def test_logged_out_public_timelines_can_be_switched_off(client, ctx, cast):
    ctx.settings.public_timelines_logged_out = False
    for path in ("/api/v1/timelines/public", "/api/v1/timelines/tag/birds"):
        refused = await client.get(path, headers={"X-Forwarded-For": "198.51.100.5"})
        assert refused.status_code == 422
        assert refused.json()["error"] == "This method requires an authenticated user"
        assert (await client.get(path, headers=_as(cast.alice))).status_code == 200


async def test_loopback_readers_are_counted_not_refused(client, ctx, cast):
    ctx.settings.trusted_proxies = ""
    ctx.settings.ratelimit_exempt_loopback = True
    import httpx

    from starling.app import create_app

    for text in TEXTS[:4]:
        await _post(client, cast.bob, text)
    app = create_app(ctx.settings, run_worker=False)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
            codes = [(await http.get("/api/v1/timelines/public")).status_code for _ in range(4)]
    finally:
        await app.state.ctx.close()
    assert codes == [200] * 4
