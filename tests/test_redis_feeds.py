"""Home feeds in Redis (STARLING_TEST_REDIS_URL; skipped without it): fan-out writes sorted sets, a
missing or flushed feed rebuilds from SQL to what fan-out would have built, removals reach Redis, windows
are exact where scores collide, and home still answers from SQL when Redis does not."""

from __future__ import annotations

import os
import uuid

import pytest
from redis import Redis as SyncRedis
from sqlalchemy import func, select, text

from starling import ids
from starling.api.pagination import Page
from starling.graph.models import Follow
from starling.infra import cache, jobs
from starling.infra import redis as redis_infra
from starling.infra.db import Database
from starling.infra.jobs import Job
from starling.posts import service as posts
from starling.posts.models import PRIVATE
from starling.timelines import lists
from starling.timelines import service as timelines
from starling.timelines.models import HomeFeedEntry
from starling.timelines.redis_feeds import BUILT, RedisFeeds
from tests.live import free_port
from tests.postgres import requires_postgres
from tests.test_timelines_postgres import _account, _status
from tests.test_timelines_support import block, boost, feed_of, follow, mute, post, unfollow

REDIS_URL = os.environ.get("STARLING_TEST_REDIS_URL", "")
pytestmark = pytest.mark.skipif(not REDIS_URL, reason="STARLING_TEST_REDIS_URL is not set (CI sets it)")
HOME = "/api/v1/timelines/home"


def drop_prefix(url: str, prefix: str) -> int:
    """Delete every key under `prefix` (SCAN, never FLUSHDB: the Redis is shared)."""
    client = SyncRedis.from_url(url)
    try:
        doomed = list(client.scan_iter(match=prefix + "*", count=1000))
        for start in range(0, len(doomed), 500):
            client.delete(*doomed[start:start + 500])
        return len(doomed)
    finally:
        client.close()


@pytest.fixture
def settings(settings):
    """The rig's settings, on the test Redis under a prefix of this test's own."""
    settings.redis_url = REDIS_URL
    settings.redis_prefix = f"test-{uuid.uuid4().hex[:12]}:"
    yield settings
    drop_prefix(REDIS_URL, settings.redis_prefix)


async def home(client, who, **params) -> list[int]:
    response = await client.get(HOME, headers=who.headers, params=params)
    assert response.status_code == 200, response.text
    return [int(s["id"]) for s in response.json()]


async def flush(ctx) -> None:
    assert drop_prefix(ctx.settings.redis_url, ctx.settings.redis_prefix) > 0


def feeds(ctx) -> RedisFeeds:
    return RedisFeeds(ctx.redis, ctx.settings)


async def test_fan_out_writes_sorted_sets_and_no_rows(ctx, cast):
    await follow(ctx, cast.alice.id, cast.bob.id)
    status_id = await post(ctx, cast.bob.id, "to redis")
    async with ctx.db.write() as session:  # a job that runs again adds nothing
        await timelines.fan_out(session, status_id)
    members = await ctx.redis.zrange(feeds(ctx).key(cast.alice.id), 0, -1, withscores=True)
    assert members == [(BUILT.encode(), 0.0), (f"{status_id}:{cast.bob.id}".encode(), float(status_id))]
    assert await feed_of(ctx, cast.bob.id) == [status_id]
    async with ctx.db.read() as session:
        assert await session.scalar(select(func.count()).select_from(HomeFeedEntry)) == 0


async def test_fan_out_skips_missing_feeds_which_rebuild_when_read(client, ctx, cast):
    await follow(ctx, cast.alice.id, cast.bob.id)
    await ctx.redis.delete(feeds(ctx).key(cast.alice.id))  # evicted, say
    status_id = await post(ctx, cast.bob.id, "nobody was reading")
    assert not await ctx.redis.exists(feeds(ctx).key(cast.alice.id))
    assert await home(client, cast.alice) == [status_id]
    assert await feed_of(ctx, cast.alice.id) == [status_id]


async def test_build_many_builds_each_feed_as_build_does(ctx, cast):
    """The pipelined bulk build (the benchmark's dataset uses it) leaves each feed as `build` would:
    marked built, capped to the newest entries, with an expiry; an empty one exists and is not rebuilt."""
    store = feeds(ctx)
    await store.build_many({cast.alice.id: [(30, 7), (10, 7), (20, 8)], cast.bob.id: []}, 2, per_round_trip=1)
    assert await store.entries(cast.alice.id) == [30, 20]
    assert await store.entries(cast.bob.id) == []
    for account_id in (cast.alice.id, cast.bob.id):
        assert await ctx.redis.zscore(store.key(account_id), BUILT) == 0.0
        assert 0 < await ctx.redis.ttl(store.key(account_id)) <= ctx.settings.feed_ttl_seconds


async def test_feeds_are_capped(ctx, cast, monkeypatch):
    monkeypatch.setattr(timelines, "TRIM_EVERY", 1)
    ctx.settings.feed_cap = 3
    await follow(ctx, cast.alice.id, cast.bob.id)
    await feed_of(ctx, cast.alice.id)
    posted = [await post(ctx, cast.bob.id, f"post {n}") for n in range(5)]
    assert await feed_of(ctx, cast.alice.id) == posted[::-1][:3]


async def test_a_flushed_redis_loses_nothing(client, ctx, cast):
    await follow(ctx, cast.alice.id, cast.bob.id)
    await follow(ctx, cast.alice.id, cast.eve.id)
    first = await post(ctx, cast.bob.id, "one")
    await post(ctx, cast.eve.id, "psst @alice", visibility="direct")
    await boost(ctx, cast.eve.id, await post(ctx, cast.carol.id, "worth sharing"))
    await post(ctx, cast.alice.id, "mine")
    await post(ctx, cast.bob.id, "private", visibility="private")
    before = await home(client, cast.alice)
    assert len(before) == 5 and first in before

    await flush(ctx)  # while the app runs
    assert await home(client, cast.alice) == before
    assert await home(client, cast.alice, max_id=before[1], limit=2) == before[2:4]
    assert await ctx.redis.zscore(feeds(ctx).key(cast.alice.id), BUILT) == 0


async def test_a_missing_empty_feed_is_built_once(client, ctx, cast, monkeypatch):
    built = []
    original = timelines.repository.home_feed_entries

    async def counting(*args, **kwargs):
        built.append(args[1])
        return await original(*args, **kwargs)

    monkeypatch.setattr(timelines.repository, "home_feed_entries", counting)
    assert await ctx.redis.zrange(feeds(ctx).key(cast.eve.id), 0, -1) == [BUILT.encode()]  # begun with her
    await flush(ctx)
    assert await home(client, cast.eve) == []
    assert await home(client, cast.eve) == []
    assert built == [cast.eve.id]
    assert await ctx.redis.zrange(feeds(ctx).key(cast.eve.id), 0, -1) == [BUILT.encode()]


async def test_a_rebuilt_feed_holds_what_fan_out_put_there(client, ctx, cast, make_account):
    dave = await make_account("dave")
    await follow(ctx, cast.alice.id, cast.bob.id)
    await follow(ctx, cast.alice.id, cast.eve.id, show_reblogs=False)
    await follow(ctx, cast.alice.id, dave.id)
    async with ctx.db.write() as session:
        lst = await lists.create_list(session, cast.alice.id, title="dave apart", exclusive=True)
        await lists.add_members(session, cast.alice.id, lst.id, [dave.id])
    await home(client, cast.alice)  # built (empty but own) before anything is posted
    elsewhere = await post(ctx, cast.carol.id, "alice does not follow me")
    await post(ctx, cast.bob.id, "a reply alice should not get", reply_to=elsewhere)
    await post(ctx, cast.bob.id, "a public one")
    await post(ctx, cast.bob.id, "followers only", visibility="private")
    await post(ctx, cast.carol.id, "to alice alone @alice", visibility="direct")
    await post(ctx, cast.carol.id, "to eve alone @eve", visibility="direct")
    await boost(ctx, cast.eve.id, elsewhere)  # eve's boosts are not wanted
    await boost(ctx, cast.bob.id, elsewhere)
    await post(ctx, dave.id, "kept for the exclusive list")
    await post(ctx, cast.alice.id, "my own")
    await post(ctx, cast.eve.id, "reply to alice @alice", reply_to=await post(ctx, cast.alice.id, "a question"))

    fanned = await feed_of(ctx, cast.alice.id)
    assert len(fanned) == 7
    await flush(ctx)
    await home(client, cast.alice)
    assert await feed_of(ctx, cast.alice.id) == fanned


async def test_delete_unfollow_and_block_take_entries_out(client, ctx, cast):
    await follow(ctx, cast.alice.id, cast.bob.id)
    await follow(ctx, cast.alice.id, cast.eve.id)
    await follow(ctx, cast.carol.id, cast.eve.id)
    doomed = await post(ctx, cast.bob.id, "soon gone")
    kept = await post(ctx, cast.bob.id, "stays")
    boosted = await boost(ctx, cast.eve.id, kept)
    assert set(await feed_of(ctx, cast.alice.id)) == {doomed, kept, boosted}

    assert (await client.delete(f"/api/v1/statuses/{doomed}", headers=cast.bob.headers)).status_code == 200
    await client.post(f"/api/v1/statuses/{kept}/unreblog", headers=cast.eve.headers)
    await jobs.drain(ctx.db)
    assert await feed_of(ctx, cast.alice.id) == [kept]
    assert await feed_of(ctx, cast.carol.id) == []
    assert await feed_of(ctx, cast.bob.id) == [kept]

    await unfollow(ctx, cast.alice.id, cast.bob.id)
    assert await feed_of(ctx, cast.alice.id) == []
    await follow(ctx, cast.alice.id, cast.bob.id)
    assert await feed_of(ctx, cast.alice.id) == [kept]
    await block(ctx, cast.bob.id, cast.alice.id)
    assert await feed_of(ctx, cast.alice.id) == []

    muted = await post(ctx, cast.eve.id, "muted at read time")
    assert await home(client, cast.alice) == [muted]
    await mute(ctx, cast.alice.id, cast.eve.id)
    assert await home(client, cast.alice) == []


async def test_windows_are_exact_where_scores_collide(ctx, cast):
    base = 117681842205004572  # a real ID: above 2**53, so neighbours share a score
    ids = [base + n for n in range(0, 120, 2)]
    store = feeds(ctx)
    await store.build(cast.alice.id, [], ctx.settings.feed_cap)
    for status_id in ids:
        await store.add([cast.alice.id], [(status_id, cast.bob.id)])
    assert float(ids[0]) == float(ids[1])
    newest_first = ids[::-1]
    for n in (1, 3, 7, 20):
        for cursor in (ids[0], ids[5], ids[30], ids[-2], ids[-1]):
            assert (await store.window(cast.alice.id, Page(max_id=cursor, limit=n)))[1] == \
                [i for i in newest_first if i < cursor][:n]
            assert (await store.window(cast.alice.id, Page(since_id=cursor, limit=n)))[1] == \
                [i for i in newest_first if i > cursor][:n]
            assert (await store.window(cast.alice.id, Page(min_id=cursor, limit=n)))[1] == \
                [i for i in ids if i > cursor][:n][::-1]
            assert (await store.window(cast.alice.id, Page(max_id=cursor + 1, limit=n)))[1] == \
                [i for i in newest_first if i <= cursor][:n]


async def test_home_answers_from_sql_while_redis_is_down(client, ctx, cast, settings, make_account):
    await follow(ctx, cast.alice.id, cast.bob.id)
    await follow(ctx, cast.alice.id, cast.eve.id, show_reblogs=False)
    await follow(ctx, cast.bob.id, cast.eve.id)
    wanted = [await post(ctx, cast.bob.id, "one")]
    wanted.append(await post(ctx, cast.carol.id, "dm @alice", visibility="direct"))
    await boost(ctx, cast.eve.id, wanted[0])  # not shown: alice takes no boosts from eve
    elsewhere = await post(ctx, cast.carol.id, "unfollowed")
    await post(ctx, cast.bob.id, "a reply alice should not get", reply_to=elsewhere)
    wanted.append(await post(ctx, cast.alice.id, "mine"))
    wanted.append(await post(ctx, cast.eve.id, "two", visibility="private"))
    expected = await home(client, cast.alice)
    assert expected == wanted[::-1]

    ctx.redis.connection_pool.reset()
    ctx.redis.connection_pool.connection_kwargs["port"] = free_port()  # nothing listens there
    state = cache.circuit(ctx.redis)
    assert await home(client, cast.alice) == expected
    assert await home(client, cast.alice, limit=2) == expected[:2]
    assert await home(client, cast.alice, max_id=expected[1], limit=2) == expected[2:4]
    assert await home(client, cast.alice, min_id=expected[2]) == expected[:2]
    assert state.failures == 1  # the circuit spared the later requests the attempt

    async with ctx.db.write() as session:  # a fan-out that Redis cannot take becomes a job of its own
        status_id = (await posts.create_status(session, ctx.settings, account_id=cast.bob.id,
                                               text="while Redis is down")).id
    await jobs.drain(ctx.db)
    async with ctx.db.read() as session:
        queued = {(job.kind, job.payload.get("status_id")): job.state for job in await session.scalars(select(Job))}
    assert queued[("status.created", status_id)] == jobs.DONE
    assert queued[(timelines.FAN_OUT_AGAIN, status_id)] == jobs.QUEUED  # retried with backoff
    assert (await home(client, cast.alice))[0] == status_id


@requires_postgres
async def test_feeds_rebuild_and_fall_back_on_postgresql(pg_db, settings):
    client = redis_infra.connect(REDIS_URL)
    db = Database(pg_db.url, info={"settings": settings, "redis": client})
    try:
        async with db.write() as s:
            alice, bob, carol = [await _account(s, name) for name in ("alice", "bob", "carol")]
            for target in (bob, carol):
                s.add(Follow(id=ids.new_id(), account_id=alice, target_account_id=target, show_reblogs=False))
            await s.execute(text("UPDATE accounts SET followers_count = 1 WHERE id IN (:b, :c)"),
                            {"b": bob, "c": carol})
            await s.flush()
            posted = [await _status(s, bob, f"postgres words {n}") for n in range(3)]
            posted.append(await _status(s, carol, "private", visibility=PRIVATE))
            for status_id in posted:
                await timelines.fan_out(s, status_id, settings=settings)

        async def home_ids(**window) -> list[int]:
            async with db.reads() as reader:
                page = await timelines.home_page(reader, alice, Page(**window), settings=settings, redis=client)
            return [st.id for st in page.statuses]

        expected = posted[::-1]
        assert await home_ids(limit=10) == expected
        drop_prefix(REDIS_URL, settings.redis_prefix)
        assert await home_ids(limit=10) == expected  # rebuilt on asyncpg
        assert await home_ids(limit=2, max_id=expected[0]) == expected[1:3]
        client.connection_pool.reset()
        client.connection_pool.connection_kwargs["port"] = free_port()
        assert await home_ids(limit=10) == expected  # from PostgreSQL alone
        assert await home_ids(limit=2, min_id=expected[-1]) == expected[1:3]
    finally:
        await db.dispose()
        await client.aclose()
