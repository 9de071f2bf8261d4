"""Follow suggestions (`/api/v1/suggestions`, `/api/v2/suggestions`): the most followed discoverable
accounts, never oneself or anyone already followed, requested, blocked either way, muted, dismissed,
suspended or undiscoverable; dismissing is the reader's own and idempotent."""

from __future__ import annotations


async def suggested(client, who, version: int = 2, **params) -> list[str]:
    r = await client.get(f"/api/v{version}/suggestions", params=params, headers=who.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    if version == 2:
        assert all(s["source"] == "global" and s["sources"] == ["most_followed"] for s in body)
        return [s["account"]["username"] for s in body]
    return [a["username"] for a in body]


async def follow(client, who, target):
    r = await client.post(f"/api/v1/accounts/{target.id}/follow", headers=who.headers)
    assert r.status_code == 200, r.text


async def test_most_followed_first_without_oneself_or_the_already_followed(client, cast):
    await follow(client, cast.carol, cast.bob)
    await follow(client, cast.eve, cast.bob)
    await follow(client, cast.bob, cast.eve)
    names = await suggested(client, cast.alice)
    assert names[:2] == ["bob", "eve"] and "alice" not in names
    assert set(names) == {"carol", "bob", "eve", "admin"}
    assert await suggested(client, cast.alice, version=1) == names
    assert await suggested(client, cast.alice, limit=1) == ["bob"]

    await follow(client, cast.alice, cast.bob)
    await follow(client, cast.alice, cast.carol)  # carol is locked: a request, which leaves her out too
    assert set(await suggested(client, cast.alice)) == {"eve", "admin"}


async def test_blocks_mutes_dismissals_and_undiscoverable_accounts_are_left_out(client, cast, make_account):
    await client.post(f"/api/v1/accounts/{cast.bob.id}/block", headers=cast.alice.headers)
    await client.post(f"/api/v1/accounts/{cast.alice.id}/block", headers=cast.carol.headers)
    await client.post(f"/api/v1/accounts/{cast.eve.id}/mute", headers=cast.alice.headers)
    hidden = await make_account("hidden")
    r = await client.patch("/api/v1/accounts/update_credentials", json={"discoverable": False},
                           headers=hidden.headers)
    assert r.status_code == 200
    assert await suggested(client, cast.alice) == ["admin"]

    for _ in range(2):  # dismissing twice is the same as once
        r = await client.delete(f"/api/v1/suggestions/{cast.admin.id}", headers=cast.alice.headers)
        assert r.status_code == 200 and r.json() == {}
    assert await suggested(client, cast.alice) == []
    assert "admin" in await suggested(client, cast.bob)  # alice's dismissal is hers alone


async def test_errors_and_scopes(client, cast, make_account):
    assert (await client.get("/api/v2/suggestions")).status_code == 401
    assert (await client.delete("/api/v1/suggestions/123456789", headers=cast.alice.headers)).status_code == 404
    narrow = await make_account("narrow", scopes="read:statuses")
    assert (await client.get("/api/v2/suggestions", headers=narrow.headers)).status_code == 403
    assert "bob" in await suggested(client, cast.alice, limit=1000)  # a limit past 80 is clamped, not refused
