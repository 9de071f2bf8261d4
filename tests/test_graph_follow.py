"""Following open and locked accounts, follow requests, counters, scopes and the feed jobs."""

from __future__ import annotations

from sqlalchemy import func, select, update

from starling import clock
from starling.accounts.models import Account
from starling.graph.models import Follow, FollowRequest
from starling.infra.jobs import Job
from starling.notifications.models import Notification

RELATIONSHIP_KEYS = {"id", "following", "showing_reblogs", "notifying", "languages", "followed_by",
                     "blocking", "blocked_by", "muting", "muting_notifications", "requested", "requested_by",
                     "domain_blocking", "endorsed", "note"}


async def relationship(client, viewer, target) -> dict:
    r = await client.get("/api/v1/accounts/relationships", params={"id[]": target.id}, headers=viewer.headers)
    assert r.status_code == 200
    return r.json()[0]


async def act(client, actor, target, action, **kwargs):
    return await client.post(f"/api/v1/accounts/{target.id}/{action}", headers=actor.headers, **kwargs)


async def counts(ctx, account_id):
    async with ctx.db.read() as s:
        a = await s.get(Account, account_id)
        return a.followers_count, a.following_count


async def notifications_of(ctx, account_id):
    async with ctx.db.read() as s:
        rows = await s.scalars(select(Notification).where(Notification.account_id == account_id))
        return [(n.type, n.from_account_id) for n in rows]


async def jobs_of(ctx, kind):
    async with ctx.db.read() as s:
        return [j.payload for j in await s.scalars(select(Job).where(Job.kind == kind).order_by(Job.id))]


async def test_follow_open_account(client, cast, ctx):
    r = await client.post(f"/api/v1/accounts/{cast.bob.id}/follow", headers=cast.alice.headers)
    assert r.status_code == 200
    rel = r.json()
    assert set(rel) == RELATIONSHIP_KEYS
    assert rel["id"] == str(cast.bob.id)
    assert rel["following"] is True and rel["showing_reblogs"] is True and rel["notifying"] is False
    assert rel["requested"] is False and rel["followed_by"] is False
    assert await counts(ctx, cast.alice.id) == (0, 1)
    assert await counts(ctx, cast.bob.id) == (1, 0)
    assert await notifications_of(ctx, cast.bob.id) == [("follow", cast.alice.id)]
    assert await jobs_of(ctx, "graph.feed_merge") == [{"account_id": cast.alice.id, "target_id": cast.bob.id}]

    # From bob's side the edge shows as followed_by.
    rel = await relationship(client, cast.bob, cast.alice)
    assert rel["followed_by"] is True and rel["following"] is False


async def test_following_again_updates_options_only(client, cast, ctx):
    await client.post(f"/api/v1/accounts/{cast.bob.id}/follow", headers=cast.alice.headers)
    r = await client.post(f"/api/v1/accounts/{cast.bob.id}/follow", headers=cast.alice.headers,
                          json={"reblogs": False, "notify": True})
    assert r.json()["showing_reblogs"] is False and r.json()["notifying"] is True
    # Omitting an option keeps its value.
    r = await client.post(f"/api/v1/accounts/{cast.bob.id}/follow", headers=cast.alice.headers,
                          data={"notify": "false"})
    assert r.json()["showing_reblogs"] is False and r.json()["notifying"] is False
    assert await counts(ctx, cast.bob.id) == (1, 0)
    assert await notifications_of(ctx, cast.bob.id) == [("follow", cast.alice.id)]
    assert len(await jobs_of(ctx, "graph.feed_merge")) == 1


async def test_unfollow_restores_counters_and_withdraws_notification(client, cast, ctx):
    await client.post(f"/api/v1/accounts/{cast.bob.id}/follow", headers=cast.alice.headers)
    r = await client.post(f"/api/v1/accounts/{cast.bob.id}/unfollow", headers=cast.alice.headers)
    assert r.status_code == 200 and r.json()["following"] is False
    assert await counts(ctx, cast.alice.id) == (0, 0)
    assert await counts(ctx, cast.bob.id) == (0, 0)
    assert await notifications_of(ctx, cast.bob.id) == []
    assert await jobs_of(ctx, "graph.feed_unmerge") == [
        {"account_id": cast.alice.id, "target_id": cast.bob.id}]
    # Unfollowing again is harmless and never drives counters negative.
    r = await client.post(f"/api/v1/accounts/{cast.bob.id}/unfollow", headers=cast.alice.headers)
    assert r.status_code == 200
    assert await counts(ctx, cast.bob.id) == (0, 0)
    # A second follow notifies again (the first notification was withdrawn, so the key is free).
    await client.post(f"/api/v1/accounts/{cast.bob.id}/follow", headers=cast.alice.headers)
    assert await notifications_of(ctx, cast.bob.id) == [("follow", cast.alice.id)]


async def test_follow_locked_account_then_authorize(client, cast, ctx):
    r = await client.post(f"/api/v1/accounts/{cast.carol.id}/follow", headers=cast.alice.headers,
                          json={"reblogs": False})
    rel = r.json()
    assert rel["following"] is False and rel["requested"] is True and rel["showing_reblogs"] is False
    assert await counts(ctx, cast.carol.id) == (0, 0)
    assert await notifications_of(ctx, cast.carol.id) == [("follow_request", cast.alice.id)]
    assert await jobs_of(ctx, "graph.feed_merge") == []

    r = await client.get("/api/v1/follow_requests", headers=cast.carol.headers)
    assert [a["id"] for a in r.json()] == [str(cast.alice.id)]
    assert (await relationship(client, cast.carol, cast.alice))["requested_by"] is True

    r = await client.post(f"/api/v1/follow_requests/{cast.alice.id}/authorize", headers=cast.carol.headers)
    assert r.status_code == 200
    assert r.json()["id"] == str(cast.alice.id) and r.json()["followed_by"] is True
    assert r.json()["requested_by"] is False
    assert await counts(ctx, cast.carol.id) == (1, 0)
    assert await counts(ctx, cast.alice.id) == (0, 1)
    # The request's notification goes with the request; Mastodon adds no new one on authorize.
    assert await notifications_of(ctx, cast.carol.id) == []
    assert await jobs_of(ctx, "graph.feed_merge") == [
        {"account_id": cast.alice.id, "target_id": cast.carol.id}]
    rel = await relationship(client, cast.alice, cast.carol)
    assert rel["following"] is True and rel["requested"] is False
    assert rel["showing_reblogs"] is False  # carried over from the request
    assert (await client.get("/api/v1/follow_requests", headers=cast.carol.headers)).json() == []
    # Authorizing twice: there is no request any more.
    r = await client.post(f"/api/v1/follow_requests/{cast.alice.id}/authorize", headers=cast.carol.headers)
    assert r.status_code == 404


async def test_reject_and_cancel_follow_request(client, cast, ctx):
    await client.post(f"/api/v1/accounts/{cast.carol.id}/follow", headers=cast.alice.headers)
    r = await client.post(f"/api/v1/follow_requests/{cast.alice.id}/reject", headers=cast.carol.headers)
    assert r.status_code == 200 and r.json()["requested_by"] is False and r.json()["followed_by"] is False
    assert await notifications_of(ctx, cast.carol.id) == []
    assert await counts(ctx, cast.carol.id) == (0, 0)
    assert (await client.post(f"/api/v1/follow_requests/{cast.alice.id}/reject",
                              headers=cast.carol.headers)).status_code == 404

    # Unfollow withdraws a pending request.
    await client.post(f"/api/v1/accounts/{cast.carol.id}/follow", headers=cast.bob.headers)
    r = await client.post(f"/api/v1/accounts/{cast.carol.id}/unfollow", headers=cast.bob.headers)
    assert r.json()["requested"] is False
    async with ctx.db.read() as s:
        assert await s.scalar(select(func.count()).select_from(FollowRequest)) == 0


async def test_follow_requests_pagination(client, cast, make_account):
    fans = [await make_account(f"fan{i}") for i in range(3)]
    for fan in fans:
        await client.post(f"/api/v1/accounts/{cast.carol.id}/follow", headers=fan.headers)
    r = await client.get("/api/v1/follow_requests", params={"limit": 2}, headers=cast.carol.headers)
    assert [a["username"] for a in r.json()] == ["fan2", "fan1"]
    assert 'rel="next"' in r.headers["link"]
    next_url = r.headers["link"].split(">")[0].lstrip("<")
    r = await client.get(next_url, headers=cast.carol.headers)
    assert [a["username"] for a in r.json()] == ["fan0"]


async def test_cannot_follow_self_unknown_suspended_or_across_block(client, cast, ctx):
    assert (await act(client, cast.alice, cast.alice, "follow")).status_code == 404
    r = await client.post("/api/v1/accounts/12345/follow", headers=cast.alice.headers)
    assert r.status_code == 404 and r.json() == {"error": "Record not found"}
    r = await client.post(f"/api/v1/accounts/{2**64}/follow", headers=cast.alice.headers)
    assert r.status_code == 404

    async with ctx.db.write() as s:
        await s.execute(update(Account).where(Account.id == cast.eve.id)
                        .values(suspended_at=clock.utcnow_naive()))
    assert (await act(client, cast.alice, cast.eve, "follow")).status_code == 404

    await client.post(f"/api/v1/accounts/{cast.bob.id}/block", headers=cast.alice.headers)
    r = await client.post(f"/api/v1/accounts/{cast.bob.id}/follow", headers=cast.alice.headers)
    assert r.status_code == 403 and r.json() == {"error": "This action is not allowed"}
    r = await client.post(f"/api/v1/accounts/{cast.alice.id}/follow", headers=cast.bob.headers)
    assert r.status_code == 403
    async with ctx.db.read() as s:
        assert await s.scalar(select(func.count()).select_from(Follow)) == 0


async def test_scopes_for_follow_routes(client, cast, make_account):
    reader = await make_account("reader", scopes="read")
    r = await client.post(f"/api/v1/accounts/{cast.bob.id}/follow", headers=reader.headers)
    assert r.status_code == 403 and r.json() == {"error": "This action is outside the authorized scopes"}
    assert (await client.post(f"/api/v1/accounts/{cast.bob.id}/follow")).status_code == 401
    # The legacy `follow` scope grants the follow, block and mute sub-scopes.
    legacy = await make_account("legacy", scopes="follow")
    r = await client.post(f"/api/v1/accounts/{cast.bob.id}/follow", headers=legacy.headers)
    assert r.status_code == 200 and r.json()["following"] is True
    assert (await client.get("/api/v1/accounts/relationships", params={"id[]": cast.bob.id},
                             headers=legacy.headers)).status_code == 200
    narrow = await make_account("narrow", scopes="write:follows")
    assert (await act(client, narrow, cast.bob, "follow")).status_code == 200
    assert (await act(client, narrow, cast.bob, "block")).status_code == 403
    assert (await act(client, narrow, cast.bob, "mute")).status_code == 403
    assert (await act(client, narrow, cast.bob, "note")).status_code == 403
    assert (await client.get("/api/v1/follow_requests", headers=narrow.headers)).status_code == 403


async def test_hidden_collections_show_to_their_owner_only(client, cast):
    await client.post(f"/api/v1/accounts/{cast.alice.id}/follow", headers=cast.bob.headers)
    hidden = await client.patch("/api/v1/accounts/update_credentials", data={"hide_collections": "true"},
                                headers=cast.alice.headers)
    assert hidden.json()["hide_collections"] is True
    path = f"/api/v1/accounts/{cast.alice.id}/followers"
    assert (await client.get(path, headers=cast.eve.headers)).json() == []
    assert [a["id"] for a in (await client.get(path, headers=cast.alice.headers)).json()] == [str(cast.bob.id)]
