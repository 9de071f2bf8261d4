"""Lists: CRUD, membership rules, the members endpoint's pagination, and the list timeline."""

from __future__ import annotations

from starling.graph import service as graph
from tests.test_timelines_support import block, follow, mute, post, unfollow

BASE = "http://testserver"


async def make_list(client, who, title="friends", **extra) -> dict:
    response = await client.post("/api/v1/lists", json={"title": title, **extra}, headers=who.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_create_show_update_delete(client, cast):
    created = await make_list(client, cast.alice)
    assert set(created) == {"id", "title", "replies_policy", "exclusive"}
    assert (created["title"], created["replies_policy"], created["exclusive"]) == ("friends", "list", False)
    path = f"/api/v1/lists/{created['id']}"
    assert (await client.get(path, headers=cast.alice.headers)).json() == created

    updated = await client.put(path, data={"title": "close friends", "replies_policy": "followed",
                                           "exclusive": "true"}, headers=cast.alice.headers)
    assert updated.json() == {"id": created["id"], "title": "close friends", "replies_policy": "followed",
                              "exclusive": True}
    listed = await client.get("/api/v1/lists", headers=cast.alice.headers)
    assert [entry["id"] for entry in listed.json()] == [created["id"]]

    assert (await client.delete(path, headers=cast.alice.headers)).json() == {}
    assert (await client.get(path, headers=cast.alice.headers)).status_code == 404
    assert (await client.get("/api/v1/lists", headers=cast.alice.headers)).json() == []


async def test_validation_and_ownership(client, cast, make_account):
    for body in ({}, {"title": "   "}, {"title": "x" * 257}, {"title": "ok", "replies_policy": "everyone"}):
        response = await client.post("/api/v1/lists", json=body, headers=cast.alice.headers)
        assert response.status_code == 422, body
        assert "error" in response.json()
    mine = await make_list(client, cast.alice)
    path = f"/api/v1/lists/{mine['id']}"
    for method in ("get", "delete"):
        assert (await getattr(client, method)(path, headers=cast.bob.headers)).status_code == 404
    assert (await client.put(path, json={"title": "x"}, headers=cast.bob.headers)).status_code == 404
    assert (await client.get("/api/v1/lists/999")).status_code == 401
    assert (await client.get(f"/api/v1/lists/{2**64}", headers=cast.alice.headers)).status_code == 404
    reader = await make_account("reader", scopes="read")
    refused = await client.post("/api/v1/lists", json={"title": "x"}, headers=reader.headers)
    assert refused.status_code == 403


async def test_members_must_be_followed(client, ctx, cast):
    lst = await make_list(client, cast.alice)
    path = f"/api/v1/lists/{lst['id']}/accounts"
    await follow(ctx, cast.alice.id, cast.bob.id)
    await follow(ctx, cast.alice.id, cast.carol.id)  # carol is locked: a pending request is enough

    refused = await client.post(path, data={"account_ids[]": [str(cast.eve.id)]}, headers=cast.alice.headers)
    assert refused.status_code == 422
    unknown = await client.post(path, json={"account_ids": ["12345"]}, headers=cast.alice.headers)
    assert unknown.status_code == 404
    added = await client.post(path, json={"account_ids": [str(cast.bob.id), str(cast.carol.id)]},
                              headers=cast.alice.headers)
    assert added.status_code == 200 and added.json() == {}
    again = await client.post(path, json={"account_ids": [str(cast.bob.id)]}, headers=cast.alice.headers)
    assert again.status_code == 200
    myself = await client.post(path, json={"account_ids": [str(cast.alice.id)]}, headers=cast.alice.headers)
    assert myself.status_code == 200

    members = await client.get(path, headers=cast.alice.headers)
    expected = sorted(str(c.id) for c in (cast.alice, cast.bob, cast.carol))
    assert sorted(a["id"] for a in members.json()) == expected
    in_lists = await client.get(f"/api/v1/accounts/{cast.bob.id}/lists", headers=cast.alice.headers)
    assert [entry["id"] for entry in in_lists.json()] == [lst["id"]]
    not_in_any = await client.get(f"/api/v1/accounts/{cast.eve.id}/lists", headers=cast.alice.headers)
    assert not_in_any.json() == []
    assert (await client.get("/api/v1/accounts/12345/lists", headers=cast.alice.headers)).status_code == 404

    removed = await client.request("DELETE", path, headers=cast.alice.headers,
                                   json={"account_ids": [str(cast.bob.id), str(cast.alice.id)]})
    assert removed.json() == {}
    left = await client.get(path, headers=cast.alice.headers)
    assert [a["id"] for a in left.json()] == [str(cast.carol.id)]
    assert (await client.get(path, headers=cast.bob.headers)).status_code == 404


async def test_members_paginate_by_account_id(client, ctx, cast, make_account):
    others = [await make_account(f"member{n}") for n in range(3)]
    lst = await make_list(client, cast.alice)
    for other in others:
        await follow(ctx, cast.alice.id, other.id)
    path = f"/api/v1/lists/{lst['id']}/accounts"
    await client.post(path, json={"account_ids": [str(o.id) for o in others]}, headers=cast.alice.headers)
    newest = sorted((o.id for o in others), reverse=True)
    page = await client.get(f"{path}?limit=2", headers=cast.alice.headers)
    assert [int(a["id"]) for a in page.json()] == newest[:2]
    assert page.headers["link"] == (f'<{BASE}{path}?limit=2&max_id={newest[1]}>; rel="next", '
                                    f'<{BASE}{path}?limit=2&min_id={newest[0]}>; rel="prev"')
    rest = await client.get(f"{path}?limit=2&max_id={newest[1]}", headers=cast.alice.headers)
    assert [int(a["id"]) for a in rest.json()] == newest[2:]
    everyone = await client.get(f"{path}?limit=0", headers=cast.alice.headers)
    assert len(everyone.json()) == 3 and "link" not in everyone.headers


async def test_unfollowing_takes_the_account_out_of_lists(client, ctx, cast):
    lst = await make_list(client, cast.alice)
    await follow(ctx, cast.alice.id, cast.bob.id)
    path = f"/api/v1/lists/{lst['id']}/accounts"
    await client.post(path, json={"account_ids": [str(cast.bob.id)]}, headers=cast.alice.headers)
    await unfollow(ctx, cast.alice.id, cast.bob.id)
    assert (await client.get(path, headers=cast.alice.headers)).json() == []


async def test_membership_ends_with_the_follow_before_any_job_runs(client, ctx, cast):
    lst = await make_list(client, cast.alice)
    await follow(ctx, cast.alice.id, cast.bob.id)
    path = f"/api/v1/lists/{lst['id']}/accounts"
    await client.post(path, json={"account_ids": [str(cast.bob.id)]}, headers=cast.alice.headers)
    bob_says = await post(ctx, cast.bob.id, "hello list")
    async with ctx.db.write() as session:  # the unmerge job is queued, not run
        await graph.unfollow(session, cast.alice.id, cast.bob.id)
    assert (await client.get(path, headers=cast.alice.headers)).json() == []
    in_lists = await client.get(f"/api/v1/accounts/{cast.bob.id}/lists", headers=cast.alice.headers)
    assert in_lists.json() == []
    timeline = await client.get(f"/api/v1/timelines/list/{lst['id']}", headers=cast.alice.headers)
    assert timeline.json() == []
    async with ctx.db.write() as session:
        await graph.follow(session, cast.alice.id, cast.bob.id)
    again = await client.post(path, json={"account_ids": [str(cast.bob.id)]}, headers=cast.alice.headers)
    assert again.status_code == 200
    timeline = await client.get(f"/api/v1/timelines/list/{lst['id']}", headers=cast.alice.headers)
    assert [int(s["id"]) for s in timeline.json()] == [bob_says]


async def test_list_timeline_shows_members_and_honours_replies_policy(client, ctx, cast, make_account):
    dave = await make_account("dave")
    for target in (cast.bob, cast.eve, dave):
        await follow(ctx, cast.alice.id, target.id)
    lst = await make_list(client, cast.alice, replies_policy="list")
    await client.post(f"/api/v1/lists/{lst['id']}/accounts", json={"account_ids": [str(cast.bob.id),
                                                                                    str(cast.eve.id)]},
                      headers=cast.alice.headers)
    by_bob = await post(ctx, cast.bob.id, "bob speaks")
    by_dave = await post(ctx, dave.id, "dave is not in the list")
    to_member = await post(ctx, cast.eve.id, "eve answers bob", reply_to=by_bob)
    to_followed = await post(ctx, cast.bob.id, "bob answers dave", reply_to=by_dave)
    private = await post(ctx, cast.eve.id, "for followers", visibility="private")
    await post(ctx, cast.eve.id, "@bob direct", visibility="direct")
    path = f"/api/v1/timelines/list/{lst['id']}"

    def ids(response):
        assert response.status_code == 200, response.text
        return [int(s["id"]) for s in response.json()]

    async def policy(name):
        await client.put(f"/api/v1/lists/{lst['id']}", json={"replies_policy": name},
                         headers=cast.alice.headers)
        return ids(await client.get(path, headers=cast.alice.headers))

    assert ids(await client.get(path, headers=cast.alice.headers)) == [private, to_member, by_bob]
    assert await policy("followed") == [private, to_followed, to_member, by_bob]
    assert await policy("none") == [private, by_bob]

    page = await client.get(f"{path}?limit=1", headers=cast.alice.headers)
    assert ids(page) == [private]
    assert page.headers["link"] == (f'<{BASE}{path}?limit=1&max_id={private}>; rel="next", '
                                    f'<{BASE}{path}?limit=1&min_id={private}>; rel="prev"')
    await mute(ctx, cast.alice.id, cast.eve.id)
    assert ids(await client.get(path, headers=cast.alice.headers)) == [by_bob]
    await block(ctx, cast.bob.id, cast.alice.id)  # ends alice's follow: bob leaves the list too
    assert ids(await client.get(path, headers=cast.alice.headers)) == []
    assert (await client.get(path, headers=cast.bob.headers)).status_code == 404
