"""Trends: hashtags ranked by distinct accounts per day with decay, statuses by recent boosts and
favourites, cached for a short while; offset pagination with Mastodon's Link header."""

from __future__ import annotations

from datetime import timedelta

import pytest

from starling import clock, ids
from starling.posts.models import Status, StatusTag, Tag
from starling.search import trends
from tests.test_timelines_support import block, boost, follow, mark, post

BASE = "http://testserver"


@pytest.fixture(autouse=True)
def _fresh_trends():
    trends.clear_cache()
    yield
    trends.clear_cache()


async def old_tagged_post(ctx, author_id: int, tag_name: str, days_ago: int) -> int:
    """A public status from `days_ago` days back (the posts service only posts now)."""
    at = clock.now() - timedelta(days=days_ago)
    async with ctx.db.write() as session:
        tag = Tag(id=ids.new_id(), name=tag_name, display_name=tag_name)
        session.add(tag)
        status = Status(id=ids.new_id(at), account_id=author_id, text=f"#{tag_name}", content="",
                        created_at=clock.to_naive(at))
        session.add(status)
        await session.flush()
        session.add(StatusTag(status_id=status.id, tag_id=tag.id))
        return status.id


async def test_tags_rank_by_accounts_per_day_with_decay(client, ctx, cast, make_account):
    for who in (cast.alice, cast.bob, cast.eve):
        await post(ctx, who.id, "it is #hot today")
    await post(ctx, cast.bob.id, "#warm")
    await post(ctx, cast.bob.id, "#warm again, same account")
    for who in (cast.alice, cast.bob, cast.eve, cast.carol):
        await old_tagged_post(ctx, who.id, f"old{who.username}", days_ago=6)
    await old_tagged_post(ctx, cast.alice.id, "ancient", days_ago=9)
    await post(ctx, cast.alice.id, "#hidden", visibility="unlisted")

    response = await client.get("/api/v1/trends/tags")
    assert response.status_code == 200
    names = [t["name"] for t in response.json()]
    assert names[:2] == ["hot", "warm"]
    assert "ancient" not in names and "hidden" not in names
    hot = response.json()[0]
    assert hot["history"][0] == {"day": hot["history"][0]["day"], "uses": "3", "accounts": "3"}
    assert len(hot["history"]) == 7 and "following" not in hot
    warm = response.json()[1]
    assert (warm["history"][0]["uses"], warm["history"][0]["accounts"]) == ("2", "1")
    assert (await client.get("/api/v1/trends")).json() == response.json()


async def test_tag_trends_page_by_offset_with_link_headers(client, ctx, cast):
    for n in range(5):
        await post(ctx, cast.bob.id, f"#topic{n}")
    first = await client.get("/api/v1/trends/tags?limit=2")
    assert len(first.json()) == 2
    assert first.headers["link"] == f'<{BASE}/api/v1/trends/tags?limit=2&offset=2>; rel="next"'
    third = await client.get("/api/v1/trends/tags?limit=2&offset=4")
    assert len(third.json()) == 1
    assert third.headers["link"] == f'<{BASE}/api/v1/trends/tags?limit=2&offset=2>; rel="prev"'
    seen = [t["name"] for r in (first, await client.get("/api/v1/trends/tags?limit=2&offset=2"), third)
            for t in r.json()]
    assert sorted(seen) == [f"topic{n}" for n in range(5)]
    assert len((await client.get("/api/v1/trends/tags?limit=500")).json()) == 5


async def test_rankings_are_cached_until_cleared(client, ctx, cast):
    await post(ctx, cast.bob.id, "#early")
    assert [t["name"] for t in (await client.get("/api/v1/trends/tags")).json()] == ["early"]
    for who in (cast.alice, cast.eve):
        await post(ctx, who.id, "#late")
    assert [t["name"] for t in (await client.get("/api/v1/trends/tags")).json()] == ["early"]
    trends.clear_cache()
    assert [t["name"] for t in (await client.get("/api/v1/trends/tags")).json()] == ["late", "early"]


async def test_statuses_rank_by_recent_boosts_and_favourites(client, ctx, cast, make_account):
    dave = await make_account("dave")
    quiet = await post(ctx, cast.bob.id, "nobody cares")
    liked = await post(ctx, cast.bob.id, "one like")
    loved = await post(ctx, cast.eve.id, "loved")
    private = await post(ctx, cast.eve.id, "followers only", visibility="private")
    await mark(ctx, "favourite", cast.alice.id, liked)
    for who in (cast.alice, cast.bob, dave):
        await mark(ctx, "favourite", who.id, loved)
    await boost(ctx, dave.id, loved)
    await follow(ctx, cast.alice.id, cast.eve.id)
    await mark(ctx, "favourite", cast.eve.id, private)
    await mark(ctx, "favourite", cast.alice.id, private)

    response = await client.get("/api/v1/trends/statuses")
    assert [int(s["id"]) for s in response.json()] == [loved, liked]
    assert quiet not in [int(s["id"]) for s in response.json()]
    page = await client.get("/api/v1/trends/statuses?limit=1")
    assert [int(s["id"]) for s in page.json()] == [loved]
    assert page.headers["link"] == f'<{BASE}/api/v1/trends/statuses?limit=1&offset=1>; rel="next"'


async def test_trending_statuses_respect_the_viewer(client, ctx, cast):
    liked = await post(ctx, cast.bob.id, "popular")
    await mark(ctx, "favourite", cast.eve.id, liked)
    await block(ctx, cast.bob.id, cast.alice.id)
    assert (await client.get("/api/v1/trends/statuses", headers=cast.alice.headers)).json() == []
    assert len((await client.get("/api/v1/trends/statuses")).json()) == 1


async def test_links_are_not_tracked(client):
    response = await client.get("/api/v1/trends/links")
    assert response.status_code == 200 and response.json() == []
