"""Signing up, in and out through the web pages: cookie sessions, CSRF on every form, inline errors."""

from __future__ import annotations

import re

from starling import clock
from starling.web.deps import SESSION_COOKIE

TOKEN = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


async def csrf_of(client, path: str = "/auth/sign_in") -> str:
    page = await client.get(path)
    return TOKEN.search(page.text).group(1)


async def sign_in(client, username: str, password: str = "correct horse battery", next_path: str = "/home"):
    token = await csrf_of(client)
    return await client.post("/auth/sign_in", data={"csrf_token": token, "username": username,
                                                    "password": password, "next": next_path})


async def test_sign_up_signs_in_and_sets_a_safe_cookie(client):
    token = await csrf_of(client, "/auth/sign_up")
    response = await client.post("/auth/sign_up", data={
        "csrf_token": token, "username": "newbie", "email": "newbie@example.com",
        "password": "a long enough password", "agreement": "1"})
    assert response.status_code == 303 and response.headers["location"] == "/home"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(SESSION_COOKIE) and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain http in tests
    home = await client.get("/home")
    assert home.status_code == 200 and "newbie" in home.text


async def test_sign_up_errors_are_inline_and_keep_what_was_typed(client, cast):
    token = await csrf_of(client, "/auth/sign_up")
    response = await client.post("/auth/sign_up", data={
        "csrf_token": token, "username": "alice", "email": "fresh@example.com", "password": "short"})
    assert response.status_code == 422
    assert "Username has already been taken" in response.text
    assert "Password is too short" in response.text
    assert "Agreement must be accepted" in response.text
    assert 'value="fresh@example.com"' in response.text


async def test_sign_in_and_out(client, cast):
    response = await sign_in(client, "alice", next_path="/@alice")
    assert response.status_code == 303 and response.headers["location"] == "/@alice"
    assert (await client.get("/home")).status_code == 200
    token = await csrf_of(client, "/home")
    out = await client.post("/auth/sign_out", data={"csrf_token": token})
    assert out.status_code == 303
    again = await client.get("/home")
    assert again.status_code == 303 and again.headers["location"] == "/auth/sign_in?next=/home"


async def test_wrong_password_keeps_the_username(client, cast):
    response = await sign_in(client, "alice", "not the password")
    assert response.status_code == 401
    assert "Invalid username, email or password." in response.text and 'value="alice"' in response.text


async def test_next_never_leaves_the_site(client, cast):
    response = await sign_in(client, "alice", next_path="//evil.example/")
    assert response.headers["location"] == "/home"


async def test_missing_or_wrong_csrf_token_is_refused(client, cast):
    await csrf_of(client)  # the browser holds a CSRF cookie
    missing = await client.post("/auth/sign_in", data={"username": "alice", "password": "correct horse battery"})
    assert missing.status_code == 403
    wrong = await client.post("/auth/sign_in", data={"csrf_token": "0" * 64, "username": "alice",
                                                     "password": "correct horse battery"})
    assert wrong.status_code == 403
    assert SESSION_COOKIE not in client.cookies


async def test_expired_session_goes_to_sign_in_and_back(client, cast, settings):
    await sign_in(client, "alice")
    clock.set_now(clock.utcnow_naive().replace(microsecond=0) + __import__("datetime").timedelta(
        days=settings.web_session_days + 1))
    response = await client.get("/local?max_id=5")
    assert response.status_code == 303
    assert response.headers["location"] == "/auth/sign_in?next=/local%3Fmax_id%3D5"


async def test_password_change_signs_other_browsers_out(app, client, cast):
    import httpx

    await sign_in(client, "alice")
    other = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
    async with other:
        await sign_in(other, "alice")
        token = await csrf_of(client, "/auth/password")
        bad = await client.post("/auth/password", data={"csrf_token": token, "current_password": "nope",
                                                        "password": "brand new password",
                                                        "password_confirmation": "brand new password"})
        assert bad.status_code == 422 and "Current password is incorrect" in bad.text
        done = await client.post("/auth/password", data={"csrf_token": token,
                                                         "current_password": "correct horse battery",
                                                         "password": "brand new password",
                                                         "password_confirmation": "brand new password"})
        assert done.status_code == 200 and "Your password was changed" in done.text
        assert (await client.get("/auth/password")).status_code == 200
        assert (await other.get("/auth/password")).status_code == 303


async def test_front_page_invites_guests_and_sends_people_home(client, cast):
    guest = await client.get("/")
    assert guest.status_code == 200 and 'href="/auth/sign_up"' in guest.text
    await sign_in(client, "alice")
    signed_in = await client.get("/")
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/home"


def test_next_is_always_a_local_path():
    from starling.web.deps import safe_next

    assert safe_next("/@alice/1?x=2") == "/@alice/1?x=2"
    for bad in ("//evil.example", "/\\evil.example", "https://evil.example/", "javascript:alert(1)", "",
                None, "/ok\r\nSet-Cookie: x=1", "/" + "a" * 3000):
        assert safe_next(bad) == "/home"


async def test_htmx_request_without_a_session_is_sent_to_sign_in_for_the_page_it_came_from(client, cast):
    response = await client.post("/statuses/1/favourite", data={}, headers={
        "HX-Request": "true", "HX-Current-URL": "http://testserver/@bob/5?x=1"})
    assert response.status_code == 200
    assert response.headers["HX-Redirect"] == "/auth/sign_in?next=/%40bob/5%3Fx%3D1"


async def test_sign_up_under_approval_waits_and_closed_refuses(client, ctx):
    from starling.accounts.instance import set_instance_setting

    async with ctx.db.write() as session:
        await set_instance_setting(session, "registrations", "approval")
    token = await csrf_of(client, "/auth/sign_up")
    data = {"csrf_token": token, "username": "hopeful", "email": "hopeful@example.com",
            "password": "a long enough password", "agreement": "1"}
    missing_reason = await client.post("/auth/sign_up", data=data)
    assert missing_reason.status_code == 422 and "Reason can&#39;t be blank" in missing_reason.text
    waiting = await client.post("/auth/sign_up", data={**data, "reason": "I love birds"})
    assert waiting.status_code == 200 and "waiting for a moderator" in waiting.text
    assert SESSION_COOKIE not in client.cookies
    refused = await sign_in(client, "hopeful", "a long enough password")
    assert refused.status_code == 403 and "pending approval" in refused.text
    async with ctx.db.write() as session:
        await set_instance_setting(session, "registrations", "closed")
    closed = await client.post("/auth/sign_up", data={**data, "username": "late", "email": "late@example.com"})
    assert closed.status_code == 403 and "Sign-up is closed" in closed.text


async def test_signing_in_again_replaces_the_old_session(client, cast, ctx):
    from sqlalchemy import func, select

    from starling.accounts.models import WebSession

    await sign_in(client, "alice")
    first = client.cookies[SESSION_COOKIE]
    token = await csrf_of(client, "/home")  # signed in, the sign-in page redirects home
    await client.post("/auth/sign_in", data={"csrf_token": token, "username": "bob",
                                             "password": "correct horse battery"})
    assert client.cookies[SESSION_COOKIE] != first
    async with ctx.db.read() as session:
        assert await session.scalar(select(func.count()).select_from(WebSession)) == 1


async def test_guessing_passwords_is_throttled(client, cast, ctx):
    for _ in range(ctx.settings.login_failures_per_account):
        assert (await sign_in(client, "alice", "wrong guess")).status_code == 401
    throttled = await sign_in(client, "alice")
    assert throttled.status_code == 429 and "Too many sign-in attempts" in throttled.text
    assert int(throttled.headers["Retry-After"]) > 0


async def test_pages_allow_scripts_only_from_the_site(client):
    page = await client.get("/auth/sign_in")
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert "img-src 'self' http://testserver data: blob:" in policy
    assert "frame-ancestors 'none'" in policy
    assert "<script>" not in page.text  # no inline script anywhere
