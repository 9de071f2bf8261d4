"""Who hears what on the streaming API, in one process: events go through the real bus (the SQL table the
jobs write and the hub tails) to listeners, rendered with the REST API's entities.

A listener never receiving something is shown by order, not by waiting: events arrive in the order they
were committed, so when a later "sentinel" status is a listener's first message, nothing before it came.
"""

from __future__ import annotations

import asyncio
import os

import orjson
import pytest

from starling.api.streaming import hub_of
from starling.infra import pubsub
from starling.streaming import streams
from starling.streaming.hub import Listener
from tests.postgres import own_redis_prefix

RECEIVE_TIMEOUT = 20.0
REDIS_URL = os.environ.get("STARLING_TEST_REDIS_URL", "")


@pytest.fixture(params=["sql", "local", "redis"])
def settings(request, settings):
    """Every test here runs on each bus: the SQL table, in-process, and Redis (when one is given)."""
    if request.param == "redis":
        if not REDIS_URL:
            pytest.skip("STARLING_TEST_REDIS_URL is not set (CI sets it)")
        return settings.model_copy(update={"streaming_bus": "redis", "redis_url": REDIS_URL,
                                           "redis_prefix": own_redis_prefix()})
    return settings.model_copy(update={"streaming_bus": request.param})


@pytest.fixture
def hub(ctx):
    return hub_of(ctx)


async def listen(hub, viewer_id, *names: str) -> Listener:
    """A listener following `names` ("hashtag:cats" and "list:123" carry their parameter)."""
    listener = Listener(viewer_id)
    for name in names:
        base, _, param = name.partition("#")
        listener.streams.add(streams.parse(base, tag=param or None, list_id=param or None))
    await hub.join(listener)
    return listener


async def receive(listener: Listener) -> tuple[list[str], str, str]:
    message = await asyncio.wait_for(listener.queue.get(), RECEIVE_TIMEOUT)
    assert message is not None, "the listener was cut off"
    return message


async def receive_status(listener: Listener) -> tuple[list[str], str, dict]:
    label, event, payload = await receive(listener)
    return label, event, orjson.loads(payload)


async def post(client, who, text: str, **fields) -> dict:
    r = await client.post("/api/v1/statuses", data={"status": text, **fields}, headers=who.headers)
    assert r.status_code == 200, r.text
    return r.json()


async def follow(client, who, target) -> None:
    r = await client.post(f"/api/v1/accounts/{target.id}/follow", headers=who.headers)
    assert r.status_code == 200, r.text


async def test_public_post_reaches_public_hashtag_and_follower_streams(client, cast, drain, hub):
    await follow(client, cast.bob, cast.alice)
    anonymous = await listen(hub, None, "public", "public:local")
    tagged = await listen(hub, None, "hashtag#cats")
    bob = await listen(hub, cast.bob.id, "user")
    eve = await listen(hub, cast.eve.id, "user")
    status = await post(client, cast.alice, "hello #Cats")
    await drain()

    got = {tuple(label) for label, _, _ in [await receive_status(anonymous), await receive_status(anonymous)]}
    assert got == {("public",), ("public:local",)}
    label, event, entity = await receive_status(tagged)
    assert (label, event, entity["id"]) == (["hashtag", "cats"], "update", status["id"])
    label, event, entity = await receive_status(bob)
    assert (label, event, entity["id"], entity["favourited"]) == (["user"], "update", status["id"], False)
    assert entity["account"]["username"] == "alice"

    own = await post(client, cast.eve, "my own")  # the author's home stream gets its own post
    await drain()
    assert (await receive_status(eve))[2]["id"] == own["id"]


async def test_private_and_direct_posts_reach_only_those_allowed(client, cast, drain, hub):
    await follow(client, cast.bob, cast.alice)
    bob = await listen(hub, cast.bob.id, "user", "direct")
    eve = await listen(hub, cast.eve.id, "user", "public", "direct")
    anonymous = await listen(hub, None, "public")
    private = await post(client, cast.alice, "followers only", visibility="private")
    direct = await post(client, cast.alice, "@bob just you", visibility="direct")
    sentinel = await post(client, cast.alice, "everyone")
    mine = await post(client, cast.eve, "eve's own")
    await drain()

    assert (await receive_status(bob))[2]["id"] == private["id"]
    seen = {}
    for _ in range(3):  # the direct status on home and as a conversation, and the mention's notification
        label, event, entity = await receive_status(bob)
        seen[(label[0], event)] = entity
    assert seen[("user", "update")]["id"] == direct["id"]
    assert seen[("user", "notification")]["status"]["id"] == direct["id"]
    conversation = seen[("direct", "conversation")]
    assert conversation["last_status"]["id"] == direct["id"] and conversation["unread"] is True
    assert [a["username"] for a in conversation["accounts"]] == ["alice"]
    # The same conversation the API lists, so an app can update its entry and mark it read by this id.
    listed = (await client.get("/api/v1/conversations", headers=cast.bob.headers)).json()
    assert [(c["id"], c["unread"]) for c in listed] == [(conversation["id"], True)]

    assert (await receive_status(anonymous))[2]["id"] == sentinel["id"]
    assert (await receive_status(eve))[2]["id"] == sentinel["id"]  # on public: the private and direct never came
    assert (await receive_status(eve))[2]["id"] == mine["id"]


async def test_blocks_and_mutes_withhold_statuses(client, cast, drain, hub):
    r = await client.post(f"/api/v1/accounts/{cast.alice.id}/block", headers=cast.bob.headers)
    assert r.status_code == 200
    r = await client.post(f"/api/v1/accounts/{cast.alice.id}/mute", headers=cast.eve.headers)
    assert r.status_code == 200
    blocker = await listen(hub, cast.bob.id, "public", "hashtag#news")
    muter = await listen(hub, cast.eve.id, "public")
    blocked = await listen(hub, cast.alice.id, "public")
    anonymous = await listen(hub, None, "public")
    hidden = await post(client, cast.alice, "blocked and muted #news")
    await drain()
    assert (await receive_status(anonymous))[2]["id"] == hidden["id"]
    assert (await receive_status(blocked))[2]["id"] == hidden["id"]  # the author sees its own

    # ...and the blocked author hears nothing of the one who blocked it.
    spoken = await post(client, cast.bob, "bob speaks")
    sentinel = await post(client, cast.admin, "after #news")
    await drain()
    for listener in (blocker, muter):
        assert (await receive_status(listener))[2]["id"] == spoken["id"]
        assert (await receive_status(listener))[2]["id"] == sentinel["id"]
    assert (await receive_status(blocked))[2]["id"] == sentinel["id"]
    assert (await receive_status(blocker))[2]["id"] == sentinel["id"]  # on #news


async def test_each_listener_gets_its_own_flags(client, cast, drain, hub):
    await follow(client, cast.bob, cast.eve)
    await follow(client, cast.admin, cast.eve)
    original = await post(client, cast.alice, "worth sharing")
    await drain()
    r = await client.post(f"/api/v1/statuses/{original['id']}/favourite", headers=cast.bob.headers)
    assert r.status_code == 200
    bob = await listen(hub, cast.bob.id, "user")
    admin = await listen(hub, cast.admin.id, "user")
    boost = (await client.post(f"/api/v1/statuses/{original['id']}/reblog", headers=cast.eve.headers)).json()
    await drain()
    for listener, favourited in ((bob, True), (admin, False)):
        _, event, entity = await receive_status(listener)
        assert (event, entity["id"], entity["reblog"]["id"]) == ("update", boost["id"], original["id"])
        assert entity["reblog"]["favourited"] is favourited
        assert entity["favourited"] is favourited  # a boost shows its original's flags


async def test_notifications_edits_and_deletes(client, cast, drain, hub):
    await follow(client, cast.bob, cast.alice)
    await drain()
    home = await listen(hub, cast.bob.id, "user")
    bell = await listen(hub, cast.bob.id, "user:notification")
    mine = await post(client, cast.bob, "like me")
    await drain()
    assert (await receive_status(home))[2]["id"] == mine["id"]
    await client.post(f"/api/v1/statuses/{mine['id']}/favourite", headers=cast.alice.headers)
    await drain()
    for listener, label in ((home, ["user"]), (bell, ["user:notification"])):
        got_label, event, notification = await receive_status(listener)
        assert (got_label, event, notification["type"]) == (label, "notification", "favourite")
        assert notification["account"]["username"] == "alice" and notification["status"]["id"] == mine["id"]

    status = await post(client, cast.alice, "first draft")
    await drain()
    assert (await receive_status(home))[2]["id"] == status["id"]
    r = await client.put(f"/api/v1/statuses/{status['id']}", data={"status": "second draft"},
                         headers=cast.alice.headers)
    assert r.status_code == 200
    await drain()
    _, event, entity = await receive_status(home)
    assert event == "status.update" and "second draft" in entity["content"] and entity["edited_at"]
    r = await client.delete(f"/api/v1/statuses/{status['id']}", headers=cast.alice.headers)
    assert r.status_code == 200
    await drain()
    assert await receive(home) == (["user"], "delete", status["id"])


async def test_list_stream_carries_members_posts(client, cast, drain, hub):
    await follow(client, cast.bob, cast.alice)
    lst = (await client.post("/api/v1/lists", data={"title": "friends", "exclusive": "true"},
                             headers=cast.bob.headers)).json()
    r = await client.post(f"/api/v1/lists/{lst['id']}/accounts", data={"account_ids[]": [cast.alice.id]},
                          headers=cast.bob.headers)
    assert r.status_code == 200, r.text
    listener = await listen(hub, cast.bob.id, f"list#{lst['id']}", "user")
    status = await post(client, cast.alice, "for my list")
    own = await post(client, cast.bob, "bob's own")
    await drain()
    label, event, entity = await receive_status(listener)
    assert (label, event, entity["id"]) == (["list", lst["id"]], "update", status["id"])
    # The list is exclusive: alice's post stays out of bob's home stream, as out of his home feed.
    label, event, entity = await receive_status(listener)
    assert (label, entity["id"]) == (["user"], own["id"])


async def test_statements_per_event_do_not_grow_with_listeners(ctx, client, cast, drain, make_account):
    """Deciding and rendering a public status for many logged-in listeners costs the same statements as
    for a few: batched per event, one render per group of listeners that see the same JSON."""
    from starling.api.entities.hydration import entity_cache
    from starling.api.streaming import EntityRenderer
    from starling.streaming.hub import Hub
    from tests.test_timelines_support import QueryCounter

    hub = Hub(ctx.db, pubsub.Bus(pubsub.LOCAL), EntityRenderer(ctx))  # fed by hand below
    status = await post(client, cast.alice, "for everyone")
    await drain()

    async def deliver_to(listeners: list[Listener]) -> list[str]:
        for listener in listeners:
            await hub.join(listener)
        entity_cache(ctx).clear()  # every measurement starts cold: the 2 s author cache must not decide them
        with QueryCounter(ctx) as counted:  # BEGIN, COMMIT, ROLLBACK and PRAGMA are connection upkeep
            await hub.on_events([{"kind": "status", "id": int(status["id"]), "edited": False}])
        for listener in listeners:
            assert (await receive_status(listener))[2]["id"] == status["id"]
            hub.leave(listener)
        return counted.statements

    def public_listener(viewer_id):
        return Listener(viewer_id, streams={streams.parse("public")})

    many_accounts = [await make_account(f"reader{i}") for i in range(12)]
    await deliver_to([public_listener(cast.carol.id)])  # first use of anything cached per process is not the point
    few = await deliver_to([public_listener(cast.bob.id), public_listener(None)])
    many = await deliver_to([public_listener(a.id) for a in many_accounts] + [public_listener(None)])
    assert few and len(many) == len(few), "\n".join(["few:", *few, "", "many:", *many])
