"""The web side of profile fields, image descriptions and conversation mutes: the settings form edits
fields and descriptions (inline errors keep what was typed), the profile page shows fields with rel="me"
links and uses the descriptions as alt text, and a post's "Mute conversation" action works with and
without htmx for those who took part."""

from __future__ import annotations

from tests.web.forms import sign_in

HTMX = {"HX-Request": "true"}


async def post_as(client, who, text: str, **extra) -> dict:
    r = await client.post("/api/v1/statuses", headers=who.headers, json={"status": text, **extra})
    assert r.status_code == 200, r.text
    return r.json()


async def test_fields_and_descriptions_are_edited_and_shown(client, cast):
    token = await sign_in(client, cast.alice)
    page = await client.get("/settings/profile")
    for label in ('for="f-field_name_0"', 'for="f-field_value_3"', 'for="f-avatar_description"',
                  'for="f-header_description"'):
        assert label in page.text
    r = await client.post("/settings/profile", data={
        "csrf_token": token, "field_name_0": "Site", "field_value_0": "https://alice.example",
        "field_name_1": "Pronouns", "field_value_1": "she/her <em>",
        "avatar_description": "Alice in a blue dress", "header_description": "A rabbit hole"})
    assert r.status_code == 303, r.text
    me = (await client.get("/api/v1/accounts/verify_credentials", headers=cast.alice.headers)).json()
    assert [f["name"] for f in me["fields"]] == ["Site", "Pronouns"]
    assert me["avatar_description"] == "Alice in a blue dress"

    profile = (await client.get("/@alice")).text
    assert "<dt>Site</dt>" in profile and 'rel="me nofollow noopener noreferrer"' in profile
    assert 'href="https://alice.example"' in profile
    assert "she/her &lt;em&gt;" in profile and "<em>" not in profile
    assert 'alt="Alice in a blue dress"' in profile and 'alt="A rabbit hole"' in profile
    form = (await client.get("/settings/profile")).text
    assert 'value="Alice in a blue dress"' in form and 'value="Pronouns"' in form


async def test_field_and_description_errors_are_inline_and_keep_input(client, cast):
    token = await sign_in(client, cast.alice)
    r = await client.post("/settings/profile", data={
        "csrf_token": token, "field_name_0": "Kept", "field_value_0": "v" * 256,
        "avatar_description": "d" * 1501})
    assert r.status_code == 422
    assert 'value="Kept"' in r.text and 'value="' + "v" * 256 + '"' in r.text
    assert "limited to 255 characters" in r.text
    assert "Avatar description is too long (maximum is 1500 characters)" in r.text
    assert 'id="e-avatar_description"' in r.text
    me = (await client.get("/api/v1/accounts/verify_credentials", headers=cast.alice.headers)).json()
    assert me["fields"] == [] and me["avatar_description"] == ""


async def test_mute_conversation_without_and_with_htmx(client, cast, drain):
    root = await post_as(client, cast.bob, "@alice what do you think?")
    await drain()  # the mention is delivered before the mute
    token = await sign_in(client, cast.alice)
    thread = (await client.get(f"/@bob/{root['id']}")).text
    assert f'action="/statuses/{root["id"]}/mute"' in thread and "Mute conversation" in thread

    plain = await client.post(f"/statuses/{root['id']}/mute", data={"csrf_token": token, "next": "/notifications"})
    assert plain.status_code == 303 and plain.headers["location"] == "/notifications"
    seen = (await client.get(f"/api/v1/statuses/{root['id']}", headers=cast.alice.headers)).json()
    assert seen["muted"] is True
    await post_as(client, cast.eve, "@alice @bob chiming in", in_reply_to_id=root["id"])
    await drain()
    listed = (await client.get("/api/v1/notifications", headers=cast.alice.headers)).json()
    assert [n["account"]["username"] for n in listed] == ["bob"]  # the mention from before the mute only

    swapped = await client.post(f"/statuses/{root['id']}/unmute", headers=HTMX,
                                data={"csrf_token": token, "card": root["id"]})
    assert swapped.status_code == 200 and swapped.text.strip().startswith("<article")
    assert f'action="/statuses/{root["id"]}/mute"' in swapped.text
    assert (await client.get(f"/api/v1/statuses/{root['id']}", headers=cast.alice.headers)).json()["muted"] is False
    again = await client.post(f"/statuses/{root['id']}/mute", headers=HTMX,
                              data={"csrf_token": token, "card": root["id"]})
    assert f'action="/statuses/{root["id"]}/unmute"' in again.text and 'aria-pressed="true"' in again.text


async def test_mute_conversation_is_offered_only_to_participants(client, cast):
    root = await post_as(client, cast.bob, "bob thinking aloud")
    token = await sign_in(client, cast.eve)
    thread = (await client.get(f"/@bob/{root['id']}")).text
    assert "Mute conversation" not in thread
    refused = await client.post(f"/statuses/{root['id']}/mute", data={"csrf_token": token})
    assert refused.status_code == 422 and "<html" in refused.text.lower()
    forged = await client.post(f"/statuses/{root['id']}/mute", data={"csrf_token": "0" * 64})
    assert forged.status_code == 403
