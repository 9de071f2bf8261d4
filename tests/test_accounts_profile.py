"""One's own account (verify_credentials, update_credentials, preferences) and looking accounts up
(by id, by acct, in batches, by search)."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from starling import clock, ids
from starling.accounts.models import Account
from starling.graph.models import Block, FollowRequest


async def _suspend(ctx, account_id: int) -> None:
    async with ctx.db.write() as session:
        (await session.get(Account, account_id)).suspended_at = clock.utcnow_naive()


async def test_verify_credentials_has_source_role_and_follow_requests(client, ctx, cast):
    async with ctx.db.write() as session:
        for who in (cast.alice.id, cast.bob.id):
            session.add(FollowRequest(id=ids.new_id(), account_id=who, target_account_id=cast.carol.id))
    response = await client.get("/api/v1/accounts/verify_credentials", headers=cast.carol.headers)
    assert response.status_code == 200
    body = response.json()
    assert body["username"] == "carol" and body["locked"] is True
    assert body["source"]["follow_requests_count"] == 2
    assert body["source"]["privacy"] == "public" and body["source"]["note"] == ""
    assert "role" in body
    admin = (await client.get("/api/v1/accounts/verify_credentials", headers=cast.admin.headers)).json()
    assert admin["role"]["name"] == "Admin"


async def test_verify_credentials_accepts_the_profile_scope(client, make_account):
    who = await make_account("prof", scopes="profile")
    assert (await client.get("/api/v1/accounts/verify_credentials", headers=who.headers)).status_code == 200


async def test_update_credentials_renders_safe_html(client, cast):
    note = 'Hi <script>alert(1)</script> & see https://example.org/page.\n\nSecond <b>para</b>\nline'
    response = await client.patch("/api/v1/accounts/update_credentials", headers=cast.alice.headers, json={
        "display_name": "Alice <b>A</b>", "note": note, "locked": True, "bot": "true",
        "discoverable": False, "indexable": False,
        "fields_attributes": {"0": {"name": "Site", "value": "https://alice.example"},
                              "1": {"name": "Pronouns", "value": "she/her"}},
        "source": {"privacy": "unlisted", "sensitive": True, "language": "de"}})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["display_name"] == "Alice <b>A</b>"  # plain text; clients escape it
    assert "<script>" not in body["note"] and "&lt;script&gt;" in body["note"]
    assert body["note"].startswith("<p>") and body["note"].count("<p>") == 2 and "<br" in body["note"]
    assert 'href="https://example.org/page"' in body["note"] and "nofollow" in body["note"]
    assert "&lt;b&gt;para&lt;/b&gt;" in body["note"]
    assert body["locked"] is True and body["bot"] is True
    assert body["discoverable"] is False and body["indexable"] is False and body["noindex"] is True
    assert [f["name"] for f in body["fields"]] == ["Site", "Pronouns"]
    assert 'href="https://alice.example"' in body["fields"][0]["value"]
    assert body["source"]["note"] == note
    assert body["source"]["fields"][0] == {"name": "Site", "value": "https://alice.example",
                                           "verified_at": None}
    assert body["source"]["privacy"] == "unlisted" and body["source"]["sensitive"] is True
    assert body["source"]["language"] == "de"
    prefs = (await client.get("/api/v1/preferences", headers=cast.alice.headers)).json()
    assert prefs["posting:default:visibility"] == "unlisted"
    assert prefs["posting:default:sensitive"] is True and prefs["posting:default:language"] == "de"
    assert prefs["reading:expand:spoilers"] is False


async def test_update_credentials_by_form_with_bracketed_fields(client, cast):
    response = await client.patch("/api/v1/accounts/update_credentials", headers=cast.bob.headers, data={
        "fields_attributes[0][name]": "a", "fields_attributes[0][value]": "1",
        "fields_attributes[1][name]": "", "fields_attributes[1][value]": "",
        "source[privacy]": "private", "source[sensitive]": "false"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert [f["name"] for f in body["fields"]] == ["a"]  # blank rows are dropped
    assert body["source"]["privacy"] == "private" and body["source"]["sensitive"] is False


@pytest.mark.parametrize("payload, field", [
    ({"display_name": "x" * 31}, "display_name"),
    ({"note": "x" * 501}, "note"),
    ({"fields_attributes": [{"name": str(i), "value": "v"} for i in range(5)]}, "fields"),
    ({"fields_attributes": [{"name": "n", "value": "v" * 256}]}, "fields"),
    ({"source": {"privacy": "direct"}}, "source.privacy"),
    ({"source": {"language": "english"}}, "source.language"),
])
async def test_update_credentials_limits(client, ctx, cast, payload, field):
    response = await client.patch("/api/v1/accounts/update_credentials", headers=cast.alice.headers,
                                  json=payload)
    assert response.status_code == 422, response.text
    assert field in response.json()["details"]
    async with ctx.db.read() as session:
        account = await session.get(Account, cast.alice.id)
        assert account.display_name == "" and account.note == "" and account.fields == []


async def test_read_only_token_cannot_update_credentials(client, make_account):
    reader = await make_account("reader", scopes="read")
    response = await client.patch("/api/v1/accounts/update_credentials", headers=reader.headers,
                                  json={"display_name": "nope"})
    assert response.status_code == 403
    assert (await client.patch("/api/v1/accounts/update_credentials", json={})).status_code == 401


def _png(size=(64, 64)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


async def test_avatar_and_header_upload(client, ctx, cast):
    files = {"avatar": ("me.png", _png(), "image/png"), "header": ("h.png", _png((300, 100)), "image/png")}
    response = await client.patch("/api/v1/accounts/update_credentials", headers=cast.alice.headers,
                                  files=files, data={"display_name": "Pictured", "avatar_description": "me"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["display_name"] == "Pictured"
    assert not body["avatar"].endswith("missing.png") and body["avatar"].startswith("http://testserver/")
    assert not body["header"].endswith("missing.png")
    async with ctx.db.read() as session:
        account = await session.get(Account, cast.alice.id)
        assert ctx.storage.path(account.avatar_key) is not None
        assert ctx.storage.path(account.header_key) is not None

    # Mastodon 4.2's DELETE /api/v1/profile/avatar and /header bring the defaults back.
    for kind in ("avatar", "header"):
        gone = await client.delete(f"/api/v1/profile/{kind}", headers=cast.alice.headers)
        assert gone.status_code == 200, gone.text
        assert gone.json()[kind].endswith(f"/{kind}s/original/missing.png")
        assert "source" in gone.json()  # the account's own view, as update_credentials answers
    assert gone.json()["avatar_description"] == "" and gone.json()["display_name"] == "Pictured"
    again = await client.delete("/api/v1/profile/avatar", headers=cast.alice.headers)
    assert again.status_code == 200
    assert (await client.delete("/api/v1/profile/banner", headers=cast.alice.headers)).status_code == 404
    assert (await client.delete("/api/v1/profile/avatar")).status_code == 401


async def test_broken_avatar_is_refused(client, cast):
    files = {"avatar": ("me.png", b"not an image at all", "image/png")}
    response = await client.patch("/api/v1/accounts/update_credentials", headers=cast.alice.headers, files=files)
    assert response.status_code == 422


async def test_show_lookup_and_missing(client, cast):
    shown = await client.get(f"/api/v1/accounts/{cast.bob.id}")
    assert shown.status_code == 200 and shown.json()["username"] == "bob"
    assert shown.json()["avatar"] == "http://testserver/avatars/original/missing.png"  # Mastodon's path
    assert "source" not in shown.json()
    for acct in ("bob", "@bob", "bob@testserver", "BOB"):
        found = await client.get("/api/v1/accounts/lookup", params={"acct": acct})
        assert found.status_code == 200 and found.json()["id"] == str(cast.bob.id), acct
    elsewhere = await client.get("/api/v1/accounts/lookup", params={"acct": "bob@elsewhere.example"})
    assert elsewhere.status_code == 404
    assert (await client.get("/api/v1/accounts/lookup", params={"acct": "nobody"})).status_code == 404
    assert (await client.get("/api/v1/accounts/12345")).status_code == 404
    assert (await client.get(f"/api/v1/accounts/{2**64}")).status_code == 404


async def test_default_avatar_is_served(client):
    for path in ("/avatars/original/missing.png", "/headers/original/missing.png", "/static/avatar-missing.png"):
        response = await client.get(path)
        assert response.status_code == 200 and response.headers["content-type"] == "image/png", path
    assert (await client.get("/avatars/original/other.png")).status_code == 404


async def test_suspended_account_shows_the_suspended_shape(client, ctx, cast):
    await client.patch("/api/v1/accounts/update_credentials", headers=cast.eve.headers,
                       json={"display_name": "Eve", "note": "hello"})
    await _suspend(ctx, cast.eve.id)
    body = (await client.get(f"/api/v1/accounts/{cast.eve.id}")).json()
    assert body["suspended"] is True and body["display_name"] == "" and body["note"] == ""
    assert body["fields"] == [] and body["avatar"].endswith("/avatars/original/missing.png")


async def test_batch_lookup_keeps_order_and_skips_unknown(client, cast):
    response = await client.get("/api/v1/accounts", params=[("id[]", str(cast.bob.id)), ("id[]", "999"),
                                                            ("id[]", str(cast.alice.id)), ("id[]", "junk")])
    assert response.status_code == 200
    assert [a["username"] for a in response.json()] == ["bob", "alice"]


async def test_search_by_prefix_hides_blocks_and_suspended(client, ctx, cast, make_account):
    await make_account("alina")
    await make_account("albert")
    await client.patch("/api/v1/accounts/update_credentials", headers=cast.bob.headers,
                       json={"display_name": "Almost Bob"})
    async with ctx.db.write() as session:
        session.add(Block(id=ids.new_id(), account_id=cast.alice.id, target_account_id=cast.eve.id))
    found = await client.get("/api/v1/accounts/search", params={"q": "al"}, headers=cast.eve.headers)
    assert found.status_code == 200
    names = [a["username"] for a in found.json()]
    assert set(names) == {"alina", "albert", "bob"}  # alice blocks eve, so eve does not find her
    exact = await client.get("/api/v1/accounts/search", params={"q": "@alice", "resolve": "true"},
                             headers=cast.bob.headers)
    assert [a["username"] for a in exact.json()][0] == "alice"
    await _suspend(ctx, cast.bob.id)
    after = await client.get("/api/v1/accounts/search", params={"q": "al", "limit": 1},
                             headers=cast.carol.headers)
    assert len(after.json()) == 1 and after.json()[0]["username"] != "bob"
    paged = await client.get("/api/v1/accounts/search", params={"q": "al", "offset": 1, "limit": 10},
                             headers=cast.carol.headers)
    assert len(paged.json()) == 2  # alice, alina, albert minus the first
    wildcard = await client.get("/api/v1/accounts/search", params={"q": "%"}, headers=cast.carol.headers)
    assert wildcard.json() == []


async def test_search_needs_a_user_token(client):
    assert (await client.get("/api/v1/accounts/search", params={"q": "a"})).status_code == 401
