"""The home timeline's hot path: few statements per page, entities identical to the general builder's,
and nothing that matters ever stale, even though each process caches what is the same for every reader.

Freshness is tested across two app instances on one SQLite file (as two server processes would be):
app A serves and caches a page, app B changes something, and A must show the change on its very next
request, with no job run in between.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import time
from contextlib import asynccontextmanager

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from starling import clock
from starling.accounts import service as accounts
from starling.api.entities.hydration import BoundedCache, entity_cache
from starling.api.entities.status import status_entities
from starling.app import create_app
from starling.config import Settings
from starling.migrate import upgrade
from starling.posts import service as posts
from tests.test_timelines_support import QueryCounter, attach_media, boost, follow, mark, post

HOME = "/api/v1/timelines/home"


def ids_of(response: httpx.Response) -> list[int]:
    assert response.status_code == 200, response.text
    return [int(s["id"]) for s in response.json()]


@asynccontextmanager
async def second_process(settings):
    """Another app on the same data directory: its own connections, caches and everything."""
    other = create_app(settings, run_worker=False)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=other), base_url="http://testserver") as http:
            yield other.state.ctx, http
    finally:
        await other.state.ctx.db.dispose()


async def test_a_home_page_takes_three_statements_once_cached(client, ctx, cast, make_account):
    authors = [cast.bob, cast.eve, await make_account("dave"), await make_account("fay")]
    for author in authors:
        await follow(ctx, cast.alice.id, author.id)
    for n in range(6):
        for author in authors:
            await post(ctx, author.id, f"{author.username} {n} @alice #tagged")
    with QueryCounter(ctx) as cold:
        assert len(ids_of(await client.get(HOME, headers=cast.alice.headers))) == 20
    # token, home sources, page facts; then content (status rows, mentions, tags, media) and authors.
    assert len(cold.statements) <= 8, "\n".join(cold.statements)
    with QueryCounter(ctx) as warm:
        assert len(ids_of(await client.get(HOME, headers=cast.alice.headers))) == 20
    assert len(warm.statements) <= 3, "\n".join(warm.statements)

    await boost(ctx, cast.bob.id, await post(ctx, cast.carol.id, "an original nobody here follows"))
    await client.get(HOME, headers=cast.alice.headers)
    with QueryCounter(ctx) as boosted:
        assert len(ids_of(await client.get(HOME, headers=cast.alice.headers))) == 20
    assert len(boosted.statements) <= 4, "\n".join(boosted.statements)  # + the boosted originals' facts


async def test_hydrated_entities_equal_the_general_builders(client, ctx, cast):
    """The cached hot path must give clients exactly what every other endpoint gives them."""
    await follow(ctx, cast.alice.id, cast.bob.id)
    await follow(ctx, cast.alice.id, cast.eve.id)
    with_media = await post(ctx, cast.bob.id, "a picture for @alice #Garden")
    await attach_media(ctx, cast.bob.id, with_media)
    private = await post(ctx, cast.bob.id, "followers only", visibility="private")
    reply = await post(ctx, cast.eve.id, "@bob agreed", reply_to=with_media)
    await boost(ctx, cast.eve.id, await post(ctx, cast.carol.id, "boosted from outside"))
    mine = await post(ctx, cast.alice.id, "my own, pinned")
    await mark(ctx, "pin", cast.alice.id, mine)
    await mark(ctx, "favourite", cast.alice.id, private)
    await mark(ctx, "bookmark", cast.alice.id, reply)
    async with ctx.db.write() as session:
        await posts.edit_status(session, ctx.settings, account_id=cast.bob.id, status_id=with_media,
                                text="a picture for @alice #Garden (edited)")

    for _ in range(2):  # cold, then from the caches
        response = await client.get(HOME, headers=cast.alice.headers)
        shown = ids_of(response)
        async with ctx.db.read() as session:
            statuses = await posts.visible_statuses(session, shown, cast.alice.id)
            expected = await status_entities(session, ctx, statuses, cast.alice.id)
        assert response.json() == expected
    assert {with_media, private, reply, mine} <= set(shown)


async def test_deleting_or_editing_shows_at_once_in_another_process(client, ctx, cast, settings):
    await follow(ctx, cast.alice.id, cast.bob.id)
    kept = await post(ctx, cast.bob.id, "stays")
    doomed = await post(ctx, cast.bob.id, "goes")
    edited = await post(ctx, cast.bob.id, "first words")
    assert ids_of(await client.get(HOME, headers=cast.alice.headers)) == [edited, doomed, kept]
    async with second_process(settings) as (_, other):
        assert (await other.delete(f"/api/v1/statuses/{doomed}", headers=cast.bob.headers)).status_code == 200
        changed = await other.put(f"/api/v1/statuses/{edited}", headers=cast.bob.headers,
                                  json={"status": "second words"})
        assert changed.status_code == 200, changed.text
    response = await client.get(HOME, headers=cast.alice.headers)
    assert ids_of(response) == [edited, kept]
    assert "second words" in response.json()[0]["content"]
    assert response.json()[0]["edited_at"] is not None


async def test_blocks_and_mutes_show_at_once_in_another_process(client, ctx, cast, settings, make_account):
    dave = await make_account("dave")
    for author in (cast.bob, cast.eve, dave):
        await follow(ctx, cast.alice.id, author.id)
    by_bob = await post(ctx, cast.bob.id, "bob")
    by_eve = await post(ctx, cast.eve.id, "eve")
    by_dave = await post(ctx, dave.id, "dave")
    assert ids_of(await client.get(HOME, headers=cast.alice.headers)) == [by_dave, by_eve, by_bob]
    async with second_process(settings) as (_, other):
        for path, who in ((f"/api/v1/accounts/{cast.bob.id}/block", cast.alice),
                          (f"/api/v1/accounts/{cast.alice.id}/block", cast.eve),
                          (f"/api/v1/accounts/{dave.id}/mute", cast.alice)):
            assert (await other.post(path, headers=who.headers)).status_code == 200
    assert ids_of(await client.get(HOME, headers=cast.alice.headers)) == []


async def test_unfollowing_hides_private_posts_at_once_in_another_process(client, ctx, cast, settings):
    await follow(ctx, cast.alice.id, cast.bob.id)
    public = await post(ctx, cast.bob.id, "for everyone")
    private = await post(ctx, cast.bob.id, "for followers", visibility="private")
    assert ids_of(await client.get(HOME, headers=cast.alice.headers)) == [private, public]
    async with second_process(settings) as (_, other):
        await other.post(f"/api/v1/accounts/{cast.bob.id}/unfollow", headers=cast.alice.headers)
    # The unmerge job has not run, so both are still in the stored feed; the private one must go now.
    assert ids_of(await client.get(HOME, headers=cast.alice.headers)) == [public]


async def test_an_own_new_post_shows_at_once_before_fan_out(client, ctx, cast, settings):
    await follow(ctx, cast.alice.id, cast.bob.id)
    older = await post(ctx, cast.bob.id, "older")
    assert ids_of(await client.get(HOME, headers=cast.alice.headers)) == [older]
    async with second_process(settings) as (_, other):
        made = await other.post("/api/v1/statuses", headers=cast.alice.headers, json={"status": "just now"})
        assert made.status_code == 200, made.text
    assert ids_of(await client.get(HOME, headers=cast.alice.headers)) == [int(made.json()["id"]), older]


async def test_suspension_and_revocation_show_at_once_in_another_process(client, ctx, cast, settings):
    await follow(ctx, cast.alice.id, cast.bob.id)
    await follow(ctx, cast.eve.id, cast.bob.id)
    by_bob = await post(ctx, cast.bob.id, "soon suspended")
    assert ids_of(await client.get(HOME, headers=cast.alice.headers)) == [by_bob]
    assert ids_of(await client.get(HOME, headers=cast.eve.headers)) == [by_bob]
    async with second_process(settings) as (other_ctx, _):
        async with other_ctx.db.write() as session:
            now = clock.utcnow_naive()
            await session.execute(text("UPDATE accounts SET suspended_at = :now WHERE id = :id"),
                                  {"now": now, "id": cast.bob.id})
            await session.execute(text("UPDATE oauth_access_tokens SET revoked_at = :now WHERE account_id = :id"),
                                  {"now": now, "id": cast.eve.id})
    assert ids_of(await client.get(HOME, headers=cast.alice.headers)) == []
    assert (await client.get(HOME, headers=cast.eve.headers)).status_code == 401
    async with ctx.db.write() as session:
        await session.execute(text("UPDATE accounts SET suspended_at = :now WHERE id = :id"),
                              {"now": clock.utcnow_naive(), "id": cast.alice.id})
    refused = await client.get(HOME, headers=cast.alice.headers)  # her token is live; she may not act
    assert (refused.status_code, refused.json()) == (403, {"error": "Your login is currently disabled"})


async def test_counters_come_fresh_and_profiles_lag_no_longer_than_the_cache_allows(client, ctx, cast, settings):
    await follow(ctx, cast.alice.id, cast.bob.id)
    liked = await post(ctx, cast.bob.id, "like me")
    first = (await client.get(HOME, headers=cast.alice.headers)).json()[0]
    assert first["favourites_count"] == 0 and first["account"]["display_name"] == ""
    async with second_process(settings) as (other_ctx, _):
        await mark(other_ctx, "favourite", cast.eve.id, liked)
        async with other_ctx.db.write() as session:
            await session.execute(text("UPDATE accounts SET display_name = 'Bob B' WHERE id = :id"),
                                  {"id": cast.bob.id})
    again = (await client.get(HOME, headers=cast.alice.headers)).json()[0]
    assert again["favourites_count"] == 1  # read with the page, never cached
    assert again["account"]["display_name"] == ""  # the author's profile may lag, for `ttl` seconds at most
    cache = entity_cache(ctx)
    assert cache.ttl <= 2
    cache.ttl = 0.05
    cache.clear()
    await client.get(HOME, headers=cast.alice.headers)
    time.sleep(0.06)
    assert (await client.get(HOME, headers=cast.alice.headers)).json()[0]["account"]["display_name"] == "Bob B"


async def test_attachment_descriptions_lag_no_longer_than_the_cache_allows(client, ctx, cast):
    await follow(ctx, cast.alice.id, cast.bob.id)
    pictured = await post(ctx, cast.bob.id, "a picture")
    plain = await post(ctx, cast.bob.id, "no picture")
    await attach_media(ctx, cast.bob.id, pictured)
    entity_cache(ctx).ttl = 0.05
    await client.get(HOME, headers=cast.alice.headers)
    async with ctx.db.write() as session:
        await session.execute(text("UPDATE media_attachments SET description = 'a red kite' WHERE status_id = :id"),
                              {"id": pictured})
    time.sleep(0.06)
    page = (await client.get(HOME, headers=cast.alice.headers)).json()
    assert [s["id"] for s in page] == [str(plain), str(pictured)]
    assert page[1]["media_attachments"][0]["description"] == "a red kite"


def test_the_caches_are_bounded():
    cache = BoundedCache(3)
    for key in range(10):
        cache.put(key, key, deadline=float("inf"))
    assert len(cache) == 3 and cache.get(0, 0.0) is None and cache.get(9, 0.0) == 9
    cache.put("soon", 1, deadline=5.0)
    assert cache.get("soon", 4.0) == 1 and cache.get("soon", 5.0) is None


@pytest.mark.parametrize("scope, status", [("read:statuses", 200), ("read:accounts", 403)])
async def test_home_still_checks_scopes(client, make_account, scope, status):
    reader = await make_account("reader", scopes=scope)
    assert (await client.get(HOME, headers=reader.headers)).status_code == status


PG_URL = os.environ.get("STARLING_TEST_DATABASE_URL", "")


@pytest.mark.skipif(not PG_URL.startswith("postgresql"),
                    reason="STARLING_TEST_DATABASE_URL does not name a PostgreSQL database")
async def test_home_hot_path_on_postgresql(tmp_path):
    """The direct reads (asyncpg's own calls on SQLAlchemy-compiled SQL) give the same page."""
    base = make_url(PG_URL).set(drivername="postgresql+asyncpg")
    name = f"starling_hotpath_{secrets.token_hex(4)}"
    admin = create_async_engine(base, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name).render_as_string(hide_password=False)
    try:
        await asyncio.to_thread(upgrade, url)
        settings = Settings(data_dir=tmp_path, database_url=url, domain="testserver", secret_key="t" * 48,
                            embedded_worker=False, _env_file=None)
        app = create_app(settings, run_worker=False)
        ctx = app.state.ctx
        try:
            people = {}
            async with ctx.db.write() as session:
                for username in ("alice", "bob", "eve"):
                    account = await accounts.create_account(session, settings, username=username,
                                                            email=f"{username}@testserver", password="pw pw pw pw")
                    people[username] = (account.id, await accounts.issue_token(session, account_id=account.id,
                                                                               scopes="read write"))
            (alice, token), (bob, _), (eve, _) = people["alice"], people["bob"], people["eve"]
            await follow(ctx, alice, bob)
            await follow(ctx, alice, eve)
            original = await post(ctx, bob, "hello @alice #pg")
            await boost(ctx, eve, original)
            private = await post(ctx, bob, "followers only", visibility="private")
            await mark(ctx, "favourite", alice, private)
            headers = {"Authorization": f"Bearer {token}"}
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
                for _ in range(2):
                    response = await http.get(HOME, headers=headers)
                    assert ids_of(response) == [private, original]  # eve's boost of a post shown is dropped
                    async with ctx.db.read() as session:
                        statuses = await posts.visible_statuses(session, ids_of(response), alice)
                        assert response.json() == await status_entities(session, ctx, statuses, alice)
                async with ctx.db.write() as session:
                    await session.execute(text("UPDATE oauth_access_tokens SET revoked_at = now()"))
                assert (await http.get(HOME, headers=headers)).status_code == 401
        finally:
            await ctx.db.dispose()
    finally:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()
