"""The notifications API: entity shape, type and sender filters, Link pagination, show, dismiss, clear,
unread count against the marker, and hiding senders that are blocked or muted after the fact."""

from __future__ import annotations

from sqlalchemy import event

from starling import clock, ids
from starling.graph import service as graph
from starling.notifications import service as notifications
from starling.posts.models import PRIVATE, Mention, Status

URL = "/api/v1/notifications"


async def notify(ctx, recipient, sender, type="follow", status_id=None):
    async with ctx.db.write() as s:
        await notifications.notify(s, recipient_id=recipient.id, from_id=sender.id, type=type,
                                   status_id=status_id)


async def test_list_shape_filters_and_pagination(client, cast, ctx):
    await notify(ctx, cast.bob, cast.alice, "follow")
    await notify(ctx, cast.bob, cast.carol, "follow_request")
    await notify(ctx, cast.bob, cast.eve, "follow")
    await notify(ctx, cast.bob, cast.admin, "admin.sign_up")

    r = await client.get(URL, headers=cast.bob.headers)
    assert r.status_code == 200
    body = r.json()
    assert [(n["type"], n["account"]["username"]) for n in body] == [
        ("admin.sign_up", "admin"), ("follow", "eve"), ("follow_request", "carol"), ("follow", "alice")]
    first = body[0]
    assert set(first) == {"id", "type", "group_key", "created_at", "account"}
    assert first["group_key"] == f"ungrouped-{first['id']}"
    assert first["created_at"].endswith("Z")

    r = await client.get(URL, params=[("types[]", "follow")], headers=cast.bob.headers)
    assert [n["account"]["username"] for n in r.json()] == ["eve", "alice"]
    r = await client.get(URL, params=[("exclude_types[]", "follow"), ("exclude_types[]", "admin.sign_up")],
                         headers=cast.bob.headers)
    assert [n["type"] for n in r.json()] == ["follow_request"]
    r = await client.get(URL, params={"account_id": cast.eve.id}, headers=cast.bob.headers)
    assert [n["account"]["username"] for n in r.json()] == ["eve"]
    r = await client.get(URL, params={"account_id": "nobody"}, headers=cast.bob.headers)
    assert r.json() == []

    r = await client.get(URL, params=[("limit", "2"), ("types[]", "follow"), ("types[]", "follow_request")],
                         headers=cast.bob.headers)
    assert [n["account"]["username"] for n in r.json()] == ["eve", "carol"]
    next_url = r.links["next"]["url"]
    assert "types%5B%5D=follow" in next_url and f"max_id={r.json()[1]['id']}" in next_url
    r2 = await client.get(next_url, headers=cast.bob.headers)
    assert [n["account"]["username"] for n in r2.json()] == ["alice"]
    r3 = await client.get(r2.links["prev"]["url"], headers=cast.bob.headers)
    assert [n["account"]["username"] for n in r3.json()] == ["eve", "carol"]
    # Nothing older: an empty page and no Link header.
    r4 = await client.get(r2.links["next"]["url"], headers=cast.bob.headers)
    assert r4.json() == [] and "link" not in r4.headers

    # Others' notifications are not in anyone else's list.
    assert (await client.get(URL, headers=cast.alice.headers)).json() == []


async def test_show_dismiss_and_clear(client, cast, ctx):
    await notify(ctx, cast.bob, cast.alice)
    await notify(ctx, cast.bob, cast.eve)
    await notify(ctx, cast.bob, cast.carol, "follow_request")
    listed = (await client.get(URL, headers=cast.bob.headers)).json()
    target = listed[0]["id"]

    r = await client.get(f"{URL}/{target}", headers=cast.bob.headers)
    assert r.status_code == 200 and r.json()["id"] == target
    assert (await client.get(f"{URL}/{target}", headers=cast.alice.headers)).status_code == 404
    assert (await client.get(f"{URL}/123", headers=cast.bob.headers)).status_code == 404
    assert (await client.get(f"{URL}/{2**64}", headers=cast.bob.headers)).status_code == 404

    # Someone else cannot dismiss it.
    assert (await client.post(f"{URL}/{target}/dismiss", headers=cast.alice.headers)).status_code == 404
    r = await client.post(f"{URL}/{target}/dismiss", headers=cast.bob.headers)
    assert r.status_code == 200 and r.json() == {}
    assert (await client.get(f"{URL}/{target}", headers=cast.bob.headers)).status_code == 404
    assert (await client.post(f"{URL}/{target}/dismiss", headers=cast.bob.headers)).status_code == 404

    # The legacy form, with the ID as a parameter.
    r = await client.post(f"{URL}/dismiss", headers=cast.bob.headers, data={"id": listed[1]["id"]})
    assert r.status_code == 200
    assert [n["id"] for n in (await client.get(URL, headers=cast.bob.headers)).json()] == [listed[2]["id"]]
    assert (await client.post(f"{URL}/dismiss", headers=cast.bob.headers)).status_code == 404

    await notify(ctx, cast.alice, cast.eve)
    r = await client.post(f"{URL}/clear", headers=cast.bob.headers)
    assert r.status_code == 200 and r.json() == {}
    assert (await client.get(URL, headers=cast.bob.headers)).json() == []
    assert len((await client.get(URL, headers=cast.alice.headers)).json()) == 1


async def test_unread_count_follows_the_marker(client, cast, ctx):
    for sender in (cast.alice, cast.carol, cast.eve):
        await notify(ctx, cast.bob, sender)
    r = await client.get(f"{URL}/unread_count", headers=cast.bob.headers)
    assert r.status_code == 200 and r.json() == {"count": 3}
    listed = (await client.get(URL, headers=cast.bob.headers)).json()
    await client.post("/api/v1/markers", headers=cast.bob.headers,
                      data={"notifications[last_read_id]": listed[1]["id"]})
    assert (await client.get(f"{URL}/unread_count", headers=cast.bob.headers)).json() == {"count": 1}
    r = await client.get(f"{URL}/unread_count", params={"limit": 1}, headers=cast.bob.headers)
    assert r.json() == {"count": 1}
    r = await client.get(f"{URL}/unread_count", params=[("exclude_types[]", "follow")],
                         headers=cast.bob.headers)
    assert r.json() == {"count": 0}


async def test_blocked_and_muted_senders_disappear(client, cast, ctx):
    await notify(ctx, cast.bob, cast.alice)
    await notify(ctx, cast.bob, cast.eve)
    await notify(ctx, cast.bob, cast.carol)

    def senders(resp):
        return sorted(n["account"]["username"] for n in resp.json())

    # alice blocks bob: bob no longer sees alice's notification (nor can count it).
    await client.post(f"/api/v1/accounts/{cast.bob.id}/block", headers=cast.alice.headers)
    # bob mutes eve, hiding notifications; and mutes carol without hiding them.
    await client.post(f"/api/v1/accounts/{cast.eve.id}/mute", headers=cast.bob.headers)
    await client.post(f"/api/v1/accounts/{cast.carol.id}/mute", headers=cast.bob.headers,
                      json={"notifications": False})
    assert senders(await client.get(URL, headers=cast.bob.headers)) == ["carol"]
    assert (await client.get(f"{URL}/unread_count", headers=cast.bob.headers)).json() == {"count": 1}

    await client.post(f"/api/v1/accounts/{cast.bob.id}/unblock", headers=cast.alice.headers)
    await client.post(f"/api/v1/accounts/{cast.eve.id}/unmute", headers=cast.bob.headers)
    assert senders(await client.get(URL, headers=cast.bob.headers)) == ["alice", "carol", "eve"]

    # A block by the recipient deletes what the blocked account sent.
    await client.post(f"/api/v1/accounts/{cast.carol.id}/block", headers=cast.bob.headers)
    await client.post(f"/api/v1/accounts/{cast.carol.id}/unblock", headers=cast.bob.headers)
    assert senders(await client.get(URL, headers=cast.bob.headers)) == ["alice", "eve"]


async def test_notification_scopes(client, cast, ctx, make_account):
    await notify(ctx, cast.bob, cast.alice)
    reader = await make_account("reader", scopes="read:notifications")
    assert (await client.get(URL, headers=reader.headers)).status_code == 200
    assert (await client.post(f"{URL}/clear", headers=reader.headers)).status_code == 403
    statuses_only = await make_account("poster", scopes="read:statuses write:statuses")
    assert (await client.get(URL, headers=statuses_only.headers)).status_code == 403
    assert (await client.get(f"{URL}/unread_count", headers=statuses_only.headers)).status_code == 403
    assert (await client.get(URL)).status_code == 401


async def test_status_notifications_carry_the_status_and_hide_invisible_ones(client, cast, ctx):
    async with ctx.db.write() as s:
        await graph.follow(s, cast.bob.id, cast.alice.id)
        public = Status(id=ids.new_id(), account_id=cast.alice.id, text="hello @bob", content="<p>hello</p>",
                        created_at=clock.utcnow_naive())
        private = Status(id=ids.new_id(), account_id=cast.alice.id, text="psst", content="<p>psst</p>",
                         visibility=PRIVATE, created_at=clock.utcnow_naive())
        s.add_all([public, private])
        await s.flush()
        s.add(Mention(status_id=public.id, account_id=cast.bob.id))
    await notify(ctx, cast.bob, cast.alice, "mention", public.id)
    await notify(ctx, cast.bob, cast.alice, "status", private.id)

    body = (await client.get(URL, params=[("exclude_types[]", "follow")], headers=cast.bob.headers)).json()
    assert [(n["type"], n["status"]["id"]) for n in body] == [("status", str(private.id)),
                                                              ("mention", str(public.id))]
    # Once bob no longer follows alice, her followers-only status (and its notification) is out of sight.
    async with ctx.db.write() as s:
        await graph.unfollow(s, cast.bob.id, cast.alice.id)
    body = (await client.get(URL, params=[("exclude_types[]", "follow")], headers=cast.bob.headers)).json()
    assert [n["type"] for n in body] == ["mention"]


async def test_posting_a_mention_notifies_through_the_status_job(client, cast, drain):
    r = await client.post("/api/v1/statuses", headers=cast.alice.headers, json={"status": "hello @bob"})
    assert r.status_code == 200, r.text
    status_id = r.json()["id"]
    await drain()
    body = (await client.get(URL, params=[("types[]", "mention")], headers=cast.bob.headers)).json()
    assert [(n["type"], n["account"]["username"], n["status"]["id"]) for n in body] == [
        ("mention", "alice", status_id)]
    # Favourite and boost notify the author through the posts work, and show up with their status.
    await client.post(f"/api/v1/statuses/{status_id}/favourite", headers=cast.bob.headers)
    await client.post(f"/api/v1/statuses/{status_id}/reblog", headers=cast.bob.headers)
    body = (await client.get(URL, headers=cast.alice.headers)).json()
    assert sorted(n["type"] for n in body) == ["favourite", "reblog"]
    assert {n["status"]["id"] for n in body} == {status_id}


async def test_listing_uses_a_bounded_number_of_queries(client, cast, ctx, drain, make_account):
    fans = [await make_account(f"fan{i}") for i in range(8)]
    status_id = await _post(client, cast.bob, "a post to react to")
    for fan in fans:
        await client.post(f"/api/v1/statuses/{status_id}/favourite", headers=fan.headers)
        await client.post(f"/api/v1/accounts/{cast.bob.id}/follow", headers=fan.headers)
    await drain()

    seen: list[str] = []

    def count(conn, cursor, statement, params, context, executemany):
        seen.append(statement)

    async def queries_for(limit: int) -> int:
        seen.clear()
        event.listen(ctx.db.read_engine.sync_engine, "before_cursor_execute", count)
        try:
            r = await client.get(URL, params={"limit": limit}, headers=cast.bob.headers)
        finally:
            event.remove(ctx.db.read_engine.sync_engine, "before_cursor_execute", count)
        assert len(r.json()) == limit
        return len(seen)

    assert await queries_for(2) == await queries_for(16)


async def _post(client, who, text: str) -> str:
    r = await client.post("/api/v1/statuses", headers=who.headers, json={"status": text})
    assert r.status_code == 200, r.text
    return r.json()["id"]
