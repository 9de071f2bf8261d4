"""Redis that never answers (a port nobody listens on; no Redis server needed): the guard turns every
failure into RedisUnavailable, the circuit spares later calls the attempt until it closes again, and an
instance configured with such a Redis still serves home, posts and profiles from SQL."""

from __future__ import annotations

import pytest

from starling.infra import cache
from starling.infra import redis as redis_infra
from tests.live import free_port
from tests.test_timelines_support import follow, post

HOME = "/api/v1/timelines/home"


@pytest.fixture
def settings(settings):
    settings.redis_url = f"redis://127.0.0.1:{free_port()}/0"
    settings.redis_prefix = "test-dead:"
    return settings


async def test_the_circuit_opens_on_failure_and_closes_after_a_while():
    client = redis_infra.connect(f"redis://127.0.0.1:{free_port()}/0")
    state = cache.circuit(client)
    try:
        for _ in range(3):
            with pytest.raises(cache.RedisUnavailable):
                async with cache.guard(client) as redis:
                    await redis.ping()
        assert state.failures == 1 and not cache.usable(client)
        state.open_until = 0.0  # the open period is over
        assert cache.usable(client)
        with pytest.raises(cache.RedisUnavailable):
            async with cache.guard(client) as redis:
                await redis.ping()
        assert state.failures == 2
        await cache.forget(client, ["some:key"])  # forgetting on a dead Redis is not an error
    finally:
        await client.aclose()


async def test_no_redis_configured_is_unavailable_not_an_error():
    with pytest.raises(cache.RedisUnavailable):
        async with cache.guard(None):
            pass
    assert not cache.usable(None)


async def test_an_instance_whose_redis_never_answers_still_serves(client, ctx, cast):
    await follow(ctx, cast.alice.id, cast.bob.id)
    posted = [await post(ctx, cast.bob.id, f"post {n}") for n in range(3)]
    dm = await post(ctx, cast.carol.id, "psst @alice", visibility="direct")
    response = await client.get(HOME, headers=cast.alice.headers)
    assert response.status_code == 200, response.text
    assert [int(s["id"]) for s in response.json()] == [dm, *posted[::-1]]

    created = await client.post("/api/v1/statuses", headers=cast.alice.headers, json={"status": "still here"})
    assert created.status_code == 200, created.text
    profile = await client.patch("/api/v1/accounts/update_credentials", headers=cast.bob.headers,
                                 json={"display_name": "Bob B"})  # forgets shared entries after commit
    assert profile.status_code == 200 and profile.json()["display_name"] == "Bob B"
    page = (await client.get(HOME, headers=cast.alice.headers)).json()
    assert page[0]["content"] == "<p>still here</p>"
