"""Fan-out on write: who gets a new status in their stored home feed, and what keeps feeds tidy."""

from __future__ import annotations

from starling.posts import service as posts
from starling.timelines import lists
from starling.timelines import service as timelines
from starling.timelines.feed_store import feed_store
from tests.test_timelines_support import boost, feed_of, follow, post, unfollow


async def test_a_post_reaches_author_and_each_follower_exactly_once(ctx, cast):
    await follow(ctx, cast.alice.id, cast.bob.id)
    await follow(ctx, cast.carol.id, cast.bob.id)
    status_id = await post(ctx, cast.bob.id, "hello followers")

    async with ctx.db.write() as session:  # the job may run twice; nothing changes
        await timelines.fan_out(session, status_id, settings=ctx.settings)

    assert await feed_of(ctx, cast.bob.id) == [status_id]
    assert await feed_of(ctx, cast.alice.id) == [status_id]
    assert await feed_of(ctx, cast.carol.id) == [status_id]
    assert await feed_of(ctx, cast.eve.id) == []


async def test_fan_out_runs_in_batches(ctx, cast, make_account):
    ctx.settings.fanout_batch = 2
    followers = [cast.alice, cast.carol, cast.eve, await make_account("dave"), await make_account("fay")]
    for character in followers:
        await follow(ctx, character.id, cast.bob.id)
    status_id = await post(ctx, cast.bob.id)
    for character in followers:
        assert await feed_of(ctx, character.id) == [status_id]


async def test_private_reaches_followers_only(ctx, cast):
    await follow(ctx, cast.alice.id, cast.bob.id)
    status_id = await post(ctx, cast.bob.id, "followers only @eve", visibility="private")
    assert await feed_of(ctx, cast.alice.id) == [status_id]
    assert await feed_of(ctx, cast.eve.id) == []  # mentioned, but not a follower: a notification, not home
    assert await feed_of(ctx, cast.carol.id) == []


async def test_direct_reaches_only_the_mentioned(ctx, cast):
    await follow(ctx, cast.alice.id, cast.bob.id)
    status_id = await post(ctx, cast.bob.id, "psst @eve", visibility="direct")
    assert await feed_of(ctx, cast.bob.id) == [status_id]
    assert await feed_of(ctx, cast.eve.id) == [status_id]
    assert await feed_of(ctx, cast.alice.id) == []


async def test_boosts_respect_show_reblogs_and_skip_the_original_author(ctx, cast):
    await follow(ctx, cast.alice.id, cast.bob.id, show_reblogs=True)
    await follow(ctx, cast.carol.id, cast.bob.id, show_reblogs=False)
    await follow(ctx, cast.eve.id, cast.bob.id)
    original = await post(ctx, cast.eve.id, "boost me")
    reblog = await boost(ctx, cast.bob.id, original)
    assert reblog in await feed_of(ctx, cast.alice.id)
    assert reblog not in await feed_of(ctx, cast.carol.id)
    assert reblog not in await feed_of(ctx, cast.eve.id)  # the original author follows the booster
    assert reblog in await feed_of(ctx, cast.bob.id)


async def test_replies_reach_followers_who_follow_both(ctx, cast, make_account):
    dave = await make_account("dave")
    await follow(ctx, cast.alice.id, cast.bob.id)  # alice follows bob only
    await follow(ctx, cast.eve.id, cast.bob.id)
    await follow(ctx, cast.eve.id, dave.id)  # eve follows both
    await follow(ctx, dave.id, cast.bob.id)  # dave follows bob: replies to him reach him
    top = await post(ctx, dave.id, "a thought")
    reply = await post(ctx, cast.bob.id, "a reply", reply_to=top)
    assert reply in await feed_of(ctx, cast.eve.id)
    assert reply in await feed_of(ctx, dave.id)
    assert reply not in await feed_of(ctx, cast.alice.id)

    own = await post(ctx, cast.bob.id, "thread start")
    self_reply = await post(ctx, cast.bob.id, "thread, continued", reply_to=own)
    assert self_reply in await feed_of(ctx, cast.alice.id)


async def test_authors_above_the_threshold_are_not_fanned_out(ctx, cast):
    ctx.settings.fanout_threshold = 1
    await follow(ctx, cast.alice.id, cast.bob.id)
    await follow(ctx, cast.eve.id, cast.bob.id)
    status_id = await post(ctx, cast.bob.id, "too popular to push")
    assert await feed_of(ctx, cast.bob.id) == [status_id]
    assert await feed_of(ctx, cast.alice.id) == []


async def test_feeds_are_trimmed_to_the_cap(ctx, cast, monkeypatch):
    monkeypatch.setattr(timelines, "TRIM_EVERY", 1)
    ctx.settings.feed_cap = 3
    await follow(ctx, cast.alice.id, cast.bob.id)
    posted = [await post(ctx, cast.bob.id, f"post {n}") for n in range(5)]
    assert await feed_of(ctx, cast.alice.id) == posted[::-1][:3]
    assert await feed_of(ctx, cast.bob.id) == posted[::-1][:3]


async def test_trimming_is_occasional(ctx, cast, monkeypatch):
    monkeypatch.setattr(timelines, "TRIM_EVERY", 10**30)  # never due
    ctx.settings.feed_cap = 2
    posted = [await post(ctx, cast.bob.id, f"post {n}") for n in range(4)]
    assert await feed_of(ctx, cast.bob.id) == posted[::-1]


async def test_follow_merges_recent_posts_and_unfollow_takes_them_out(ctx, cast):
    public = await post(ctx, cast.bob.id, "before you came")
    private = await post(ctx, cast.bob.id, "for followers", visibility="private")
    await post(ctx, cast.bob.id, "secret @eve", visibility="direct")
    elsewhere = await post(ctx, cast.carol.id, "hi")
    await post(ctx, cast.bob.id, "reply to someone alice does not follow", reply_to=elsewhere)
    mine = await post(ctx, cast.alice.id, "my own")

    await follow(ctx, cast.alice.id, cast.bob.id)
    assert await feed_of(ctx, cast.alice.id) == [mine, private, public]

    await unfollow(ctx, cast.alice.id, cast.bob.id)
    assert await feed_of(ctx, cast.alice.id) == [mine]


async def test_unmerge_does_nothing_while_the_follow_stands(ctx, cast):
    await follow(ctx, cast.alice.id, cast.bob.id)
    status_id = await post(ctx, cast.bob.id)
    async with ctx.db.write() as session:
        await timelines.unmerge_account_from_feed(session, cast.alice.id, cast.bob.id)
    assert await feed_of(ctx, cast.alice.id) == [status_id]


async def test_deleted_status_and_its_boosts_leave_every_feed(ctx, cast, drain):
    await follow(ctx, cast.alice.id, cast.bob.id)
    await follow(ctx, cast.alice.id, cast.eve.id)
    original = await post(ctx, cast.bob.id)
    reblog = await boost(ctx, cast.eve.id, original)
    assert set(await feed_of(ctx, cast.alice.id)) == {original, reblog}
    async with ctx.db.write() as session:  # straight away, while the boost still exists
        await timelines.remove_from_feeds(session, original)
    assert await feed_of(ctx, cast.alice.id) == []

    again = await post(ctx, cast.bob.id)
    await boost(ctx, cast.eve.id, again)
    async with ctx.db.write() as session:  # and through the posts service's delete job
        await posts.delete_status(session, await posts.own_status(session, cast.bob.id, again))
    await drain()
    assert await feed_of(ctx, cast.alice.id) == []
    assert await feed_of(ctx, cast.bob.id) == []
    assert await feed_of(ctx, cast.eve.id) == []


async def test_members_of_an_exclusive_list_stay_out_of_home(ctx, cast):
    await follow(ctx, cast.alice.id, cast.bob.id)
    await follow(ctx, cast.eve.id, cast.bob.id)
    async with ctx.db.write() as session:
        lst = await lists.create_list(session, cast.alice.id, title="bob only", exclusive=True)
        await lists.add_members(session, cast.alice.id, lst.id, [cast.bob.id])
    status_id = await post(ctx, cast.bob.id)
    assert await feed_of(ctx, cast.alice.id) == []
    assert await feed_of(ctx, cast.eve.id) == [status_id]


async def test_feed_store_pages_like_the_api(ctx, cast):
    from starling.api.pagination import Page

    async with ctx.db.write() as session:
        store = feed_store(session)
        for status_id in range(1, 8):
            await store.add([cast.alice.id], status_id, cast.bob.id)
        assert await store.page(cast.alice.id, Page(limit=3)) == [7, 6, 5]
        assert await store.page(cast.alice.id, Page(max_id=5, limit=3)) == [4, 3, 2]
        assert await store.page(cast.alice.id, Page(min_id=2, limit=3)) == [5, 4, 3]
        assert await store.page(cast.alice.id, Page(since_id=2, limit=3)) == [7, 6, 5]
        await store.remove_author_from(cast.alice.id, cast.bob.id)
        assert await store.page(cast.alice.id, Page(limit=3)) == []
