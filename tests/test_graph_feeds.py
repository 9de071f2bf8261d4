"""The graph's feed jobs end to end: a follow merges the account's posts into the home timeline, an
authorized request does too, and an unfollow or a block takes them out again."""

from __future__ import annotations


async def home_ids(client, who) -> list[str]:
    r = await client.get("/api/v1/timelines/home", headers=who.headers)
    assert r.status_code == 200, r.text
    return [s["id"] for s in r.json()]


async def post_status(client, who, text: str) -> str:
    r = await client.post("/api/v1/statuses", headers=who.headers, json={"status": text})
    assert r.status_code == 200, r.text
    return r.json()["id"]


async def test_follow_merges_and_unfollow_or_block_unmerges(client, cast, drain):
    earlier = await post_status(client, cast.bob, "written before anyone followed")
    await drain()
    assert earlier not in await home_ids(client, cast.alice)

    await client.post(f"/api/v1/accounts/{cast.bob.id}/follow", headers=cast.alice.headers)
    await drain()
    assert earlier in await home_ids(client, cast.alice)

    await client.post(f"/api/v1/accounts/{cast.bob.id}/unfollow", headers=cast.alice.headers)
    await drain()
    assert earlier not in await home_ids(client, cast.alice)

    await client.post(f"/api/v1/accounts/{cast.bob.id}/follow", headers=cast.alice.headers)
    await drain()
    assert earlier in await home_ids(client, cast.alice)
    await client.post(f"/api/v1/accounts/{cast.alice.id}/block", headers=cast.bob.headers)
    await drain()
    assert earlier not in await home_ids(client, cast.alice)


async def test_authorized_request_merges_the_locked_accounts_posts(client, cast, drain):
    secret = await post_status(client, cast.carol, "for approved followers")
    await client.post(f"/api/v1/accounts/{cast.carol.id}/follow", headers=cast.alice.headers)
    await drain()
    assert secret not in await home_ids(client, cast.alice)
    await client.post(f"/api/v1/follow_requests/{cast.alice.id}/authorize", headers=cast.carol.headers)
    await drain()
    assert secret in await home_ids(client, cast.alice)
