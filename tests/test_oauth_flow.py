"""The OAuth flows as apps drive them: the HTML sign-in page with PKCE, the code exchange, the
password and client-credentials grants, revocation, and the server metadata."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from starling import clock
from starling.accounts.models import AuthorizationCode

REDIRECT = "myapp://oauth/callback"


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


async def register_app(client, *, scopes="read write follow push", redirect_uris=REDIRECT) -> dict:
    body = {"client_name": "Test App", "redirect_uris": redirect_uris, "scopes": scopes,
            "website": "https://app.test"}
    response = await client.post("/api/v1/apps", json=body)
    assert response.status_code == 200, response.text
    return response.json()


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page has no CSRF token"
    return match.group(1)


async def open_page(client, app: dict, **extra) -> tuple[object, dict]:
    query = {"client_id": app["client_id"], "redirect_uri": extra.pop("redirect_uri", REDIRECT),
             "response_type": "code", "scope": extra.pop("scope", "read write"), "state": "xyz"}
    query.update(extra)
    page = await client.get("/oauth/authorize", params=query)
    return page, query


async def authorize(client, app: dict, *, username="alice", password="correct horse battery",
                    decision="approve", **extra):
    """Open the page, read its CSRF token, submit the form; the response is not followed."""
    page, query = await open_page(client, app, **extra)
    assert page.status_code == 200, page.text
    form = dict(query, csrf_token=csrf_token(page.text), username=username, password=password,
                decision=decision)
    return await client.post("/oauth/authorize", data=form, follow_redirects=False)


def code_from(response) -> str:
    assert response.status_code == 302, response.text
    location = response.headers["location"]
    assert location.startswith(REDIRECT + "?")
    query = parse_qs(urlsplit(location).query)
    assert query["state"] == ["xyz"]
    return query["code"][0]


async def exchange(client, app: dict, code: str, *, verifier: str | None = None,
                   redirect_uri: str = REDIRECT):
    form = {"grant_type": "authorization_code", "code": code, "client_id": app["client_id"],
            "client_secret": app["client_secret"], "redirect_uri": redirect_uri}
    if verifier is not None:
        form["code_verifier"] = verifier
    return await client.post("/oauth/token", data=form)


async def test_authorization_code_with_pkce_end_to_end(client, cast):
    app = await register_app(client)
    verifier, challenge = pkce_pair()
    page, _ = await open_page(client, app, code_challenge=challenge, code_challenge_method="S256")
    assert page.status_code == 200
    assert "Test App" in page.text and '<label for="password">' in page.text
    assert page.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    cookie = page.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie

    redirect = await authorize(client, app, code_challenge=challenge, code_challenge_method="S256")
    code = code_from(redirect)
    token = await exchange(client, app, code, verifier=verifier)
    assert token.status_code == 200, token.text
    body = token.json()
    assert body["token_type"] == "Bearer" and body["scope"] == "read write"
    assert isinstance(body["created_at"], int)
    assert abs(body["created_at"] - datetime.now(UTC).timestamp()) < 60
    me = await client.get("/api/v1/accounts/verify_credentials",
                          headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200 and me.json()["username"] == "alice"

    replay = await exchange(client, app, code, verifier=verifier)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    # A replayed code also revokes what it bought the first time (RFC 6749 4.1.2).
    again = await client.get("/api/v1/accounts/verify_credentials",
                             headers={"Authorization": f"Bearer {body['access_token']}"})
    assert again.status_code == 401


async def test_code_is_stored_hashed_and_expires_after_ten_minutes(client, ctx, cast):
    app = await register_app(client)
    code = code_from(await authorize(client, app))
    async with ctx.db.read() as session:
        stored = (await session.scalars(select(AuthorizationCode.code_hash))).all()
    assert stored and code not in stored
    clock.set_now(datetime.now(UTC) + timedelta(minutes=11))
    response = await exchange(client, app, code)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


async def test_wrong_verifier_and_missing_verifier_are_refused(client, cast):
    app = await register_app(client)
    verifier, challenge = pkce_pair()
    code = code_from(await authorize(client, app, code_challenge=challenge, code_challenge_method="S256"))
    wrong, _ = pkce_pair()
    assert (await exchange(client, app, code, verifier=wrong)).json()["error"] == "invalid_grant"
    assert (await exchange(client, app, code)).json()["error"] == "invalid_grant"
    # The failed attempts did not burn the code: the right verifier still works.
    assert (await exchange(client, app, code, verifier=verifier)).status_code == 200


async def test_plain_pkce_method_is_refused(client, cast):
    app = await register_app(client)
    verifier = secrets.token_urlsafe(48)
    page, _ = await open_page(client, app, code_challenge=verifier, code_challenge_method="plain")
    assert page.status_code == 302
    query = parse_qs(urlsplit(page.headers["location"]).query)
    assert query["error"] == ["invalid_request"] and query["state"] == ["xyz"]
    # A challenge without a method means plain (RFC 7636), which is refused too.
    page, _ = await open_page(client, app, code_challenge=verifier)
    assert page.status_code == 302 and "error=invalid_request" in page.headers["location"]


async def test_redirect_uri_must_match_exactly(client, cast):
    app = await register_app(client)
    page, _ = await open_page(client, app, redirect_uri="myapp://oauth/callback/evil")
    assert page.status_code == 400  # shown, never redirected to an unregistered URI
    assert "location" not in page.headers
    code = code_from(await authorize(client, app))
    response = await exchange(client, app, code, redirect_uri="myapp://other")
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


async def test_unknown_client_and_excess_scope(client, cast):
    app = await register_app(client, scopes="read")
    page = await client.get("/oauth/authorize", params={"client_id": "nope", "redirect_uri": REDIRECT,
                                                        "response_type": "code"})
    assert page.status_code == 400 and "invalid_client" in page.text
    page, _ = await open_page(client, app, scope="read write")
    assert page.status_code == 302 and "error=invalid_scope" in page.headers["location"]
    page, _ = await open_page(client, app, scope="read:statuses")
    assert page.status_code == 200  # a sub-scope of a registered scope is fine


async def test_code_from_another_client_is_refused(client, cast):
    app = await register_app(client)
    other = await register_app(client)
    code = code_from(await authorize(client, app))
    response = await exchange(client, other, code)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


async def test_form_without_valid_csrf_token_is_refused(client, cast):
    app = await register_app(client)
    page, query = await open_page(client, app)
    form = dict(query, username="alice", password="correct horse battery", decision="approve")
    forged = await client.post("/oauth/authorize", data=dict(form, csrf_token="0" * 64),
                               follow_redirects=False)
    assert forged.status_code == 400 and "location" not in forged.headers
    client.cookies.clear()
    no_cookie = await client.post("/oauth/authorize", data=dict(form, csrf_token=csrf_token(page.text)),
                                  follow_redirects=False)
    assert no_cookie.status_code == 400 and "location" not in no_cookie.headers


async def test_wrong_password_shows_the_form_again(client, cast):
    app = await register_app(client)
    response = await authorize(client, app, password="wrong password!")
    assert response.status_code == 401
    assert "Invalid username, email or password" in response.text and "csrf_token" in response.text


async def test_sign_in_with_email_and_deny(client, cast):
    app = await register_app(client)
    by_email = await authorize(client, app, username="alice@testserver")
    assert by_email.status_code == 302 and "code=" in by_email.headers["location"]
    denied = await authorize(client, app, decision="deny")
    query = parse_qs(urlsplit(denied.headers["location"]).query)
    assert query["error"] == ["access_denied"] and "code" not in query


async def test_out_of_band_code_is_shown_on_a_page(client, cast):
    app = await register_app(client, redirect_uris="urn:ietf:wg:oauth:2.0:oob")
    response = await authorize(client, app, redirect_uri="urn:ietf:wg:oauth:2.0:oob")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    code = re.search(r'id="code"[^>]*value="([^"]+)"', response.text).group(1)
    token = await exchange(client, app, code, redirect_uri="urn:ietf:wg:oauth:2.0:oob")
    assert token.status_code == 200


async def test_suspended_account_cannot_authorize(client, ctx, cast):
    from starling.accounts.models import Account

    async with ctx.db.write() as session:
        (await session.get(Account, cast.bob.id)).suspended_at = clock.utcnow_naive()
    app = await register_app(client)
    response = await authorize(client, app, username="bob")
    assert response.status_code == 403 and "disabled" in response.text


async def test_password_grant(client, ctx, cast):
    app = await register_app(client)
    form = {"grant_type": "password", "client_id": app["client_id"], "client_secret": app["client_secret"],
            "username": "alice@testserver", "password": "correct horse battery", "scope": "read write"}
    response = await client.post("/oauth/token", json=form)
    assert response.status_code == 200 and response.json()["scope"] == "read write"
    assert response.headers["cache-control"] == "no-store"
    by_name = await client.post("/oauth/token", data=dict(form, username="alice"))
    assert by_name.status_code == 200
    wrong = await client.post("/oauth/token", data=dict(form, password="nope nope nope"))
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    assert "error_description" in wrong.json()
    bad_secret = await client.post("/oauth/token", data=dict(form, client_secret="guess"))
    assert bad_secret.status_code == 401 and bad_secret.json()["error"] == "invalid_client"
    ctx.settings.password_grant = False
    off = await client.post("/oauth/token", data=form)
    assert off.status_code == 400 and off.json()["error"] == "unsupported_grant_type"


async def test_password_grant_refuses_unapproved_accounts(client, ctx, cast):
    from starling.accounts.models import Account

    async with ctx.db.write() as session:
        (await session.get(Account, cast.eve.id)).approved = False
    app = await register_app(client)
    response = await client.post("/oauth/token", data={
        "grant_type": "password", "client_id": app["client_id"], "client_secret": app["client_secret"],
        "username": "eve", "password": "correct horse battery"})
    assert response.status_code == 400 and "pending approval" in response.json()["error_description"]


async def test_client_credentials_with_basic_auth(client, cast):
    app = await register_app(client)
    basic = base64.b64encode(f"{app['client_id']}:{app['client_secret']}".encode()).decode()
    response = await client.post("/oauth/token", data={"grant_type": "client_credentials", "scope": "read"},
                                 headers={"Authorization": f"Basic {basic}"})
    assert response.status_code == 200, response.text
    app_token = response.json()["access_token"]
    as_app = {"Authorization": f"Bearer {app_token}"}
    verified = await client.get("/api/v1/apps/verify_credentials", headers=as_app)
    assert verified.status_code == 200 and verified.json()["name"] == "Test App"
    # An app token acts for nobody.
    me = await client.get("/api/v1/accounts/verify_credentials", headers=as_app)
    assert me.status_code == 422
    bad = await client.post("/oauth/token", data={"grant_type": "client_credentials"},
                            headers={"Authorization": "Basic " + base64.b64encode(b"x:y").decode()})
    assert bad.status_code == 401 and bad.headers["www-authenticate"].startswith("Basic")


async def test_unknown_and_missing_grant_types(client, cast):
    app = await register_app(client)
    creds = {"client_id": app["client_id"], "client_secret": app["client_secret"]}
    assert (await client.post("/oauth/token", data=dict(creds, grant_type="implicit"))).json()["error"] == \
        "unsupported_grant_type"
    assert (await client.post("/oauth/token", data=creds)).json()["error"] == "invalid_request"


async def test_revoke_then_the_token_is_refused(client, cast):
    app = await register_app(client)
    creds = {"client_id": app["client_id"], "client_secret": app["client_secret"]}
    token = (await client.post("/oauth/token", data=dict(creds, grant_type="password", username="alice",
                                                         password="correct horse battery"))).json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    assert (await client.get("/api/v1/accounts/verify_credentials", headers=headers)).status_code == 200
    other = await register_app(client)
    foreign = await client.post("/oauth/revoke", data={"client_id": other["client_id"],
                                                       "client_secret": other["client_secret"],
                                                       "token": token["access_token"]})
    assert foreign.status_code == 403 and foreign.json()["error"] == "unauthorized_client"
    revoked = await client.post("/oauth/revoke", data=dict(creds, token=token["access_token"]))
    assert revoked.status_code == 200 and revoked.json() == {}
    assert (await client.get("/api/v1/accounts/verify_credentials", headers=headers)).status_code == 401
    again = await client.post("/oauth/revoke", data=dict(creds, token=token["access_token"]))
    assert again.status_code == 200  # idempotent


async def test_authorization_server_metadata(client):
    response = await client.get("/.well-known/oauth-authorization-server")
    body = response.json()
    assert body["issuer"] == "http://testserver/"
    assert body["authorization_endpoint"] == "http://testserver/oauth/authorize"
    assert body["token_endpoint"] == "http://testserver/oauth/token"
    assert body["revocation_endpoint"] == "http://testserver/oauth/revoke"
    assert body["app_registration_endpoint"] == "http://testserver/api/v1/apps"
    assert body["response_types_supported"] == ["code"]
    assert body["code_challenge_methods_supported"] == ["S256"]
    assert set(body["grant_types_supported"]) == {"authorization_code", "password", "client_credentials"}
    assert "client_secret_post" in body["token_endpoint_auth_methods_supported"]
    assert {"read", "write", "read:statuses", "profile"} <= set(body["scopes_supported"])
