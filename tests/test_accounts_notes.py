"""Private notes on accounts: POST /api/v1/accounts/:id/note keeps one note per (writer, target), the
writer reads it back in the Relationship entity, nobody else ever does, and relationships for many
accounts read every note in one query."""

from __future__ import annotations

from sqlalchemy import event

from starling.graph import service as graph

REL = "/api/v1/accounts/relationships"


async def set_note(client, actor, target, comment, **kwargs):
    return await client.post(f"/api/v1/accounts/{target.id}/note", headers=actor.headers,
                             data={"comment": comment}, **kwargs)


async def relationship(client, viewer, target) -> dict:
    r = await client.get(REL, params={"id[]": target.id}, headers=viewer.headers)
    assert r.status_code == 200, r.text
    return r.json()[0]


async def test_note_is_kept_replaced_and_cleared(client, cast):
    r = await set_note(client, cast.alice, cast.bob, "top ebayer gerne wieder")
    assert r.status_code == 200, r.text
    assert r.json()["id"] == str(cast.bob.id) and r.json()["note"] == "top ebayer gerne wieder"
    assert (await relationship(client, cast.alice, cast.bob))["note"] == "top ebayer gerne wieder"

    r = await client.post(f"/api/v1/accounts/{cast.bob.id}/note", headers=cast.alice.headers,
                          json={"comment": "met at the meetup\nlikes tea"})
    assert r.json()["note"] == "met at the meetup\nlikes tea"
    assert (await relationship(client, cast.alice, cast.bob))["note"] == "met at the meetup\nlikes tea"

    r = await set_note(client, cast.alice, cast.bob, "")
    assert r.status_code == 200 and r.json()["note"] == ""
    assert (await relationship(client, cast.alice, cast.bob))["note"] == ""
    # No comment at all clears it too (Mastodon treats a missing comment as empty).
    await set_note(client, cast.alice, cast.bob, "again")
    r = await client.post(f"/api/v1/accounts/{cast.bob.id}/note", headers=cast.alice.headers)
    assert r.status_code == 200 and r.json()["note"] == ""


async def test_note_is_seen_only_by_its_writer(client, cast):
    assert (await set_note(client, cast.alice, cast.bob, "alice's secret")).status_code == 200
    assert (await set_note(client, cast.eve, cast.bob, "eve's own")).status_code == 200
    # Another account's relationship to the same target carries its own note, never alice's.
    assert (await relationship(client, cast.eve, cast.bob))["note"] == "eve's own"
    assert (await relationship(client, cast.carol, cast.bob))["note"] == ""
    # The target does not see notes about itself, in either direction.
    assert (await relationship(client, cast.bob, cast.alice))["note"] == ""
    # Nor does the public account entity carry it.
    account = (await client.get(f"/api/v1/accounts/{cast.bob.id}", headers=cast.alice.headers)).json()
    assert "alice's secret" not in str(account)


async def test_note_errors(client, cast, make_account):
    r = await set_note(client, cast.alice, cast.bob, "x" * 2001)
    assert r.status_code == 422 and "error" in r.json()
    assert (await relationship(client, cast.alice, cast.bob))["note"] == ""
    assert (await set_note(client, cast.alice, cast.bob, "x" * 2000)).status_code == 200
    r = await client.post("/api/v1/accounts/999999999/note", headers=cast.alice.headers, data={"comment": "a"})
    assert r.status_code == 404 and "error" in r.json()
    r = await client.post(f"/api/v1/accounts/{cast.bob.id}/note", data={"comment": "a"})
    assert r.status_code == 401
    reader = await make_account("reader", scopes="read")
    r = await set_note(client, reader, cast.bob, "a")
    assert r.status_code == 403 and "error" in r.json()
    r = await client.post(f"/api/v1/accounts/{cast.bob.id}/note", headers=cast.alice.headers,
                          json={"comment": {"nested": 1}})
    assert r.status_code == 422


async def test_relationships_read_notes_in_one_query(ctx, client, cast, make_account):
    others = [await make_account(f"noted{i}") for i in range(10)]
    for i, other in enumerate(others):
        if i % 2 == 0:
            assert (await set_note(client, cast.alice, other, f"note {i}")).status_code == 200

    def note_queries(statements: list[str]) -> int:
        return sum(1 for s in statements if "account_notes" in s)

    async def read(n: int) -> tuple[list, list[str]]:
        seen: list[str] = []

        def before(conn, cursor, statement, *args):
            seen.append(statement)

        event.listen(ctx.db.read_engine.sync_engine, "before_cursor_execute", before)
        try:
            async with ctx.db.read() as session:
                rels = await graph.lookup_relationships(session, cast.alice.id, [o.id for o in others[:n]])
        finally:
            event.remove(ctx.db.read_engine.sync_engine, "before_cursor_execute", before)
        return rels, seen

    rels, seen = await read(10)
    assert [r.note for r in rels] == [f"note {i}" if i % 2 == 0 else "" for i in range(10)]
    assert note_queries(seen) == 1
    small_rels, small_seen = await read(2)
    assert len(small_seen) == len(seen)
