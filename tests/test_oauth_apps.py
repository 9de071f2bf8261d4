"""POST /api/v1/apps in the three encodings clients use, redirect URI and scope rules, and
GET /api/v1/apps/verify_credentials."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from starling.accounts.models import Application


def _check_created(body: dict, *, uris: list[str], scopes: list[str]) -> None:
    assert body["name"] == "Tusky-ish"
    assert body["redirect_uris"] == uris
    assert body["redirect_uri"] == "\n".join(uris)
    assert body["scopes"] == scopes
    assert body["vapid_key"] == ""
    assert body["client_secret_expires_at"] == 0
    assert len(body["client_id"]) >= 32 and len(body["client_secret"]) >= 32
    assert body["id"].isdigit()


async def test_create_with_json_array_of_redirect_uris(client):
    response = await client.post("/api/v1/apps", json={
        "client_name": "Tusky-ish", "redirect_uris": ["myapp://callback", "https://app.example/cb"],
        "scopes": "read write push", "website": "https://app.example"})
    assert response.status_code == 200, response.text
    body = response.json()
    _check_created(body, uris=["myapp://callback", "https://app.example/cb"],
                   scopes=["read", "write", "push"])
    assert body["website"] == "https://app.example"


async def test_create_with_form_and_whitespace_separated_uris(client):
    response = await client.post("/api/v1/apps", data={
        "client_name": "Tusky-ish", "redirect_uris": "myapp://callback\nurn:ietf:wg:oauth:2.0:oob",
        "scopes": "read+follow"})
    assert response.status_code == 200, response.text
    _check_created(response.json(), uris=["myapp://callback", "urn:ietf:wg:oauth:2.0:oob"],
                   scopes=["read", "follow"])


async def test_create_with_multipart_and_bracketed_array(client):
    files = [("client_name", (None, "Tusky-ish")), ("redirect_uris[]", (None, "com.example.app:/oauth")),
             ("redirect_uris[]", (None, "myapp://callback")), ("scopes", (None, "read"))]
    response = await client.post("/api/v1/apps", files=files)
    assert response.status_code == 200, response.text
    _check_created(response.json(), uris=["com.example.app:/oauth", "myapp://callback"], scopes=["read"])


async def test_scopes_default_to_read_and_website_may_be_absent(client):
    response = await client.post("/api/v1/apps", json={"client_name": "Tusky-ish",
                                                       "redirect_uris": "urn:ietf:wg:oauth:2.0:oob"})
    body = response.json()
    assert body["scopes"] == ["read"] and body["website"] is None


async def test_client_secret_is_stored_only_hashed(client, ctx):
    body = (await client.post("/api/v1/apps", json={"client_name": "Tusky-ish",
                                                    "redirect_uris": "myapp://callback"})).json()
    async with ctx.db.read() as session:
        stored = await session.scalar(select(Application.client_secret_hash)
                                      .where(Application.client_id == body["client_id"]))
    assert stored != body["client_secret"] and len(stored) == 64
    assert body["client_secret"] not in stored


@pytest.mark.parametrize("payload, fragment", [
    ({"client_name": "x", "redirect_uris": "myapp://cb", "scopes": "read bogus"}, "Scopes"),
    ({"client_name": "x", "redirect_uris": "myapp://cb", "scopes": "read:everything"}, "Scopes"),
    ({"client_name": "x"}, "Redirect URI"),
    ({"client_name": "x", "redirect_uris": "/relative/path"}, "Redirect URI"),
    ({"client_name": "x", "redirect_uris": "https://app.example/cb#frag"}, "Redirect URI"),
    ({"client_name": "x", "redirect_uris": "javascript:alert(1)"}, "Redirect URI"),
    ({"redirect_uris": "myapp://cb"}, "Name"),
    ({"client_name": "n" * 61, "redirect_uris": "myapp://cb"}, "Name"),
    ({"client_name": "x", "redirect_uris": "myapp://cb", "website": "ftp://files"}, "Website"),
])
async def test_invalid_registrations_are_422(client, payload, fragment):
    response = await client.post("/api/v1/apps", json=payload)
    assert response.status_code == 422, response.text
    assert response.json()["error"].startswith("Validation failed") and fragment in response.json()["error"]


async def test_verify_credentials_with_an_app_token(client):
    created = (await client.post("/api/v1/apps", json={"client_name": "Tusky-ish", "redirect_uris": "myapp://cb",
                                                       "scopes": "read write"})).json()
    token = (await client.post("/oauth/token", data={"grant_type": "client_credentials",
                                                     "client_id": created["client_id"],
                                                     "client_secret": created["client_secret"]})).json()
    response = await client.get("/api/v1/apps/verify_credentials",
                                headers={"Authorization": f"Bearer {token['access_token']}"})
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "Tusky-ish" and body["scopes"] == ["read", "write"]
    assert body["redirect_uris"] == ["myapp://cb"] and "client_secret" not in body
    assert token["scope"] == "read"  # client_credentials defaults to read, as Mastodon does


async def test_verify_credentials_needs_a_valid_token(client):
    assert (await client.get("/api/v1/apps/verify_credentials")).status_code == 401
    bad = await client.get("/api/v1/apps/verify_credentials", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401 and bad.json() == {"error": "The access token is invalid"}
