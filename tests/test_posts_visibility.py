"""Who sees what through the API: private, direct, blocks, suspension, boosts, threads."""

from __future__ import annotations

from starling import clock, ids
from starling.accounts.models import Account
from starling.graph.models import Block, Follow, Mute


async def post(client, who, **fields) -> dict:
    response = await client.post("/api/v1/statuses", headers=who.headers, json=fields)
    assert response.status_code == 200, response.text
    return response.json()


async def follow(ctx, follower, target) -> None:
    async with ctx.db.write() as session:
        session.add(Follow(id=ids.new_id(), account_id=follower.id, target_account_id=target.id))


async def block(ctx, blocker, target) -> None:
    async with ctx.db.write() as session:
        session.add(Block(id=ids.new_id(), account_id=blocker.id, target_account_id=target.id))


async def status_code(client, status_id: str, who=None) -> int:
    headers = who.headers if who is not None else {}
    return (await client.get(f"/api/v1/statuses/{status_id}", headers=headers)).status_code


async def test_private_post_is_for_followers_and_the_mentioned(client, cast, ctx):
    await follow(ctx, cast.bob, cast.alice)
    secret = await post(client, cast.alice, status="followers only, and @carol", visibility="private")
    assert await status_code(client, secret["id"]) == 404
    assert await status_code(client, secret["id"], cast.eve) == 404
    assert await status_code(client, secret["id"], cast.bob) == 200
    assert await status_code(client, secret["id"], cast.carol) == 200
    assert await status_code(client, secret["id"], cast.alice) == 200


async def test_direct_post_is_only_for_the_mentioned(client, cast, ctx):
    await follow(ctx, cast.bob, cast.alice)
    dm = await post(client, cast.alice, status="@carol just us", visibility="direct")
    assert await status_code(client, dm["id"], cast.carol) == 200
    assert await status_code(client, dm["id"], cast.bob) == 404
    assert await status_code(client, dm["id"]) == 404
    context = await client.get(f"/api/v1/statuses/{dm['id']}/context", headers=cast.bob.headers)
    assert context.status_code == 404
    assert (await client.get(f"/api/v1/statuses/{dm['id']}/favourited_by")).status_code == 404


async def test_blocks_hide_posts_both_ways(client, cast, ctx):
    public = await post(client, cast.alice, status="hello world")
    await block(ctx, cast.alice, cast.eve)
    assert await status_code(client, public["id"], cast.eve) == 404
    eves = await post(client, cast.eve, status="eve here")
    assert await status_code(client, eves["id"], cast.alice) == 404
    assert await status_code(client, eves["id"], cast.bob) == 200
    favourite = await client.post(f"/api/v1/statuses/{public['id']}/favourite", headers=cast.eve.headers)
    assert favourite.status_code == 404
    reply = await client.post("/api/v1/statuses", headers=cast.eve.headers,
                              json={"status": "hey", "in_reply_to_id": public["id"]})
    assert reply.status_code == 404


async def test_suspended_authors_posts_disappear(client, cast, ctx):
    public = await post(client, cast.eve, status="spam")
    async with ctx.db.write() as session:
        (await session.get(Account, cast.eve.id)).suspended_at = clock.utcnow_naive()
    assert await status_code(client, public["id"]) == 404
    assert await status_code(client, public["id"], cast.alice) == 404


async def test_a_token_without_read_scope_cannot_read(client, cast, make_account):
    public = await post(client, cast.alice, status="hello")
    writer = await make_account("writer", scopes="write")
    assert await status_code(client, public["id"], writer) == 403
    assert (await client.get(f"/api/v1/statuses/{public['id']}",
                             headers={"Authorization": "Bearer nonsense"})).status_code == 401


async def test_huge_or_unknown_ids_are_404(client, cast):
    assert await status_code(client, "12345") == 404
    assert await status_code(client, "99999999999999999999") == 404
    assert (await client.get("/api/v1/statuses/abc")).status_code == 404


async def test_boost_of_a_post_hidden_by_a_block_is_hidden(client, cast, ctx):
    original = await post(client, cast.alice, status="boost me")
    boost = await client.post(f"/api/v1/statuses/{original['id']}/reblog", headers=cast.bob.headers)
    assert boost.status_code == 200, boost.text
    boost_id = boost.json()["id"]
    assert await status_code(client, boost_id, cast.eve) == 200
    await block(ctx, cast.alice, cast.eve)
    assert await status_code(client, boost_id, cast.eve) == 404
    listed = await client.get("/api/v1/statuses", params={"id[]": boost_id}, headers=cast.eve.headers)
    assert listed.json() == []


async def test_context_is_filtered_for_the_viewer(client, cast, ctx):
    root = await post(client, cast.alice, status="root")
    first = await post(client, cast.bob, status="first reply", in_reply_to_id=root["id"])
    hidden = await post(client, cast.bob, status="private reply", in_reply_to_id=root["id"],
                        visibility="private")
    deeper = await post(client, cast.carol, status="deeper", in_reply_to_id=first["id"])
    deepest = await post(client, cast.eve, status="deepest", in_reply_to_id=deeper["id"])
    await follow(ctx, cast.alice, cast.bob)

    path = f"/api/v1/statuses/{root['id']}/context"
    as_alice = (await client.get(path, headers=cast.alice.headers)).json()
    assert as_alice["ancestors"] == []
    expected = [first["id"], hidden["id"], deeper["id"], deepest["id"]]
    assert [s["id"] for s in as_alice["descendants"]] == expected

    logged_out = (await client.get(f"/api/v1/statuses/{root['id']}/context")).json()
    assert [s["id"] for s in logged_out["descendants"]] == [first["id"], deeper["id"], deepest["id"]]

    from_below = (await client.get(f"/api/v1/statuses/{deepest['id']}/context")).json()
    assert [s["id"] for s in from_below["ancestors"]] == [root["id"], first["id"], deeper["id"]]
    assert from_below["descendants"] == []

    await block(ctx, cast.carol, cast.alice)
    async with ctx.db.write() as session:
        session.add(Mute(id=ids.new_id(), account_id=cast.alice.id, target_account_id=cast.eve.id))
    blocked_view = (await client.get(path, headers=cast.alice.headers)).json()
    assert [s["id"] for s in blocked_view["descendants"]] == [first["id"], hidden["id"]]


async def test_context_ancestors_stop_at_forty(client, cast):
    parent = await post(client, cast.alice, status="0")
    chain = [parent["id"]]
    for n in range(1, 45):
        parent = await post(client, cast.alice, status=str(n), in_reply_to_id=parent["id"])
        chain.append(parent["id"])
    context = (await client.get(f"/api/v1/statuses/{chain[-1]}/context")).json()
    assert [s["id"] for s in context["ancestors"]] == chain[-41:-1]
