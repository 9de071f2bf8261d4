"""Blocks end follows both ways and hide the blocker; followers/following lists paginate by follow id."""

from __future__ import annotations

from sqlalchemy import select, update

from starling import clock
from starling.accounts.models import Account
from starling.graph import jobs as graph_jobs
from starling.infra.jobs import Job
from starling.notifications.models import Notification


async def post(client, actor, target, action, **kwargs):
    r = await client.post(f"/api/v1/accounts/{target.id}/{action}", headers=actor.headers, **kwargs)
    assert r.status_code == 200, r.text
    return r.json()


async def counts(ctx, account_id):
    async with ctx.db.read() as s:
        a = await s.get(Account, account_id)
        return a.followers_count, a.following_count


async def test_block_ends_follows_both_ways_and_hides_the_blocker(client, cast, ctx):
    await post(client, cast.alice, cast.bob, "follow")
    await post(client, cast.bob, cast.alice, "follow")
    await post(client, cast.bob, cast.carol, "follow")       # a request, from the blocked side
    assert await counts(ctx, cast.alice.id) == (1, 1)

    rel = await post(client, cast.carol, cast.bob, "block")
    assert rel["blocking"] is True and rel["requested_by"] is False
    rel = await post(client, cast.alice, cast.bob, "block")
    assert rel["blocking"] is True and rel["following"] is False and rel["followed_by"] is False
    assert await counts(ctx, cast.alice.id) == (0, 0)
    assert await counts(ctx, cast.bob.id) == (0, 0)
    # Blocking twice changes nothing.
    await post(client, cast.alice, cast.bob, "block")

    # Bob's follow notification to alice went with the block; carol's request notification too.
    async with ctx.db.read() as s:
        rows = (await s.scalars(select(Notification))).all()
        assert [(n.account_id, n.type) for n in rows] == []
        unmerged = {(j.payload["account_id"], j.payload["target_id"])
                    for j in await s.scalars(select(Job).where(Job.kind == "graph.feed_unmerge"))}
    assert unmerged == {(cast.alice.id, cast.bob.id), (cast.bob.id, cast.alice.id),
                        (cast.carol.id, cast.bob.id), (cast.bob.id, cast.carol.id)}

    # The blocked account sees none of the blocker's network; others still do.
    await post(client, cast.eve, cast.alice, "follow")
    r = await client.get(f"/api/v1/accounts/{cast.alice.id}/followers", headers=cast.bob.headers)
    assert r.status_code == 200 and r.json() == []
    r = await client.get(f"/api/v1/accounts/{cast.alice.id}/followers", headers=cast.carol.headers)
    assert [a["id"] for a in r.json()] == [str(cast.eve.id)]

    r = await client.get("/api/v1/blocks", headers=cast.alice.headers)
    assert [a["id"] for a in r.json()] == [str(cast.bob.id)]
    rel = await post(client, cast.alice, cast.bob, "unblock")
    assert rel["blocking"] is False
    assert (await client.get("/api/v1/blocks", headers=cast.alice.headers)).json() == []


async def test_blocks_and_mutes_lists_paginate(client, cast, make_account):
    targets = [await make_account(f"target{i}") for i in range(3)]
    for t in targets:
        await post(client, cast.alice, t, "block")
        await post(client, cast.bob, t, "mute")
    for path, who in (("/api/v1/blocks", cast.alice), ("/api/v1/mutes", cast.bob)):
        r = await client.get(path, params={"limit": 2}, headers=who.headers)
        assert [a["username"] for a in r.json()] == ["target2", "target1"]
        r2 = await client.get(r.links["next"]["url"], headers=who.headers)
        assert [a["username"] for a in r2.json()] == ["target0"]
        r3 = await client.get(r2.links["prev"]["url"], headers=who.headers)
        assert [a["username"] for a in r3.json()] == ["target2", "target1"]
    assert (await client.get("/api/v1/blocks", headers=cast.bob.headers)).json() == []
    assert (await client.get("/api/v1/blocks")).status_code == 401


async def test_followers_and_following_lists(client, cast, ctx, make_account):
    fans = [await make_account(f"fan{i}") for i in range(4)]
    for fan in fans:
        await post(client, fan, cast.bob, "follow")
    await post(client, cast.bob, cast.alice, "follow")

    r = await client.get(f"/api/v1/accounts/{cast.bob.id}/followers", params={"limit": 3})  # public
    assert r.status_code == 200
    assert [a["username"] for a in r.json()] == ["fan3", "fan2", "fan1"]
    r = await client.get(r.links["next"]["url"])
    assert [a["username"] for a in r.json()] == ["fan0"]
    r = await client.get(f"/api/v1/accounts/{cast.bob.id}/following", headers=cast.eve.headers)
    assert [a["username"] for a in r.json()] == ["alice"]
    assert r.json()[0]["followers_count"] == 1

    # Suspended followers drop out of the list.
    async with ctx.db.write() as s:
        await s.execute(update(Account).where(Account.id == fans[3].id)
                        .values(suspended_at=clock.utcnow_naive()))
    r = await client.get(f"/api/v1/accounts/{cast.bob.id}/followers")
    assert [a["username"] for a in r.json()] == ["fan2", "fan1", "fan0"]
    assert (await client.get("/api/v1/accounts/999999/followers")).status_code == 404
    assert (await client.get(f"/api/v1/accounts/{2**63}/following")).status_code == 404

    # remove_from_followers
    rel = await post(client, cast.bob, fans[0], "remove_from_followers")
    assert rel["followed_by"] is False
    r = await client.get(f"/api/v1/accounts/{cast.bob.id}/followers")
    assert [a["username"] for a in r.json()] == ["fan2", "fan1"]


async def test_familiar_followers(client, cast):
    await post(client, cast.alice, cast.bob, "follow")
    await post(client, cast.alice, cast.eve, "follow")
    await post(client, cast.bob, cast.admin, "follow")
    await post(client, cast.eve, cast.admin, "follow")
    await post(client, cast.carol, cast.admin, "follow")   # alice does not follow carol
    r = await client.get("/api/v1/accounts/familiar_followers",
                         params=[("id[]", cast.admin.id), ("id[]", cast.bob.id), ("id[]", "7")],
                         headers=cast.alice.headers)
    assert r.status_code == 200
    body = r.json()
    assert [entry["id"] for entry in body] == [str(cast.admin.id), str(cast.bob.id)]
    assert sorted(a["username"] for a in body[0]["accounts"]) == ["bob", "eve"]
    assert body[1]["accounts"] == []


async def test_feed_jobs_call_timelines_and_skip_stale_work(client, cast, ctx, drain, monkeypatch):
    calls = []

    async def merge(session, account_id, target_id):
        calls.append(("merge", account_id, target_id))

    async def unmerge(session, account_id, target_id):
        calls.append(("unmerge", account_id, target_id))

    monkeypatch.setattr(graph_jobs.timelines, "merge_account_into_feed", merge)
    monkeypatch.setattr(graph_jobs.timelines, "unmerge_account_from_feed", unmerge)

    await post(client, cast.alice, cast.bob, "follow")
    await drain()
    assert calls == [("merge", cast.alice.id, cast.bob.id)]

    # Follow then unfollow before the worker runs: the merge finds no follow and does nothing.
    calls.clear()
    await post(client, cast.alice, cast.eve, "follow")
    await post(client, cast.alice, cast.eve, "unfollow")
    await drain()
    assert calls == [("unmerge", cast.alice.id, cast.eve.id)]

    calls.clear()
    await post(client, cast.alice, cast.bob, "unfollow")
    await post(client, cast.alice, cast.bob, "follow")
    await drain()
    assert calls == [("merge", cast.alice.id, cast.bob.id)]
