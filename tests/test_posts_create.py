"""Posting statuses through the API: the entity, validation, replies, media, mentions, tags, idempotency."""

from __future__ import annotations

import asyncio
import io

from PIL import Image
from sqlalchemy import func, select

from starling.accounts.models import Account
from starling.infra.jobs import Job
from starling.media.models import MediaAttachment
from starling.posts.models import IdempotencyKey, Mention, Status, StatusTag, Tag


async def post(client, who, **fields):
    return await client.post("/api/v1/statuses", headers=who.headers, json=fields)


async def upload(client, who, color=(10, 20, 30)) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (20, 10), color).save(buffer, "PNG")
    response = await client.post("/api/v2/media", headers=who.headers,
                                 files={"file": ("x.png", buffer.getvalue(), "image/png")})
    assert response.status_code == 200, response.text
    return response.json()["id"]


async def test_post_returns_the_full_mastodon_entity(client, cast, ctx):
    response = await post(client, cast.alice, status="Hello <world> #Intro @bob", language="en",
                          spoiler_text="", visibility="unlisted")
    assert response.status_code == 200, response.text
    body = response.json()
    for name in ("id", "created_at", "in_reply_to_id", "in_reply_to_account_id", "sensitive",
                 "spoiler_text", "visibility", "language", "uri", "url", "replies_count", "reblogs_count",
                 "favourites_count", "edited_at", "favourited", "reblogged", "muted", "bookmarked", "pinned",
                 "content", "filtered", "reblog", "application", "account", "media_attachments", "mentions",
                 "tags", "emojis", "card", "poll"):
        assert name in body, name
    assert isinstance(body["id"], str) and body["id"].isdigit()
    assert body["visibility"] == "unlisted" and body["language"] == "en"
    assert body["content"].startswith("<p>Hello &lt;world&gt; ")
    assert body["url"] == f"http://testserver/@alice/{body['id']}"
    assert body["uri"] == f"http://testserver/users/alice/statuses/{body['id']}"
    assert body["created_at"].endswith("Z") and len(body["created_at"]) == 24
    assert body["account"]["id"] == str(cast.alice.id) and body["account"]["statuses_count"] == 1
    assert body["mentions"] == [{"id": str(cast.bob.id), "username": "bob", "acct": "bob",
                                 "url": "http://testserver/@bob"}]
    assert body["tags"] == [{"name": "Intro", "url": "http://testserver/tags/intro"}]
    assert body["reblog"] is None and body["poll"] is None and body["card"] is None
    assert body["pinned"] is False and body["filtered"] == [] and body["edited_at"] is None
    async with ctx.db.read() as session:
        status_id = int(body["id"])
        mentioned = await session.scalar(select(Mention.account_id).where(Mention.status_id == status_id))
        assert mentioned == cast.bob.id
        tag = await session.scalar(select(Tag).join(StatusTag).where(StatusTag.status_id == status_id))
        assert (tag.name, tag.display_name) == ("intro", "Intro")
        job = await session.scalar(select(Job).where(Job.kind == "status.created"))
        assert job.payload == {"status_id": status_id}
        account = await session.get(Account, cast.alice.id)
        assert account.statuses_count == 1 and account.last_status_at is not None


async def test_form_encoded_posts_work_too(client, cast):
    response = await client.post("/api/v1/statuses", headers=cast.alice.headers,
                                 data={"status": "from a form", "sensitive": "true", "spoiler_text": "cw"})
    assert response.status_code == 200, response.text
    assert response.json()["sensitive"] is True and response.json()["spoiler_text"] == "cw"


async def test_logged_out_or_read_only_tokens_cannot_post(client, cast, make_account):
    assert (await client.post("/api/v1/statuses", json={"status": "x"})).status_code == 401
    reader = await make_account("reader", scopes="read")
    assert (await post(client, reader, status="x")).status_code == 403


async def test_bad_input_is_422_and_writes_nothing(client, cast, ctx):
    cases = [
        {"status": ""},
        {"status": "   \n  "},
        {"status": "x" * 501},
        {"status": "ok", "spoiler_text": "y" * 499},
        {"status": "ok", "visibility": "everyone"},
        {"status": "ok", "language": "not a language"},
        {"status": "ok", "media_ids": ["123456789"]},
        {"status": "ok", "media_ids": ["abc"]},
        {"status": "ok", "poll": {"options": ["a", "b"], "expires_in": 600}},
        {"status": "ok", "scheduled_at": "2999-01-01T00:00:00Z"},
    ]
    for fields in cases:
        response = await post(client, cast.alice, **fields)
        assert response.status_code == 422, (fields, response.text)
        assert "error" in response.json()
    async with ctx.db.read() as session:
        assert await session.scalar(select(func.count()).select_from(Status)) == 0
        assert (await session.get(Account, cast.alice.id)).statuses_count == 0


async def test_length_counts_urls_as_23(client, cast):
    text = "x" * 470 + " https://example.com/" + "a" * 300
    assert (await post(client, cast.alice, status=text)).status_code == 200
    assert (await post(client, cast.alice, status="x" * 500)).status_code == 200


async def test_instance_max_characters_is_honoured(client, cast, ctx):
    from starling.accounts import instance

    async with ctx.db.write() as session:
        await instance.set_instance_setting(session, "max_characters", 10)
    assert (await post(client, cast.alice, status="x" * 11)).status_code == 422
    assert (await post(client, cast.alice, status="x" * 10)).status_code == 200


async def test_reply_counts_and_unknown_parent_is_404(client, cast, ctx):
    parent = (await post(client, cast.bob, status="parent")).json()
    reply = await post(client, cast.alice, status="@bob reply", in_reply_to_id=parent["id"])
    assert reply.status_code == 200, reply.text
    assert reply.json()["in_reply_to_id"] == parent["id"]
    assert reply.json()["in_reply_to_account_id"] == str(cast.bob.id)
    shown = await client.get(f"/api/v1/statuses/{parent['id']}")
    assert shown.json()["replies_count"] == 1
    assert (await post(client, cast.alice, status="x", in_reply_to_id="999999999999")).status_code == 404
    assert (await post(client, cast.alice, status="x", in_reply_to_id="nonsense")).status_code == 404


async def test_reply_to_an_invisible_post_is_404(client, cast):
    secret = (await post(client, cast.bob, status="only for followers", visibility="private")).json()
    assert (await post(client, cast.eve, status="hi", in_reply_to_id=secret["id"])).status_code == 404


async def test_reply_to_a_direct_post_stays_direct_by_default(client, cast):
    dm = (await post(client, cast.bob, status="@alice psst", visibility="direct")).json()
    reply = await post(client, cast.alice, status="@bob hi back", in_reply_to_id=dm["id"])
    assert reply.status_code == 200
    assert reply.json()["visibility"] == "direct"
    explicit = await post(client, cast.alice, status="@bob loud", in_reply_to_id=dm["id"],
                          visibility="public")
    assert explicit.json()["visibility"] == "public"


async def test_media_attach_in_order_and_only_own_unattached(client, cast, ctx):
    first, second = await upload(client, cast.alice), await upload(client, cast.alice, (200, 0, 0))
    response = await post(client, cast.alice, status="", media_ids=[second, first])
    assert response.status_code == 200, response.text
    assert [m["id"] for m in response.json()["media_attachments"]] == [second, first]
    # Already attached: refused.
    assert (await post(client, cast.alice, status="again", media_ids=[first])).status_code == 422
    # Someone else's: refused.
    bobs = await upload(client, cast.bob)
    assert (await post(client, cast.alice, status="theirs", media_ids=[bobs])).status_code == 422
    async with ctx.db.read() as session:
        assert (await session.get(MediaAttachment, int(bobs))).status_id is None
    # More than four: refused.
    many = [await upload(client, cast.alice) for _ in range(5)]
    assert (await post(client, cast.alice, status="many", media_ids=many)).status_code == 422


async def test_idempotency_key_posts_once_when_retried(client, cast, ctx):
    headers = {**cast.alice.headers, "Idempotency-Key": "retry-1"}
    first = await client.post("/api/v1/statuses", headers=headers, json={"status": "only once"})
    second = await client.post("/api/v1/statuses", headers=headers, json={"status": "only once"})
    assert first.status_code == second.status_code == 200
    assert first.json()["id"] == second.json()["id"]
    # Another account may use the same key for its own post.
    other = await client.post("/api/v1/statuses", headers={**cast.bob.headers, "Idempotency-Key": "retry-1"},
                              json={"status": "bob's"})
    assert other.json()["id"] != first.json()["id"]
    async with ctx.db.read() as session:
        assert await session.scalar(select(func.count()).select_from(Status)) == 2
        assert (await session.get(Account, cast.alice.id)).statuses_count == 1


async def test_idempotency_key_holds_under_concurrent_retries(client, cast, ctx):
    headers = {**cast.alice.headers, "Idempotency-Key": "burst"}
    responses = await asyncio.gather(*(client.post("/api/v1/statuses", headers=headers,
                                                   json={"status": "burst"}) for _ in range(6)))
    assert all(r.status_code == 200 for r in responses), [r.text for r in responses]
    assert len({r.json()["id"] for r in responses}) == 1
    async with ctx.db.read() as session:
        assert await session.scalar(select(func.count()).select_from(Status)) == 1
        assert await session.scalar(select(func.count()).select_from(IdempotencyKey)) == 1
        assert await session.scalar(select(func.count()).select_from(Job)
                                    .where(Job.kind == "status.created")) == 1


async def test_a_failed_post_does_not_burn_its_idempotency_key(client, cast):
    headers = {**cast.alice.headers, "Idempotency-Key": "k"}
    assert (await client.post("/api/v1/statuses", headers=headers, json={"status": ""})).status_code == 422
    retry = await client.post("/api/v1/statuses", headers=headers, json={"status": "now with text"})
    assert retry.status_code == 200 and "now with text" in retry.json()["content"]


async def test_batch_show_skips_unknown_and_invisible(client, cast):
    public = (await post(client, cast.alice, status="public")).json()["id"]
    private = (await post(client, cast.alice, status="private", visibility="private")).json()["id"]
    response = await client.get("/api/v1/statuses", params=[("id[]", public), ("id[]", private),
                                                             ("id[]", "123"), ("id[]", "junk")])
    assert response.status_code == 200
    assert [s["id"] for s in response.json()] == [public]


async def test_losing_an_idempotency_race_returns_the_winner(client, cast, ctx):
    """The insert of the key decides a race: the loser's insert fails; it answers with the winner's post."""
    from starling.posts import service

    winner = (await client.post("/api/v1/statuses", headers={**cast.alice.headers, "Idempotency-Key": "race"},
                                json={"status": "winner"})).json()
    async with ctx.db.write() as session:
        found = await service._claim_idempotency_key(session, cast.alice.id, "race", status_id=1)
        assert found is not None and str(found.id) == winner["id"]
        # The failed insert rolled back only its savepoint: the transaction is still usable.
        assert await session.scalar(select(func.count()).select_from(Status)) == 1
