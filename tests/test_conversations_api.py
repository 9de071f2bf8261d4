"""Direct conversations (`/api/v1/conversations`): who gets one, unread and read, replies, another set of
people, deletion, removal, blocks, pagination, scopes, and nobody else's."""

from __future__ import annotations

from urllib.parse import urlsplit

from tests.test_timelines_support import QueryCounter


async def post(client, who, text: str, **fields) -> dict:
    r = await client.post("/api/v1/statuses", json={"status": text, **fields}, headers=who.headers)
    assert r.status_code == 200, r.text
    return r.json()


async def direct(client, who, text: str, **fields) -> dict:
    return await post(client, who, text, visibility="direct", **fields)


async def conversations(client, who, **params) -> list[dict]:
    r = await client.get("/api/v1/conversations", params=params, headers=who.headers)
    assert r.status_code == 200, r.text
    return r.json()


def summary(found: list[dict]) -> list[tuple[list[str], str | None, bool]]:
    return [(sorted(a["username"] for a in c["accounts"]), c["last_status"] and c["last_status"]["id"],
             c["unread"]) for c in found]


async def test_a_direct_message_starts_a_conversation_for_each_person(client, cast, drain):
    sent = await direct(client, cast.alice, "@bob @carol lunch?")
    await drain()

    assert summary(await conversations(client, cast.alice)) == [(["bob", "carol"], sent["id"], False)]
    for who, others in ((cast.bob, ["alice", "carol"]), (cast.carol, ["alice", "bob"])):
        found = await conversations(client, who)
        assert [(sorted(a["username"] for a in c["accounts"]), c["unread"]) for c in found] == [(others, True)]
        assert found[0]["last_status"]["visibility"] == "direct"
    assert await conversations(client, cast.eve) == []  # not mentioned: nothing


async def test_replies_move_the_conversation_and_mark_it_unread_for_the_others(client, cast, drain):
    first = await direct(client, cast.alice, "@bob hello")
    await drain()
    bob_view = (await conversations(client, cast.bob))[0]
    read = await client.post(f"/api/v1/conversations/{bob_view['id']}/read", headers=cast.bob.headers)
    assert read.status_code == 200 and read.json()["unread"] is False
    assert read.json()["accounts"][0]["username"] == "alice"

    back = await direct(client, cast.bob, "@alice hi back", in_reply_to_id=first["id"])
    await drain()
    bob_after = await conversations(client, cast.bob)
    alice_after = await conversations(client, cast.alice)
    assert [(c["id"], c["unread"], c["last_status"]["id"]) for c in bob_after] == [
        (bob_view["id"], False, back["id"])]  # the same conversation; one's own reply reads it
    assert [(c["unread"], c["last_status"]["id"]) for c in alice_after] == [(True, back["id"])]

    # Bringing someone else in is another conversation, as in Mastodon.
    await direct(client, cast.alice, "@bob @carol and carol", in_reply_to_id=first["id"])
    await drain()
    assert [sorted(a["username"] for a in c["accounts"]) for c in await conversations(client, cast.alice)] == [
        ["bob", "carol"], ["bob"]]


async def test_deleting_messages_falls_back_then_removes_the_conversation(client, cast, drain):
    first = await direct(client, cast.alice, "@bob one")
    second = await direct(client, cast.alice, "@bob two", in_reply_to_id=first["id"])
    await drain()
    assert (await conversations(client, cast.bob))[0]["last_status"]["id"] == second["id"]

    assert (await client.delete(f"/api/v1/statuses/{second['id']}", headers=cast.alice.headers)).status_code == 200
    await drain()
    assert [c["last_status"]["id"] for c in await conversations(client, cast.bob)] == [first["id"]]

    assert (await client.delete(f"/api/v1/statuses/{first['id']}", headers=cast.alice.headers)).status_code == 200
    await drain()
    assert await conversations(client, cast.bob) == []
    assert await conversations(client, cast.alice) == []


async def test_removing_a_conversation_is_the_owners_alone(client, cast, drain):
    await direct(client, cast.alice, "@bob secret")
    await drain()
    alice_id = (await conversations(client, cast.alice))[0]["id"]
    bob_id = (await conversations(client, cast.bob))[0]["id"]

    assert (await client.delete(f"/api/v1/conversations/{alice_id}", headers=cast.bob.headers)).status_code == 404
    assert (await client.post(f"/api/v1/conversations/{alice_id}/read", headers=cast.bob.headers)).status_code == 404
    assert (await client.delete(f"/api/v1/conversations/{bob_id}", headers=cast.bob.headers)).json() == {}
    assert await conversations(client, cast.bob) == []
    assert len(await conversations(client, cast.alice)) == 1  # alice keeps hers


async def test_public_posts_and_blocked_senders_make_no_conversation(client, cast, drain):
    await post(client, cast.alice, "@bob a public mention")
    await post(client, cast.alice, "@bob a followers-only mention", visibility="private")
    r = await client.post(f"/api/v1/accounts/{cast.alice.id}/block", headers=cast.carol.headers)
    assert r.status_code == 200
    await direct(client, cast.alice, "@carol are you there")
    await drain()

    assert await conversations(client, cast.bob) == []
    assert await conversations(client, cast.carol) == []
    assert [sorted(a["username"] for a in c["accounts"]) for c in await conversations(client, cast.alice)] == [
        ["carol"]]


async def test_pages_follow_the_newest_message_with_link_headers(client, cast, drain):
    others = [cast.bob, cast.carol, cast.eve]
    for who in others:
        await direct(client, cast.alice, f"@{who.username} hi")
    await drain()

    first = await client.get("/api/v1/conversations", params={"limit": 2}, headers=cast.alice.headers)
    names = [c["accounts"][0]["username"] for c in first.json()]
    assert names == ["eve", "carol"]
    assert 'rel="next"' in first.headers["link"]
    older = urlsplit(first.headers["link"].split(">")[0].lstrip("<"))
    rest = await client.get(f"{older.path}?{older.query}", headers=cast.alice.headers)
    assert [c["accounts"][0]["username"] for c in rest.json()] == ["bob"]


async def test_conversations_need_a_user_token_with_the_right_scopes(client, cast, make_account, drain):
    await direct(client, cast.alice, "@bob hi")
    await drain()
    assert (await client.get("/api/v1/conversations")).status_code == 401
    reader = await make_account("reader", scopes="read write:statuses")
    assert (await client.get("/api/v1/conversations", headers=reader.headers)).status_code == 200
    own = await direct(client, reader, "@alice hello")
    await drain()
    reader_id = next(c["id"] for c in await conversations(client, reader) if c["last_status"]["id"] == own["id"])
    refused = await client.delete(f"/api/v1/conversations/{reader_id}", headers=reader.headers)
    assert refused.status_code == 403  # removing needs write:conversations
    narrow = await make_account("narrow", scopes="read:accounts")
    assert (await client.get("/api/v1/conversations", headers=narrow.headers)).status_code == 403


async def test_a_page_reads_the_same_number_of_statements_for_2_or_12_conversations(client, ctx, cast,
                                                                                      make_account, drain):
    async def measure() -> int:
        await client.get("/api/v1/conversations", headers=cast.alice.headers)  # warm per-process caches
        with QueryCounter(ctx) as counted:
            r = await client.get("/api/v1/conversations", headers=cast.alice.headers)
        assert r.status_code == 200
        return len(counted.statements)

    async def write_to(n: int, start: int) -> None:
        for i in range(start, start + n):
            friend = await make_account(f"friend{i}")
            await direct(client, cast.alice, f"@{friend.username} note {i}")
        await drain()

    await write_to(2, 0)
    few = await measure()
    await write_to(10, 2)
    assert len(await conversations(client, cast.alice)) == 12
    assert await measure() == few
