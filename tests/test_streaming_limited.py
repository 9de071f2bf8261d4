"""Moderation on the streaming API: a limited (silenced) account's posts stream to its followers only, as
its posts show on the timelines, and a quarantined post streams to nobody but its author.

As in test_streaming_delivery, a listener never receiving something is shown by order: a later
"sentinel" status arriving first proves that nothing before it came.
"""

from __future__ import annotations

from tests.test_streaming_delivery import follow, hub, listen, post, receive_status, settings  # noqa: F401


async def admin_action(client, cast, path: str, kind: str) -> None:
    r = await client.post(f"/api/v1/admin/{path}/action", json={"type": kind, "text": "moderated"},
                          headers=cast.admin.headers)
    assert r.status_code == 200, r.text


async def test_limited_author_streams_to_followers_only(client, cast, drain, hub):  # noqa: F811
    await follow(client, cast.bob, cast.alice)
    await admin_action(client, cast, f"accounts/{cast.alice.id}", "silence")
    await drain()
    follower = await listen(hub, cast.bob.id, "user")
    stranger = await listen(hub, cast.eve.id, "user", "public", "hashtag#cats")
    anonymous = await listen(hub, None, "public", "public:local", "hashtag#cats")
    author = await listen(hub, cast.alice.id, "user")
    limited = await post(client, cast.alice, "quietly #cats")
    await drain()
    sentinel = await post(client, cast.admin, "after #cats")
    await drain()

    label, _, entity = await receive_status(follower)
    assert (label, entity["id"]) == (["user"], limited["id"])
    assert (await receive_status(author))[2]["id"] == limited["id"]
    # The stranger follows nobody, so its own user stream stays quiet; public and #cats carry the sentinel.
    got = [await receive_status(stranger) for _ in range(2)]
    assert {entity["id"] for _, _, entity in got} == {sentinel["id"]}
    assert {label[0] for label, _, _ in got} == {"public", "hashtag"}
    got = [await receive_status(anonymous) for _ in range(3)]
    assert {entity["id"] for _, _, entity in got} == {sentinel["id"]}


async def test_quarantined_post_streams_to_its_author_only(client, cast, drain, hub):  # noqa: F811
    await follow(client, cast.bob, cast.alice)
    follower = await listen(hub, cast.bob.id, "user", "public")
    anonymous = await listen(hub, None, "public", "hashtag#cats")
    author = await listen(hub, cast.alice.id, "user")
    held = await post(client, cast.alice, "held back #cats")
    await admin_action(client, cast, f"statuses/{held['id']}", "quarantine")  # before it is fanned out
    await drain()
    # An edit announces the post again, now quarantined: only its author may hear of it.
    r = await client.put(f"/api/v1/statuses/{held['id']}", data={"status": "still held #cats"},
                         headers=cast.alice.headers)
    assert r.status_code == 200, r.text
    await drain()
    sentinel = await post(client, cast.alice, "plain #cats")
    await drain()

    label, event, entity = await receive_status(author)
    assert (label, event, entity["id"]) == (["user"], "status.update", held["id"])
    assert (await receive_status(author))[2]["id"] == sentinel["id"]
    for _ in range(2):
        assert (await receive_status(follower))[2]["id"] == sentinel["id"]
        assert (await receive_status(anonymous))[2]["id"] == sentinel["id"]
