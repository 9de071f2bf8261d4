"""POST /api/v1/accounts: sign-up through an app token under each registration mode, and
Mastodon's per-field error details."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from starling.accounts.instance import set_instance_setting
from starling.accounts.models import Account


@pytest.fixture
def app_headers(client):
    async def make(scope: str = "read write") -> dict[str, str]:
        app = (await client.post("/api/v1/apps", json={"client_name": "Signup", "redirect_uris": "myapp://cb",
                                                       "scopes": "read write follow"})).json()
        token = (await client.post("/oauth/token", data={
            "grant_type": "client_credentials", "client_id": app["client_id"],
            "client_secret": app["client_secret"], "scope": scope})).json()
        return {"Authorization": f"Bearer {token['access_token']}"}
    return make


async def set_mode(ctx, mode: str) -> None:
    async with ctx.db.write() as session:
        await set_instance_setting(session, "registrations", mode)


SIGNUP = {"username": "newbie", "email": "newbie@example.org", "password": "a long enough password",
          "agreement": True, "locale": "en"}


async def test_open_registration_gives_a_usable_token(client, app_headers):
    response = await client.post("/api/v1/accounts", json=SIGNUP, headers=await app_headers())
    assert response.status_code == 200, response.text
    token = response.json()
    assert token["token_type"] == "Bearer" and token["scope"] == "read write follow"
    assert isinstance(token["created_at"], int)
    me = await client.get("/api/v1/accounts/verify_credentials",
                          headers={"Authorization": f"Bearer {token['access_token']}"})
    assert me.status_code == 200 and me.json()["username"] == "newbie"


async def test_registration_by_form(client, app_headers):
    form = dict(SIGNUP, agreement="true")
    response = await client.post("/api/v1/accounts", data=form, headers=await app_headers())
    assert response.status_code == 200, response.text


async def test_approval_mode_needs_a_reason_and_leaves_the_account_waiting(client, ctx, app_headers):
    await set_mode(ctx, "approval")
    headers = await app_headers()
    no_reason = await client.post("/api/v1/accounts", json=SIGNUP, headers=headers)
    assert no_reason.status_code == 422
    assert no_reason.json()["details"]["reason"] == [{"error": "ERR_BLANK", "description": "can't be blank"}]
    response = await client.post("/api/v1/accounts", json=dict(SIGNUP, reason="I like birds"),
                                 headers=headers)
    assert response.status_code == 200, response.text
    async with ctx.db.read() as session:
        approved, reason = (await session.execute(select(Account.approved, Account.registration_reason)
                                                  .where(Account.username == "newbie"))).one()
    assert approved is False and reason == "I like birds"
    waiting = await client.get("/api/v1/accounts/verify_credentials",
                               headers={"Authorization": f"Bearer {response.json()['access_token']}"})
    assert waiting.status_code == 403  # as Mastodon: apps show the reason instead of signing out
    assert waiting.json() == {"error": "Your login is currently pending approval"}
    instance = (await client.get("/api/v2/instance")).json()
    assert instance["registrations"]["enabled"] is True
    assert instance["registrations"]["approval_required"] is True


async def test_closed_registration_is_forbidden(client, ctx, app_headers):
    await set_mode(ctx, "closed")
    response = await client.post("/api/v1/accounts", json=SIGNUP, headers=await app_headers())
    assert response.status_code == 403
    assert response.json() == {"error": "This action is not allowed"}
    async with ctx.db.read() as session:
        assert await session.scalar(select(Account.id).where(Account.username == "newbie")) is None


async def test_duplicates_and_bad_fields_have_mastodon_details(client, cast, app_headers):
    headers = await app_headers()
    response = await client.post("/api/v1/accounts", headers=headers, json={
        "username": "Alice", "email": "ALICE@testserver", "password": "short", "agreement": False})
    assert response.status_code == 422
    body = response.json()
    assert body["details"]["username"] == [{"error": "ERR_TAKEN", "description": "has already been taken"}]
    assert body["details"]["email"] == [{"error": "ERR_TAKEN", "description": "has already been taken"}]
    assert body["details"]["password"][0]["error"] == "ERR_TOO_SHORT"
    assert body["details"]["agreement"] == [{"error": "ERR_ACCEPTED", "description": "must be accepted"}]
    assert body["error"].startswith("Validation failed: Username has already been taken, Email has already")


@pytest.mark.parametrize("change, field, code", [
    ({"username": "no spaces!"}, "username", "ERR_INVALID"),
    ({"username": "x" * 31}, "username", "ERR_TOO_LONG"),
    ({"username": "admin"}, "username", "ERR_RESERVED"),
    ({"username": ""}, "username", "ERR_BLANK"),
    ({"email": "not-an-email"}, "email", "ERR_INVALID"),
    ({"email": ""}, "email", "ERR_BLANK"),
    ({"password": ""}, "password", "ERR_BLANK"),
    ({"locale": "Klingon!"}, "locale", "ERR_INCLUSION"),
])
async def test_each_field_is_checked(client, app_headers, change, field, code):
    response = await client.post("/api/v1/accounts", json=dict(SIGNUP, **change), headers=await app_headers())
    assert response.status_code == 422
    assert response.json()["details"][field][0]["error"] == code


async def test_registration_needs_an_app_token_with_write_accounts(client, cast, app_headers):
    assert (await client.post("/api/v1/accounts", json=SIGNUP)).status_code == 401
    read_only = await client.post("/api/v1/accounts", json=SIGNUP, headers=await app_headers("read"))
    assert read_only.status_code == 403
    # A token minted outside any app (as the CLI does) cannot sign people up.
    no_app = await client.post("/api/v1/accounts", json=SIGNUP, headers=cast.alice.headers)
    assert no_app.status_code == 403
