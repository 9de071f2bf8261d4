"""Relationships: every flag, both ways, for many accounts in a constant number of queries."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import event, update

from starling import clock
from starling.accounts.models import Account
from starling.graph import service as graph

URL = "/api/v1/accounts/relationships"


@contextmanager
def count_queries(engine):
    seen: list[str] = []

    def before(conn, cursor, statement, params, context, executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", before)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", before)


async def post(client, actor, target, action, **kwargs):
    r = await client.post(f"/api/v1/accounts/{target.id}/{action}", headers=actor.headers, **kwargs)
    assert r.status_code == 200, r.text
    return r.json()


async def test_relationship_flags_both_ways(client, cast):
    a = cast.alice
    await post(client, a, cast.bob, "follow", json={"notify": True})
    await post(client, cast.bob, a, "follow")
    await post(client, a, cast.carol, "follow")            # locked: a request
    await post(client, cast.eve, a, "block")
    await post(client, a, cast.admin, "mute", json={"notifications": False})

    r = await client.get(URL, params=[("id[]", cast.bob.id), ("id[]", cast.carol.id), ("id[]", cast.eve.id),
                                      ("id[]", cast.admin.id)], headers=a.headers)
    assert r.status_code == 200
    by_id = {rel["id"]: rel for rel in r.json()}
    assert [rel["id"] for rel in r.json()] == [str(cast.bob.id), str(cast.carol.id), str(cast.eve.id),
                                              str(cast.admin.id)]
    bob, carol, eve, admin = (by_id[str(x.id)] for x in (cast.bob, cast.carol, cast.eve, cast.admin))
    assert bob["following"] and bob["followed_by"] and bob["notifying"] and bob["showing_reblogs"]
    assert (carol["following"], carol["requested"]) == (False, True)
    assert (eve["blocked_by"], eve["blocking"]) == (True, False)
    assert (admin["muting"], admin["muting_notifications"]) == (True, False)
    assert all(rel["domain_blocking"] is False and rel["endorsed"] is False and rel["note"] == ""
               for rel in r.json())

    # The other side of each edge.
    carol_view = (await client.get(URL, params={"id[]": a.id}, headers=cast.carol.headers)).json()[0]
    assert carol_view["requested_by"] is True and carol_view["followed_by"] is False
    eve_view = (await client.get(URL, params={"id[]": a.id}, headers=cast.eve.headers)).json()[0]
    assert eve_view["blocking"] is True and eve_view["blocked_by"] is False


async def test_unknown_and_suspended_ids_are_left_out(client, cast, ctx):
    async with ctx.db.write() as s:
        await s.execute(update(Account).where(Account.id == cast.eve.id)
                        .values(suspended_at=clock.utcnow_naive()))
    params = [("id[]", "999"), ("id[]", cast.bob.id), ("id[]", "nonsense"), ("id[]", cast.eve.id),
              ("id[]", cast.bob.id)]
    r = await client.get(URL, params=params, headers=cast.alice.headers)
    assert [rel["id"] for rel in r.json()] == [str(cast.bob.id)]
    r = await client.get(URL, params=params + [("with_suspended", "true")], headers=cast.alice.headers)
    assert [rel["id"] for rel in r.json()] == [str(cast.bob.id), str(cast.eve.id)]
    # A bare id= works as well as id[]=.
    r = await client.get(URL, params={"id": cast.bob.id}, headers=cast.alice.headers)
    assert [rel["id"] for rel in r.json()] == [str(cast.bob.id)]
    assert (await client.get(URL, headers=cast.alice.headers)).json() == []


async def test_relationships_use_a_constant_number_of_queries(ctx, make_account, client, cast):
    others = [await make_account(f"other{i}") for i in range(12)]
    for i, other in enumerate(others):
        await post(client, cast.alice, other, "follow")
        if i % 2:
            await post(client, other, cast.alice, "follow")
        if i % 3 == 0:
            await post(client, cast.alice, other, "mute")

    async def queries_for(n: int) -> int:
        async with ctx.db.read() as session:
            with count_queries(ctx.db.read_engine) as seen:
                rels = await graph.lookup_relationships(session, cast.alice.id, [o.id for o in others[:n]])
            assert len(rels) == n
            return len(seen)

    small, large = await queries_for(2), await queries_for(12)
    assert small == large
    assert large <= 6


async def test_mute_with_duration_expires(client, cast):
    start = clock.now()
    clock.set_now(start)
    rel = await post(client, cast.alice, cast.bob, "mute", data={"duration": "3600"})
    assert rel["muting"] is True and rel["muting_notifications"] is True
    r = await client.get("/api/v1/mutes", headers=cast.alice.headers)
    assert [m["id"] for m in r.json()] == [str(cast.bob.id)]
    assert r.json()[0]["mute_expires_at"] is not None

    clock.set_now(start + timedelta(seconds=3601))
    rel = (await client.get(URL, params={"id[]": cast.bob.id}, headers=cast.alice.headers)).json()[0]
    assert rel["muting"] is False and rel["muting_notifications"] is False
    assert (await client.get("/api/v1/mutes", headers=cast.alice.headers)).json() == []

    # Muting again (indefinitely this time) replaces the expired mute.
    rel = await post(client, cast.alice, cast.bob, "mute", json={"duration": 0, "notifications": False})
    assert rel["muting"] is True and rel["muting_notifications"] is False
    r = await client.get("/api/v1/mutes", headers=cast.alice.headers)
    assert r.json()[0]["mute_expires_at"] is None
    rel = await post(client, cast.alice, cast.bob, "unmute")
    assert rel["muting"] is False


async def test_mute_validation_and_unknown_targets(client, cast):
    r = await client.post(f"/api/v1/accounts/{cast.bob.id}/mute", headers=cast.alice.headers,
                          json={"duration": -1})
    assert r.status_code == 422
    r = await client.post(f"/api/v1/accounts/{cast.bob.id}/mute", headers=cast.alice.headers,
                          json={"duration": "soon"})
    assert r.status_code == 422
    r = await client.post(f"/api/v1/accounts/{cast.alice.id}/mute", headers=cast.alice.headers)
    assert r.status_code == 422
    r = await client.post(f"/api/v1/accounts/{cast.alice.id}/block", headers=cast.alice.headers)
    assert r.status_code == 422
    for action in ("unfollow", "block", "unblock", "mute", "unmute", "remove_from_followers", "note"):
        r = await client.post(f"/api/v1/accounts/424242/{action}", headers=cast.alice.headers)
        assert r.status_code == 404, action
    for path in ("/api/v1/follow_requests/424242/authorize", "/api/v1/follow_requests/424242/reject"):
        assert (await client.post(path, headers=cast.alice.headers)).status_code == 404


async def test_note_is_kept_and_validated(client, cast):
    r = await client.post(f"/api/v1/accounts/{cast.bob.id}/note", headers=cast.alice.headers,
                          json={"comment": "met at the conference"})
    assert r.status_code == 200 and r.json()["id"] == str(cast.bob.id)
    assert r.json()["note"] == "met at the conference"  # more in tests/test_accounts_notes.py
    r = await client.post(f"/api/v1/accounts/{cast.bob.id}/note", headers=cast.alice.headers,
                          json={"comment": "x" * 2001})
    assert r.status_code == 422


async def test_familiar_followers_reads_ids_from_a_json_body_too(client, cast):
    await client.post(f"/api/v1/accounts/{cast.bob.id}/follow", headers=cast.alice.headers)
    await client.post(f"/api/v1/accounts/{cast.eve.id}/follow", headers=cast.bob.headers)
    response = await client.request("GET", "/api/v1/accounts/familiar_followers", json={"id": [str(cast.eve.id)]},
                                    headers=cast.alice.headers)
    assert response.status_code == 200
    assert response.json() == [{"id": str(cast.eve.id), "accounts": [response.json()[0]["accounts"][0]]}]
    assert response.json()[0]["accounts"][0]["id"] == str(cast.bob.id)
