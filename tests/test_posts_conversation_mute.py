"""Muting a conversation: POST /api/v1/statuses/:id/mute and /unmute, `muted` on the Status entity for
the muter only (single statuses, pages, boosts), no notifications from a muted thread (replies,
mentions, favourites, boosts), and only for threads the muter took part in."""

from __future__ import annotations

from sqlalchemy import event


async def post(client, who, text: str, **fields) -> dict:
    r = await client.post("/api/v1/statuses", headers=who.headers, json={"status": text, **fields})
    assert r.status_code == 200, r.text
    return r.json()


async def act(client, who, status_id: str, action: str):
    return await client.post(f"/api/v1/statuses/{status_id}/{action}", headers=who.headers)


async def notification_types(client, who) -> list[tuple[str, str]]:
    r = await client.get("/api/v1/notifications", headers=who.headers)
    assert r.status_code == 200, r.text
    return sorted((n["type"], n["account"]["username"]) for n in r.json())


async def test_mute_and_unmute_toggle_muted_for_the_muter_only(client, cast):
    root = await post(client, cast.alice, "a thread")
    reply = await post(client, cast.bob, "@alice a reply", in_reply_to_id=root["id"])

    r = await act(client, cast.alice, reply["id"], "mute")  # any status of the thread mutes all of it
    assert r.status_code == 200, r.text
    assert r.json()["id"] == reply["id"] and r.json()["muted"] is True
    again = await act(client, cast.alice, reply["id"], "mute")
    assert again.status_code == 200 and again.json()["muted"] is True

    mine = (await client.get(f"/api/v1/statuses/{root['id']}", headers=cast.alice.headers)).json()
    assert mine["muted"] is True
    theirs = (await client.get(f"/api/v1/statuses/{root['id']}", headers=cast.bob.headers)).json()
    assert theirs["muted"] is False
    anonymous = (await client.get(f"/api/v1/statuses/{root['id']}")).json()
    assert "muted" not in anonymous

    # Pages read through the hydration hot path carry it too (the author's own account timeline).
    page = (await client.get(f"/api/v1/accounts/{cast.bob.id}/statuses", headers=cast.alice.headers)).json()
    assert {s["id"]: s["muted"] for s in page}[reply["id"]] is True
    ctx_page = (await client.get(f"/api/v1/statuses/{root['id']}/context", headers=cast.alice.headers)).json()
    assert [s["muted"] for s in ctx_page["descendants"]] == [True]

    r = await act(client, cast.alice, root["id"], "unmute")
    assert r.status_code == 200 and r.json()["muted"] is False
    assert (await act(client, cast.alice, root["id"], "unmute")).json()["muted"] is False


async def test_muted_shows_on_home_pages_and_boosts(client, cast, drain):
    await client.post(f"/api/v1/accounts/{cast.bob.id}/follow", headers=cast.alice.headers)
    root = await post(client, cast.bob, "news, @alice")
    other = await post(client, cast.bob, "unrelated")
    assert (await act(client, cast.alice, root["id"], "mute")).status_code == 200
    boost = (await act(client, cast.bob, root["id"], "reblog")).json()
    await drain()
    home = (await client.get("/api/v1/timelines/home", headers=cast.alice.headers)).json()
    by_id = {s["id"]: s for s in home}
    assert by_id[root["id"]]["muted"] is True and by_id[other["id"]]["muted"] is False
    # A boost shows its original's flag (the home page above keeps the original, not the boost).
    page = (await client.get(f"/api/v1/accounts/{cast.bob.id}/statuses", headers=cast.alice.headers)).json()
    assert {s["id"]: s for s in page}[boost["id"]]["reblog"]["muted"] is True


async def test_muted_conversation_sends_no_notifications(client, cast, drain):
    root = await post(client, cast.alice, "my thread")
    await drain()
    assert (await act(client, cast.alice, root["id"], "mute")).status_code == 200

    reply = await post(client, cast.bob, "@alice replying", in_reply_to_id=root["id"])
    await post(client, cast.eve, "@alice deeper", in_reply_to_id=reply["id"])
    await act(client, cast.bob, root["id"], "favourite")
    await act(client, cast.bob, root["id"], "reblog")
    await drain()
    assert await notification_types(client, cast.alice) == []

    # Another thread is heard as before; so is this one once unmuted.
    elsewhere = await post(client, cast.alice, "another thread")
    await act(client, cast.bob, elsewhere["id"], "favourite")
    assert (await act(client, cast.alice, root["id"], "unmute")).status_code == 200
    await act(client, cast.eve, root["id"], "favourite")
    await post(client, cast.eve, "@alice back again", in_reply_to_id=root["id"])
    await drain()
    assert await notification_types(client, cast.alice) == [("favourite", "bob"), ("favourite", "eve"),
                                                             ("mention", "eve")]


async def test_a_mute_silences_only_the_muter(client, cast, drain):
    root = await post(client, cast.alice, "hello @bob")
    await drain()
    assert (await act(client, cast.bob, root["id"], "mute")).status_code == 200  # mentioned: took part
    await post(client, cast.eve, "@alice @bob both of you", in_reply_to_id=root["id"])
    await drain()
    assert await notification_types(client, cast.bob) == [("mention", "alice")]  # from before the mute
    assert await notification_types(client, cast.alice) == [("mention", "eve")]


async def test_only_participants_may_mute_and_only_what_they_see(client, cast):
    root = await post(client, cast.alice, "not yours")
    r = await act(client, cast.eve, root["id"], "mute")
    assert r.status_code == 422 and "error" in r.json()
    secret = await post(client, cast.alice, "followers only", visibility="private")
    r = await act(client, cast.eve, secret["id"], "mute")
    assert r.status_code == 404 and "error" in r.json()
    assert (await act(client, cast.eve, "999999999", "mute")).status_code == 404
    assert (await client.post(f"/api/v1/statuses/{root['id']}/mute")).status_code == 401


async def test_single_status_reads_mutes_in_one_query(ctx, client, cast):
    root = await post(client, cast.alice, "thread")
    replies = [await post(client, cast.alice, f"reply {i}", in_reply_to_id=root["id"]) for i in range(5)]
    await act(client, cast.alice, root["id"], "mute")
    seen: list[str] = []

    def before(conn, cursor, statement, *args):
        seen.append(statement)

    engine = ctx.db.read_engine.sync_engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        r = await client.get(f"/api/v1/statuses/{root['id']}/context", headers=cast.alice.headers)
    finally:
        event.remove(engine, "before_cursor_execute", before)
    assert [s["muted"] for s in r.json()["descendants"]] == [True] * len(replies)
    assert sum(1 for s in seen if "conversation_mutes" in s) <= 1
