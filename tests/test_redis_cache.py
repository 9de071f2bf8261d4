"""The entity cache shared through Redis (STARLING_TEST_REDIS_URL; skipped without it): what one process
rendered, another uses without asking SQL; edits, deletions, new descriptions and profile updates take
the shared entries out when they commit; a flushed Redis only costs statements."""

from __future__ import annotations

from sqlalchemy import select

from starling.api.entities.hydration import entity_cache
from starling.infra.cache import account_key, forget_statuses, status_key
from starling.media import service as media_service
from starling.media.models import MediaAttachment
from tests.test_redis_feeds import drop_prefix, pytestmark, settings  # noqa: F401  (the Redis settings)
from tests.test_timelines_hotpath import second_process
from tests.test_timelines_support import QueryCounter, attach_media, follow, post

HOME = "/api/v1/timelines/home"
# How the statements that render content and authors begin (hydration's misses).
RENDERING = ("SELECT mentions.status_id", "SELECT status_tags.status_id", "SELECT media_attachments.status_id",
             "SELECT statuses.id, statuses.account_id, accounts.username", "SELECT accounts.id, accounts.username")


def content_statements(counter: QueryCounter) -> list[str]:
    return [s for s in counter.statements if s.lstrip().startswith(RENDERING)]


async def home_json(http, who) -> list[dict]:
    response = await http.get(HOME, headers=who.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_another_process_renders_from_what_the_first_shared(client, ctx, cast, settings):  # noqa: F811
    await follow(ctx, cast.alice.id, cast.bob.id)
    for n in range(3):
        await post(ctx, cast.bob.id, f"post {n} @carol #shared")
    with QueryCounter(ctx) as first:
        mine = await home_json(client, cast.alice)
    assert content_statements(first)  # rendered here from SQL, then shared
    async with second_process(settings) as (other_ctx, other):
        with QueryCounter(other_ctx) as second:
            assert await home_json(other, cast.alice) == mine
        assert content_statements(second) == []

        drop_prefix(settings.redis_url, settings.redis_prefix)  # a flush only costs statements
        entity_cache(other_ctx).clear()
        with QueryCounter(other_ctx) as flushed:
            assert await home_json(other, cast.alice) == mine
        assert content_statements(flushed)


async def test_changes_take_shared_entries_out_when_they_commit(client, ctx, cast, settings):  # noqa: F811
    await follow(ctx, cast.alice.id, cast.bob.id)
    status_id = await post(ctx, cast.bob.id, "before")
    pictured = await post(ctx, cast.bob.id, "a picture")
    await attach_media(ctx, cast.bob.id, pictured)
    await home_json(client, cast.alice)
    shared = {name: ctx.redis.get(name) for name in
              (status_key(settings, status_id), status_key(settings, pictured), account_key(settings, cast.bob.id))}
    assert all([await value for value in shared.values()])

    edited = await client.put(f"/api/v1/statuses/{status_id}", headers=cast.bob.headers, json={"status": "after"})
    assert edited.status_code == 200
    assert await ctx.redis.get(status_key(settings, status_id)) is None
    async with ctx.db.write() as session:
        media_id = await session.scalar(select(MediaAttachment.id).where(MediaAttachment.status_id == pictured))
        await media_service.update_attachment(session, cast.bob.id, media_id, description="a red kite")
    assert await ctx.redis.get(status_key(settings, pictured)) is None
    profile = await client.patch("/api/v1/accounts/update_credentials", headers=cast.bob.headers,
                                 json={"display_name": "Bob B"})
    assert profile.status_code == 200, profile.text
    assert await ctx.redis.get(account_key(settings, cast.bob.id)) is None

    async with second_process(settings) as (_, other):
        page = {s["id"]: s for s in await home_json(other, cast.alice)}
    assert page[str(status_id)]["content"] == "<p>after</p>"
    assert page[str(pictured)]["media_attachments"][0]["description"] == "a red kite"
    assert page[str(status_id)]["account"]["display_name"] == "Bob B"

    deleted = await client.delete(f"/api/v1/statuses/{status_id}", headers=cast.bob.headers)
    assert deleted.status_code == 200
    assert await ctx.redis.get(status_key(settings, status_id)) is None


async def test_a_failed_write_forgets_nothing(ctx, cast, settings):  # noqa: F811
    status_id = await post(ctx, cast.bob.id, "kept")
    await ctx.redis.set(status_key(settings, status_id), b"x")
    try:
        async with ctx.db.write() as session:
            forget_statuses(session, status_id)
            raise RuntimeError("rolled back")
    except RuntimeError:
        pass
    assert await ctx.redis.get(status_key(settings, status_id)) == b"x"
