"""The profile directory (`/api/v1/directory`) and the translation languages an instance without a
translation service offers (none)."""

from __future__ import annotations

from starling.accounts import admin
from starling.accounts.models import Account

URL = "/api/v1/directory"


async def names(client, headers=None, **params) -> list[str]:
    r = await client.get(URL, params=params, headers=headers or {})
    assert r.status_code == 200, r.text
    return [a["username"] for a in r.json()]


async def post(client, who, text):
    r = await client.post("/api/v1/statuses", json={"status": text}, headers=who.headers)
    assert r.status_code == 200, r.text


async def test_active_order_puts_recent_posters_first_and_new_order_new_accounts(client, cast, make_account):
    late = await make_account("latecomer")
    await post(client, cast.carol, "first")
    await post(client, cast.alice, "second")
    active = await names(client)
    assert active[:2] == ["alice", "carol"]
    assert set(active) == {"alice", "carol", "bob", "eve", "admin", "latecomer"}
    assert (await names(client, order="new"))[0] == late.username
    assert await names(client, limit=1, offset=1) == ["carol"]


async def test_undiscoverable_suspended_blocked_and_muted_accounts_are_left_out(client, cast, ctx):
    r = await client.patch("/api/v1/accounts/update_credentials", json={"discoverable": False},
                           headers=cast.eve.headers)
    assert r.status_code == 200
    assert "eve" not in await names(client)
    await client.post(f"/api/v1/accounts/{cast.carol.id}/block", headers=cast.bob.headers)
    await client.post(f"/api/v1/accounts/{cast.alice.id}/mute", headers=cast.bob.headers)
    seen_by_bob = await names(client, headers=cast.bob.headers)
    assert "carol" not in seen_by_bob and "alice" not in seen_by_bob
    assert "bob" not in await names(client, headers=cast.carol.headers)  # blocked either way
    assert {"alice", "carol"} <= set(await names(client))

    async with ctx.db.write() as session:
        await admin.suspend(session, await session.get(Account, cast.admin.id), cast.alice.id)
    assert "alice" not in await names(client)


async def test_bad_parameters_and_scopes(client, cast, ctx, make_account):
    r = await client.get(URL, params={"order": "loudest"})
    assert r.status_code == 422 and "order" in r.json()["error"]
    narrow = await make_account("narrow", scopes="read:statuses")
    assert (await client.get(URL, headers=narrow.headers)).status_code == 403
    assert "alice" in await names(client, limit=1000)  # a limit past 80 is clamped, not refused
    ctx.settings.public_timelines_logged_out = False
    assert (await client.get(URL)).status_code == 422
    assert (await client.get(URL, headers=cast.bob.headers)).status_code == 200


async def test_translation_languages_are_none(client):
    r = await client.get("/api/v1/instance/translation_languages")
    assert r.status_code == 200 and r.json() == {}
