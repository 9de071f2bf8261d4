"""Settings pages: profile (with images), account email, privacy, muted and blocked accounts, and the
apps one has authorised. Each needs a session, refuses a forged form, shows errors inline keeping what
was typed, and changes what the API reports."""

from __future__ import annotations

import io
import re

import httpx
import pytest
from PIL import Image

from starling.accounts.models import Account
from tests.web.forms import sign_in


def png(width: int = 64, height: int = 64) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (40, 120, 200)).save(out, "PNG")
    return out.getvalue()


SETTINGS_PAGES = ("/settings/profile", "/settings/account", "/settings/privacy", "/settings/mutes",
                  "/settings/blocks", "/settings/applications")


@pytest.mark.parametrize("path", SETTINGS_PAGES)
async def test_settings_pages_need_a_session(client, cast, path):
    anonymous = await client.get(path)
    assert anonymous.status_code == 303 and anonymous.headers["location"] == f"/auth/sign_in?next={path}"
    await sign_in(client, cast.alice)
    page = await client.get(path)
    assert page.status_code == 200 and 'aria-label="Settings"' in page.text


@pytest.mark.parametrize("path", ["/settings/profile", "/settings/account/email", "/settings/privacy",
                                  "/settings/mutes/1/unmute", "/settings/blocks/1/unblock",
                                  "/settings/applications/none/revoke", "/settings/browsers/1/sign_out"])
async def test_settings_forms_refuse_a_missing_or_wrong_csrf_token(client, cast, path):
    await sign_in(client, cast.alice)
    assert (await client.post(path, data={"display_name": "Forged"})).status_code == 403
    assert (await client.post(path, data={"csrf_token": "0" * 64, "display_name": "Forged"})).status_code == 403


async def test_profile_edit_takes_effect(client, cast):
    token = await sign_in(client, cast.alice)
    response = await client.post("/settings/profile", data={
        "csrf_token": token, "display_name": "Alice Liddell", "note": "Down the #rabbithole",
        "field_name_0": "Site", "field_value_0": "https://alice.example", "bot": "true"},
        files={"avatar": ("me.png", png(), "image/png")})
    assert response.status_code == 303 and response.headers["location"] == "/settings/profile?saved=1"
    me = (await client.get("/api/v1/accounts/verify_credentials", headers=cast.alice.headers)).json()
    assert me["display_name"] == "Alice Liddell" and me["bot"] is True
    assert "rabbithole" in me["note"] and me["fields"][0]["name"] == "Site"
    assert "missing.png" not in me["avatar"]
    page = await client.get("/settings/profile?saved=1")
    assert "Profile saved." in page.text and 'value="Alice Liddell"' in page.text
    assert 'value="https://alice.example"' in page.text


async def test_profile_errors_are_inline_and_keep_what_was_typed(client, cast):
    token = await sign_in(client, cast.alice)
    response = await client.post("/settings/profile", data={
        "csrf_token": token, "display_name": "x" * 31, "note": "<b>kept</b>"},
        files={"header": ("bad.png", b"not an image at all", "image/png")})
    assert response.status_code == 422
    assert "Display name is too long (maximum is 30 characters)" in response.text
    assert 'value="' + "x" * 31 + '"' in response.text and "&lt;b&gt;kept&lt;/b&gt;" in response.text
    assert 'aria-describedby="e-display_name"' in response.text
    me = (await client.get("/api/v1/accounts/verify_credentials", headers=cast.alice.headers)).json()
    assert me["display_name"] == "" and me["note"] == ""


async def test_a_bad_image_is_reported_beside_its_field(client, cast):
    token = await sign_in(client, cast.alice)
    response = await client.post("/settings/profile", data={"csrf_token": token, "display_name": "Al"},
                                 files={"header": ("bad.png", b"not an image at all", "image/png")})
    assert response.status_code == 422 and 'id="e-header"' in response.text
    me = (await client.get("/api/v1/accounts/verify_credentials", headers=cast.alice.headers)).json()
    assert me["display_name"] == ""


async def test_a_too_large_image_is_reported_beside_its_field(client, ctx, cast, monkeypatch):
    monkeypatch.setattr(ctx.settings, "media_max_bytes", 1_000)
    token = await sign_in(client, cast.alice)
    response = await client.post("/settings/profile", data={"csrf_token": token, "display_name": "Al"},
                                 files={"avatar": ("big.png", png(400, 400) + b"\0" * 2_000, "image/png")})
    assert response.status_code == 422 and 'id="e-avatar"' in response.text and "too large" in response.text


async def test_email_change_needs_the_current_password(client, ctx, cast):
    token = await sign_in(client, cast.alice)
    wrong = await client.post("/settings/account/email", data={
        "csrf_token": token, "email": "bob@testserver", "current_password": "guess"})
    assert wrong.status_code == 422
    assert "Current password is incorrect" in wrong.text and "Email has already been taken" in wrong.text
    assert 'value="bob@testserver"' in wrong.text
    right = await client.post("/settings/account/email", data={
        "csrf_token": token, "email": "alice@new.example", "current_password": cast.alice.password})
    assert right.status_code == 303
    async with ctx.db.read() as session:
        assert (await session.get(Account, cast.alice.id)).email == "alice@new.example"


async def test_privacy_settings_take_effect(client, cast):
    token = await sign_in(client, cast.alice)
    response = await client.post("/settings/privacy", data={
        "csrf_token": token, "locked": "true", "privacy": "private", "discoverable": "false",
        "indexable": "true", "hide_collections": "true"})
    assert response.status_code == 303
    me = (await client.get("/api/v1/accounts/verify_credentials", headers=cast.alice.headers)).json()
    assert me["locked"] is True and me["source"]["privacy"] == "private" and me["discoverable"] is False
    prefs = (await client.get("/api/v1/preferences", headers=cast.alice.headers)).json()
    assert prefs["posting:default:visibility"] == "private"
    page = await client.get("/settings/privacy")
    assert 'value="private" checked' in page.text


async def test_privacy_rejects_an_unknown_visibility_inline(client, cast):
    token = await sign_in(client, cast.alice)
    response = await client.post("/settings/privacy", data={"csrf_token": token, "privacy": "direct",
                                                            "locked": "true"})
    assert response.status_code == 422 and "Default visibility is not included in the list" in response.text
    me = (await client.get("/api/v1/accounts/verify_credentials", headers=cast.alice.headers)).json()
    assert me["locked"] is False


async def test_mutes_list_and_unmute(client, cast):
    await client.post(f"/api/v1/accounts/{cast.bob.id}/mute", headers=cast.alice.headers)
    await client.post(f"/api/v1/accounts/{cast.eve.id}/mute", headers=cast.alice.headers,
                      json={"notifications": False, "duration": 3600})
    token = await sign_in(client, cast.alice)
    page = await client.get("/settings/mutes")
    assert "@bob" in page.text and "@eve" in page.text and "notifications still shown" in page.text
    response = await client.post(f"/settings/mutes/{cast.bob.id}/unmute", data={"csrf_token": token})
    assert response.status_code == 303
    mutes = (await client.get("/api/v1/mutes", headers=cast.alice.headers)).json()
    assert [m["username"] for m in mutes] == ["eve"]


async def test_blocks_list_and_unblock(client, cast):
    await client.post(f"/api/v1/accounts/{cast.eve.id}/block", headers=cast.alice.headers)
    token = await sign_in(client, cast.alice)
    assert "@eve" in (await client.get("/settings/blocks")).text
    response = await client.post(f"/settings/blocks/{cast.eve.id}/unblock", data={"csrf_token": token})
    assert response.status_code == 303
    assert (await client.get("/api/v1/blocks", headers=cast.alice.headers)).json() == []
    assert "You have not blocked anyone." in (await client.get("/settings/blocks")).text


async def test_authorised_apps_are_listed_and_revoked(client, cast):
    app = (await client.post("/api/v1/apps", json={
        "client_name": "Tusky <b>", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob", "scopes": "read write",
        "website": "https://tusky.example"})).json()
    token_body = {"grant_type": "password", "client_id": app["client_id"], "client_secret": app["client_secret"],
                  "username": "alice", "password": cast.alice.password, "scope": "read"}
    granted = await client.post("/oauth/token", json=token_body)
    if granted.status_code != 200:
        pytest.skip("the password grant is off in this configuration")
    app_token = granted.json()["access_token"]
    token = await sign_in(client, cast.alice)
    page = await client.get("/settings/applications")
    assert "Tusky &lt;b&gt;" in page.text and "Tokens issued without an app" in page.text
    app_id = re.search(r'/settings/applications/(\d+)/revoke', page.text).group(1)
    response = await client.post(f"/settings/applications/{app_id}/revoke", data={"csrf_token": token})
    assert response.status_code == 303
    revoked = await client.get("/api/v1/accounts/verify_credentials",
                               headers={"Authorization": f"Bearer {app_token}"})
    assert revoked.status_code == 401
    # The rig's own token (issued without an app) still works, and another app's id is not found.
    assert (await client.get("/api/v1/accounts/verify_credentials", headers=cast.alice.headers)).status_code == 200
    again = await client.post(f"/settings/applications/{app_id}/revoke", data={"csrf_token": token})
    assert again.status_code == 404


async def test_one_cannot_revoke_someone_elses_app(client, cast):
    token = await sign_in(client, cast.bob)
    # Alice's rig token was issued without an app: bob's "none" group is his own, so alice's stays alive.
    assert (await client.post("/settings/applications/none/revoke", data={"csrf_token": token})).status_code == 303
    assert (await client.get("/api/v1/accounts/verify_credentials", headers=cast.alice.headers)).status_code == 200
    assert (await client.get("/api/v1/accounts/verify_credentials", headers=cast.bob.headers)).status_code == 401


async def test_other_browsers_are_listed_and_signed_out(client, app, cast):
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver",
                                 headers={"User-Agent": "Phone <Browser>"}) as phone, \
            httpx.AsyncClient(transport=transport, base_url="http://testserver") as eves:
        await sign_in(phone, cast.alice)
        eve_token = await sign_in(eves, cast.eve)
        token = await sign_in(client, cast.alice)
        page = await client.get("/settings/applications")
        assert "Phone &lt;Browser&gt;" in page.text and "This browser" in page.text
        ids = re.findall(r"/settings/browsers/(\d+)/sign_out", page.text)
        assert len(ids) == 1
        # Eve cannot sign alice's phone out; alice can.
        assert (await eves.post(f"/settings/browsers/{ids[0]}/sign_out",
                                data={"csrf_token": eve_token})).status_code == 404
        assert (await phone.get("/settings/account")).status_code == 200
        done = await client.post(f"/settings/browsers/{ids[0]}/sign_out", data={"csrf_token": token})
        assert done.status_code == 303
        assert (await phone.get("/settings/account")).status_code == 303
        assert (await client.get("/settings/account")).status_code == 200
        assert "That browser is signed out." in (await client.get(done.headers["location"])).text
