"""Boosts, favourites, bookmarks, pins, edits and deletes through the API, with their counters."""

from __future__ import annotations

import io

from PIL import Image
from sqlalchemy import func, select

from starling import ids
from starling.accounts.models import Account
from starling.graph.models import Follow
from starling.infra.jobs import Job
from starling.media.models import MediaAttachment
from starling.posts.models import Favourite, Status, StatusEdit


async def post(client, who, **fields) -> dict:
    response = await client.post("/api/v1/statuses", headers=who.headers, json=fields)
    assert response.status_code == 200, response.text
    return response.json()


async def act(client, who, status_id: str, action: str, **fields):
    return await client.post(f"/api/v1/statuses/{status_id}/{action}", headers=who.headers, json=fields)


async def show(client, status_id: str, who=None) -> dict:
    response = await client.get(f"/api/v1/statuses/{status_id}", headers=who.headers if who else {})
    assert response.status_code == 200, response.text
    return response.json()


async def statuses_count(ctx, who) -> int:
    async with ctx.db.read() as session:
        return (await session.get(Account, who.id)).statuses_count


async def test_reblog_twice_returns_the_same_boost_and_counts_once(client, cast, ctx):
    original = await post(client, cast.alice, status="boost me")
    first = await act(client, cast.bob, original["id"], "reblog")
    second = await act(client, cast.bob, original["id"], "reblog")
    assert first.status_code == second.status_code == 200
    boost = first.json()
    assert boost["id"] == second.json()["id"] and boost["id"] != original["id"]
    assert boost["reblog"]["id"] == original["id"] and boost["account"]["id"] == str(cast.bob.id)
    assert boost["reblog"]["reblogs_count"] == 1 and boost["reblogged"] is True
    assert boost["content"] == "" and boost["uri"].endswith("/activity")
    assert (await show(client, original["id"], cast.bob))["reblogged"] is True
    assert (await show(client, original["id"]))["reblogs_count"] == 1
    assert await statuses_count(ctx, cast.bob) == 1
    # Boosting the boost boosts the original (once).
    assert (await act(client, cast.bob, boost["id"], "reblog")).json()["id"] == boost["id"]
    async with ctx.db.read() as session:
        assert await session.scalar(select(Job.payload).where(Job.kind == "status.created")
                                    .order_by(Job.id.desc()).limit(1)) == {"status_id": int(boost["id"])}

    undone = await act(client, cast.bob, original["id"], "unreblog")
    assert undone.status_code == 200
    assert undone.json()["id"] == original["id"] and undone.json()["reblogged"] is False
    assert undone.json()["reblogs_count"] == 0
    assert (await client.get(f"/api/v1/statuses/{boost['id']}")).status_code == 404
    assert await statuses_count(ctx, cast.bob) == 0
    again = await act(client, cast.bob, original["id"], "unreblog")
    assert again.status_code == 200 and again.json()["reblogs_count"] == 0


async def test_private_and_direct_posts_cannot_be_boosted_by_others(client, cast, ctx):
    async with ctx.db.write() as session:
        session.add(Follow(id=ids.new_id(), account_id=cast.bob.id, target_account_id=cast.alice.id))
    private = await post(client, cast.alice, status="followers", visibility="private")
    assert (await act(client, cast.bob, private["id"], "reblog")).status_code == 403
    own = await act(client, cast.alice, private["id"], "reblog")
    assert own.status_code == 200 and own.json()["visibility"] == "private"
    dm = await post(client, cast.alice, status="@bob hi", visibility="direct")
    assert (await act(client, cast.bob, dm["id"], "reblog")).status_code == 403
    assert (await act(client, cast.alice, dm["id"], "reblog")).status_code == 403
    assert (await act(client, cast.eve, private["id"], "reblog")).status_code == 404


async def test_favourite_is_idempotent_and_counted(client, cast, ctx):
    original = await post(client, cast.alice, status="like me")
    for _ in range(2):
        response = await act(client, cast.bob, original["id"], "favourite")
        assert response.status_code == 200
        assert response.json()["favourited"] is True and response.json()["favourites_count"] == 1
    await act(client, cast.carol, original["id"], "favourite")
    assert (await show(client, original["id"]))["favourites_count"] == 2
    assert (await show(client, original["id"], cast.alice))["favourited"] is False
    for _ in range(2):
        response = await act(client, cast.bob, original["id"], "unfavourite")
        assert response.json()["favourited"] is False and response.json()["favourites_count"] == 1
    async with ctx.db.read() as session:
        assert await session.scalar(select(func.count()).select_from(Favourite)) == 1


async def test_favourited_by_and_reblogged_by_paginate_with_link_headers(client, cast):
    original = await post(client, cast.alice, status="popular")
    for who in (cast.bob, cast.carol, cast.eve):
        await act(client, who, original["id"], "favourite")
        await act(client, who, original["id"], "reblog")
    first = await client.get(f"/api/v1/statuses/{original['id']}/favourited_by", params={"limit": 2})
    assert first.status_code == 200
    assert [a["username"] for a in first.json()] == ["eve", "carol"]
    link = first.headers["link"]
    assert 'rel="next"' in link and 'rel="prev"' in link
    next_url = link.split(";")[0].strip("<>")
    rest = await client.get(next_url.removeprefix("http://testserver"))
    assert [a["username"] for a in rest.json()] == ["bob"]
    boosters = await client.get(f"/api/v1/statuses/{original['id']}/reblogged_by")
    assert [a["username"] for a in boosters.json()] == ["eve", "carol", "bob"]
    assert "link" in boosters.headers


async def test_bookmarks(client, cast):
    original = await post(client, cast.alice, status="save me")
    for _ in range(2):
        assert (await act(client, cast.bob, original["id"], "bookmark")).json()["bookmarked"] is True
    assert (await show(client, original["id"], cast.bob))["bookmarked"] is True
    assert (await show(client, original["id"], cast.carol))["bookmarked"] is False
    assert (await act(client, cast.bob, original["id"], "unbookmark")).json()["bookmarked"] is False


async def test_pins_only_own_public_posts_and_at_most_five(client, cast):
    mine = [await post(client, cast.alice, status=f"pin {n}") for n in range(6)]
    for status in mine[:5]:
        response = await act(client, cast.alice, status["id"], "pin")
        assert response.status_code == 200 and response.json()["pinned"] is True
    assert (await act(client, cast.alice, mine[0]["id"], "pin")).status_code == 200  # already pinned
    assert (await act(client, cast.alice, mine[5]["id"], "pin")).status_code == 422
    assert (await act(client, cast.alice, mine[0]["id"], "unpin")).json()["pinned"] is False
    assert (await act(client, cast.alice, mine[5]["id"], "pin")).status_code == 200
    private = await post(client, cast.bob, status="private", visibility="private")
    assert (await act(client, cast.bob, private["id"], "pin")).status_code == 422
    assert (await act(client, cast.bob, mine[1]["id"], "pin")).status_code == 422
    assert "pinned" not in await show(client, mine[1]["id"], cast.bob)


async def test_edit_keeps_a_history(client, cast, ctx):
    original = await post(client, cast.alice, status="first version #one", spoiler_text="")
    history = (await client.get(f"/api/v1/statuses/{original['id']}/history")).json()
    assert len(history) == 1 and "first version" in history[0]["content"]
    assert history[0]["account"]["id"] == str(cast.alice.id)

    edited = await client.put(f"/api/v1/statuses/{original['id']}", headers=cast.alice.headers,
                              json={"status": "second version #two @bob", "spoiler_text": "cw"})
    assert edited.status_code == 200, edited.text
    body = edited.json()
    assert "second version" in body["content"] and body["edited_at"] is not None
    assert body["spoiler_text"] == "cw" and body["sensitive"] is True
    assert [t["name"] for t in body["tags"]] == ["two"]
    assert [m["username"] for m in body["mentions"]] == ["bob"]
    await client.put(f"/api/v1/statuses/{original['id']}", headers=cast.alice.headers,
                     json={"status": "third version", "spoiler_text": ""})
    history = (await client.get(f"/api/v1/statuses/{original['id']}/history")).json()
    assert ["first version" in history[0]["content"], "second version" in history[1]["content"],
            "third version" in history[2]["content"]] == [True, True, True]
    assert history[1]["spoiler_text"] == "cw" and history[0]["created_at"] == original["created_at"]
    source = await client.get(f"/api/v1/statuses/{original['id']}/source", headers=cast.alice.headers)
    assert source.json() == {"id": original["id"], "text": "third version", "spoiler_text": ""}
    async with ctx.db.read() as session:
        assert await session.scalar(select(func.count()).select_from(StatusEdit)) == 3
        edited_jobs = select(func.count()).select_from(Job).where(Job.kind == "status.edited")
        assert await session.scalar(edited_jobs) == 2


async def test_edit_can_change_media(client, cast, ctx):
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, "PNG")
    media = [(await client.post("/api/v2/media", headers=cast.alice.headers,
                                files={"file": ("a.png", buffer.getvalue())})).json()["id"] for _ in range(2)]
    original = await post(client, cast.alice, status="pics", media_ids=[media[0]])
    edited = await client.put(f"/api/v1/statuses/{original['id']}", headers=cast.alice.headers,
                              json={"status": "pics", "media_ids": [media[1], media[0]]})
    assert [m["id"] for m in edited.json()["media_attachments"]] == [media[1], media[0]]
    removed = await client.put(f"/api/v1/statuses/{original['id']}", headers=cast.alice.headers,
                               json={"status": "no pics", "media_ids": []})
    assert removed.json()["media_attachments"] == []
    history = (await client.get(f"/api/v1/statuses/{original['id']}/history")).json()
    assert [len(v["media_attachments"]) for v in history] == [1, 2, 0]


async def test_only_the_author_may_edit_or_delete_but_viewers_read_the_source(client, cast):
    original = await post(client, cast.alice, status="mine")
    path = f"/api/v1/statuses/{original['id']}"
    for response in (
        await client.put(path, headers=cast.bob.headers, json={"status": "x"}),
        await client.delete(path, headers=cast.bob.headers),
    ):
        assert response.status_code == 404
    source = await client.get(f"{path}/source", headers=cast.bob.headers)
    assert source.status_code == 200 and source.json()["text"] == "mine"
    hidden = await post(client, cast.alice, status="for my followers", visibility="private")
    assert (await client.get(f"/api/v1/statuses/{hidden['id']}/source", headers=cast.bob.headers)).status_code == 404
    assert "mine" in (await show(client, original["id"]))["content"]
    too_long = await client.put(f"/api/v1/statuses/{original['id']}", headers=cast.alice.headers,
                                json={"status": "x" * 501})
    assert too_long.status_code == 422
    empty = await client.put(f"/api/v1/statuses/{original['id']}", headers=cast.alice.headers,
                             json={"status": ""})
    assert empty.status_code == 422


async def test_delete_removes_boosts_fixes_counters_and_returns_the_source(client, cast, ctx):
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, "PNG")
    media_id = (await client.post("/api/v2/media", headers=cast.alice.headers,
                                  files={"file": ("a.png", buffer.getvalue())})).json()["id"]
    parent = await post(client, cast.carol, status="parent")
    original = await post(client, cast.alice, status="going away", in_reply_to_id=parent["id"],
                          media_ids=[media_id])
    boost = (await act(client, cast.bob, original["id"], "reblog")).json()
    await act(client, cast.bob, original["id"], "favourite")
    assert (await show(client, parent["id"]))["replies_count"] == 1

    deleted = await client.delete(f"/api/v1/statuses/{original['id']}", headers=cast.alice.headers)
    assert deleted.status_code == 200
    assert deleted.json()["text"] == "going away" and deleted.json()["id"] == original["id"]
    assert [m["id"] for m in deleted.json()["media_attachments"]] == [media_id]
    for status_id in (original["id"], boost["id"]):
        assert (await client.get(f"/api/v1/statuses/{status_id}")).status_code == 404
    assert (await show(client, parent["id"]))["replies_count"] == 0
    assert await statuses_count(ctx, cast.alice) == 0 and await statuses_count(ctx, cast.bob) == 0
    async with ctx.db.read() as session:
        assert (await session.get(MediaAttachment, int(media_id))).status_id is None  # free to redraft
        job = await session.scalar(select(Job).where(Job.kind == "status.deleted"))
        assert job.payload == {"status_id": int(original["id"]), "boost_ids": [int(boost["id"])],
                               "author_ids": [cast.alice.id, cast.bob.id]}
        assert await session.scalar(select(func.count()).select_from(Status)) == 1
    redraft = await post(client, cast.alice, status="take two", media_ids=[media_id])
    assert redraft["media_attachments"][0]["id"] == media_id
    again = await client.delete(f"/api/v1/statuses/{original['id']}", headers=cast.alice.headers)
    assert again.status_code == 404


async def test_mute_conversation_answers_with_the_status(client, cast):
    original = await post(client, cast.alice, status="thread")
    response = await act(client, cast.alice, original["id"], "mute")
    assert response.status_code == 200 and response.json()["id"] == original["id"]
    assert response.json()["muted"] is True  # more in tests/test_posts_conversation_mute.py


async def test_favourite_again_after_undo_notifies_again(client, cast, ctx):
    from sqlalchemy import func, select

    from starling.notifications.models import Notification

    posted = (await client.post("/api/v1/statuses", json={"status": "like me twice"},
                                headers=cast.alice.headers)).json()
    for path in ("favourite", "unfavourite", "favourite"):
        response = await client.post(f"/api/v1/statuses/{posted['id']}/{path}", headers=cast.bob.headers)
        assert response.status_code == 200
    async with ctx.db.read() as session:
        count = await session.scalar(select(func.count()).select_from(Notification).where(
            Notification.account_id == cast.alice.id, Notification.type == "favourite"))
    assert count == 1
    await client.post(f"/api/v1/statuses/{posted['id']}/unfavourite", headers=cast.bob.headers)
    async with ctx.db.read() as session:
        count = await session.scalar(select(func.count()).select_from(Notification).where(
            Notification.account_id == cast.alice.id, Notification.type == "favourite"))
    assert count == 0
