"""Profile metadata fields and image descriptions through update_credentials: JSON and form-encoded
fields_attributes, the Account entity's `fields` (sanitised HTML, links with rel="me"), `source.fields`
(the typed text), `verified_at` always null, avatar_description / header_description, and the limits."""

from __future__ import annotations

import pytest

from starling.accounts.models import Account

URL = "/api/v1/accounts/update_credentials"


async def update(client, who, **kwargs):
    return await client.patch(URL, headers=who.headers, **kwargs)


async def test_fields_by_json_render_links_with_rel_me(client, cast):
    r = await update(client, cast.alice, json={"fields_attributes": [
        {"name": "Site", "value": "see https://alice.example/about."},
        {"name": "Pronouns <b>", "value": "she/her <script>alert(1)</script>"},
        {"name": "Tag", "value": "#starling and @bob"},
    ]})
    assert r.status_code == 200, r.text
    fields = r.json()["fields"]
    assert [f["name"] for f in fields] == ["Site", "Pronouns <b>", "Tag"]  # names are plain text
    site = fields[0]["value"]
    assert 'href="https://alice.example/about"' in site and 'rel="me nofollow noopener noreferrer"' in site
    assert site.endswith("</a>.")  # the full stop stays outside the link, as in posts
    assert "<script>" not in fields[1]["value"] and "&lt;script&gt;" in fields[1]["value"]
    assert 'class="mention hashtag"' in fields[2]["value"] and "/@bob" in fields[2]["value"]
    assert all(f["verified_at"] is None for f in fields)
    assert r.json()["source"]["fields"] == [
        {"name": "Site", "value": "see https://alice.example/about.", "verified_at": None},
        {"name": "Pronouns <b>", "value": "she/her <script>alert(1)</script>", "verified_at": None},
        {"name": "Tag", "value": "#starling and @bob", "verified_at": None}]
    # Everyone reads the same fields on the public entity; the source stays with the owner.
    public = (await client.get(f"/api/v1/accounts/{cast.alice.id}", headers=cast.bob.headers)).json()
    assert public["fields"] == fields and "source" not in public


async def test_fields_by_form_as_mastodon_py_sends_them(client, cast):
    r = await update(client, cast.bob, data={
        "fields_attributes[0][name]": "bread", "fields_attributes[0][value]": "toasty.",
        "fields_attributes[1][name]": "lasagna", "fields_attributes[1][value]": "no!!!",
        "avatar_description": "Me, walking funny", "header_description": "A hat"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert [(f["name"], f["value"]) for f in body["fields"]] == [("bread", "toasty."), ("lasagna", "no!!!")]
    assert body["avatar_description"] == "Me, walking funny" and body["header_description"] == "A hat"
    shown = (await client.get(f"/api/v1/accounts/{cast.bob.id}")).json()
    assert shown["avatar_description"] == "Me, walking funny" and shown["header_description"] == "A hat"
    # Leaving fields_attributes out keeps them; sending an empty list clears them.
    r = await update(client, cast.bob, json={"display_name": "Bob"})
    assert len(r.json()["fields"]) == 2 and r.json()["avatar_description"] == "Me, walking funny"
    r = await update(client, cast.bob, json={"fields_attributes": [], "avatar_description": ""})
    assert r.json()["fields"] == [] and r.json()["source"]["fields"] == [] and r.json()["avatar_description"] == ""


@pytest.mark.parametrize("payload", [
    {"fields_attributes": [{"name": str(i), "value": "v"} for i in range(5)]},
    {"fields_attributes": [{"name": "n" * 256, "value": "v"}]},
    {"fields_attributes": [{"name": "n", "value": "v" * 256}]},
    {"fields_attributes": "not a list"},
    {"fields_attributes": [["name", "value"]]},
    {"avatar_description": "d" * 1501},
    {"header_description": "d" * 1501},
], ids=["five", "long-name", "long-value", "string", "nested-list", "avatar-description", "header-description"])
async def test_limits_answer_422_and_change_nothing(client, ctx, cast, payload):
    r = await update(client, cast.alice, json=payload)
    assert r.status_code == 422, r.text
    assert isinstance(r.json()["error"], str) and r.json()["error"]
    async with ctx.db.read() as session:
        account = await session.get(Account, cast.alice.id)
        assert account.fields == [] and account.avatar_description == "" and account.header_description == ""


async def test_limits_are_inclusive(client, cast):
    r = await update(client, cast.alice, json={
        "fields_attributes": [{"name": "n" * 255, "value": "v" * 255} for _ in range(4)],
        "avatar_description": "d" * 1500})
    assert r.status_code == 200, r.text
    assert len(r.json()["fields"]) == 4 and len(r.json()["avatar_description"]) == 1500


async def test_suspended_account_hides_fields_and_descriptions(client, ctx, cast):
    from starling import clock
    await update(client, cast.alice, json={"fields_attributes": [{"name": "a", "value": "b"}],
                                           "avatar_description": "private?"})
    async with ctx.db.write() as session:
        (await session.get(Account, cast.alice.id)).suspended_at = clock.utcnow_naive()
    body = (await client.get(f"/api/v1/accounts/{cast.alice.id}")).json()
    assert body["fields"] == [] and body["avatar_description"] == ""


async def test_descriptions_and_fields_reach_the_timeline_hot_path(client, cast, drain):
    await update(client, cast.bob, json={"fields_attributes": [{"name": "Site", "value": "https://bob.example"}],
                                         "avatar_description": "Bob's face"})
    await client.post(f"/api/v1/accounts/{cast.bob.id}/follow", headers=cast.alice.headers)
    await client.post("/api/v1/statuses", headers=cast.bob.headers, json={"status": "hi"})
    await drain()
    home = (await client.get("/api/v1/timelines/home", headers=cast.alice.headers)).json()
    author = home[0]["account"]
    assert author["avatar_description"] == "Bob's face" and author["header_description"] == ""
    assert 'rel="me nofollow noopener noreferrer"' in author["fields"][0]["value"]
