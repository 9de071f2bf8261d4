"""Markers: saved read positions per timeline, created at version 0 and bumped on every move."""

from __future__ import annotations

from datetime import UTC, datetime

from starling import clock

URL = "/api/v1/markers"


async def test_markers_upsert_and_version(client, cast):
    r = await client.get(URL, params=[("timeline[]", "home"), ("timeline[]", "notifications")],
                         headers=cast.alice.headers)
    assert r.status_code == 200 and r.json() == {}

    clock.set_now(datetime(2024, 5, 1, 12, 0, 0, 123000, tzinfo=UTC))
    r = await client.post(URL, headers=cast.alice.headers, data={"home[last_read_id]": "1000"})
    assert r.status_code == 200
    assert r.json() == {"home": {"last_read_id": "1000", "version": 0,
                                 "updated_at": "2024-05-01T12:00:00.123Z"}}

    r = await client.post(URL, headers=cast.alice.headers,
                          json={"home": {"last_read_id": "2000"}, "notifications": {"last_read_id": "7"}})
    assert r.json()["home"]["last_read_id"] == "2000" and r.json()["home"]["version"] == 1
    assert r.json()["notifications"] == {"last_read_id": "7", "version": 0,
                                         "updated_at": "2024-05-01T12:00:00.123Z"}

    # The same position again is no change: the version stays.
    r = await client.post(URL, headers=cast.alice.headers, data={"home[last_read_id]": "2000"})
    assert r.json()["home"]["version"] == 1

    r = await client.get(URL, params=[("timeline[]", "home"), ("timeline[]", "notifications"),
                                      ("timeline[]", "bogus")], headers=cast.alice.headers)
    assert set(r.json()) == {"home", "notifications"} and r.json()["home"]["last_read_id"] == "2000"
    r = await client.get(URL, params={"timeline": "notifications"}, headers=cast.alice.headers)
    assert set(r.json()) == {"notifications"}
    # Markers are per account.
    r = await client.get(URL, params=[("timeline[]", "home")], headers=cast.bob.headers)
    assert r.json() == {}


async def test_marker_validation_and_scopes(client, cast, make_account):
    r = await client.post(URL, headers=cast.alice.headers, data={"home[last_read_id]": "abc"})
    assert r.status_code == 422
    r = await client.post(URL, headers=cast.alice.headers, json={"home": {"last_read_id": True}})
    assert r.status_code == 422
    r = await client.post(URL, headers=cast.alice.headers, json={})
    assert r.status_code == 422
    r = await client.post(URL, headers=cast.alice.headers, data={"home[last_read_id]": str(2**63)})
    assert r.status_code == 422

    reader = await make_account("reader", scopes="read")
    r = await client.post(URL, headers=reader.headers, data={"home[last_read_id]": "5"})
    assert r.status_code == 403
    assert (await client.get(URL, headers=reader.headers)).status_code == 200
    notes = await make_account("notes", scopes="read:notifications write:notifications")
    assert (await client.get(URL, headers=notes.headers)).status_code == 403
    assert (await client.post(URL, data={"home[last_read_id]": "5"})).status_code == 401
