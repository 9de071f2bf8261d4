"""Endorsements (featured accounts): only of someone one follows, shown in the Relationship, listed for
oneself and on the profile (with its hide_collections rule), gone with the follow; both route names."""

from __future__ import annotations

import pytest


async def rel(client, who, target) -> dict:
    r = await client.get("/api/v1/accounts/relationships", params={"id[]": str(target.id)}, headers=who.headers)
    return r.json()[0]


async def usernames(response) -> list[str]:
    assert response.status_code == 200, response.text
    return [a["username"] for a in response.json()]


@pytest.mark.parametrize("on, off", [("endorse", "unendorse"), ("pin", "unpin")])
async def test_endorse_someone_followed_and_stop(client, cast, on, off):
    refused = await client.post(f"/api/v1/accounts/{cast.bob.id}/{on}", headers=cast.alice.headers)
    assert refused.status_code == 422 and "following" in refused.json()["error"]

    await client.post(f"/api/v1/accounts/{cast.bob.id}/follow", headers=cast.alice.headers)
    done = await client.post(f"/api/v1/accounts/{cast.bob.id}/{on}", headers=cast.alice.headers)
    assert done.status_code == 200 and done.json()["endorsed"] is True and done.json()["following"] is True
    assert (await rel(client, cast.alice, cast.bob))["endorsed"] is True
    assert (await rel(client, cast.eve, cast.bob))["endorsed"] is False  # alice's, not eve's
    assert await usernames(await client.get("/api/v1/endorsements", headers=cast.alice.headers)) == ["bob"]
    assert await usernames(await client.get(f"/api/v1/accounts/{cast.alice.id}/endorsements")) == ["bob"]

    undone = await client.post(f"/api/v1/accounts/{cast.bob.id}/{off}", headers=cast.alice.headers)
    assert undone.status_code == 200 and undone.json()["endorsed"] is False
    assert await usernames(await client.get("/api/v1/endorsements", headers=cast.alice.headers)) == []


async def test_unfollowing_or_blocking_ends_the_endorsement(client, cast):
    for target in (cast.bob, cast.eve):
        await client.post(f"/api/v1/accounts/{target.id}/follow", headers=cast.alice.headers)
        await client.post(f"/api/v1/accounts/{target.id}/endorse", headers=cast.alice.headers)
    await client.post(f"/api/v1/accounts/{cast.bob.id}/unfollow", headers=cast.alice.headers)
    await client.post(f"/api/v1/accounts/{cast.alice.id}/block", headers=cast.eve.headers)
    assert await usernames(await client.get("/api/v1/endorsements", headers=cast.alice.headers)) == []
    await client.post(f"/api/v1/accounts/{cast.bob.id}/follow", headers=cast.alice.headers)
    assert (await rel(client, cast.alice, cast.bob))["endorsed"] is False  # following again does not restore it


async def test_a_hidden_network_and_scopes(client, cast, make_account):
    await client.post(f"/api/v1/accounts/{cast.bob.id}/follow", headers=cast.alice.headers)
    await client.post(f"/api/v1/accounts/{cast.bob.id}/endorse", headers=cast.alice.headers)
    await client.patch("/api/v1/accounts/update_credentials", json={"hide_collections": True},
                       headers=cast.alice.headers)
    assert await usernames(await client.get(f"/api/v1/accounts/{cast.alice.id}/endorsements",
                                            headers=cast.eve.headers)) == []
    assert await usernames(await client.get("/api/v1/endorsements", headers=cast.alice.headers)) == ["bob"]

    assert (await client.get("/api/v1/endorsements")).status_code == 401
    reader = await make_account("reader", scopes="read write:follows")
    await client.post(f"/api/v1/accounts/{cast.bob.id}/follow", headers=reader.headers)
    assert (await client.post(f"/api/v1/accounts/{cast.bob.id}/endorse", headers=reader.headers)).status_code == 403
    assert (await client.post("/api/v1/accounts/999999999/endorse", headers=cast.alice.headers)).status_code == 404
