"""Sign-in throttling through the password grant and the sign-in page: per address, and per login on
failures; counted in the database so every process shares it."""

import httpx
import pytest

from starling.accounts.throttle import ip_key


def test_ipv6_is_counted_per_64_and_ipv4_per_address():
    assert ip_key("2001:db8:1:2:aaaa::1") == ip_key("2001:db8:1:2:bbbb::9") == "2001:db8:1:2::/64"
    assert ip_key("2001:db8:1:3::1") != ip_key("2001:db8:1:2::1")
    assert ip_key("192.0.2.7") == "192.0.2.7"


@pytest.fixture
async def app_client(client):
    created = await client.post("/api/v1/apps", data={"client_name": "script",
                                                      "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
                                                      "scopes": "read write"})
    return created.json()


def _grant(app, username, password):
    return {"grant_type": "password", "client_id": app["client_id"], "client_secret": app["client_secret"],
            "username": username, "password": password, "scope": "read"}


async def test_failures_for_one_login_are_throttled_whatever_the_address(app, app_client, cast, ctx):
    ctx.settings.login_failures_per_account = 3
    for n in range(3):
        transport = httpx.ASGITransport(app=app, client=(f"198.51.100.{n}", 4000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            wrong = await http.post("/oauth/token", data=_grant(app_client, "alice", "not her password"))
            assert wrong.status_code in (400, 401)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 4000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        right = await http.post("/oauth/token", data=_grant(app_client, "alice", cast.alice.password))
        other = await http.post("/oauth/token", data=_grant(app_client, "bob", cast.bob.password))
    assert right.status_code == 429
    assert int(right.headers["Retry-After"]) == ctx.settings.login_window_seconds
    assert "error" in right.json()
    assert other.status_code == 200  # bob's sign-in is not held up by alice's failures


async def test_attempts_from_one_address_are_throttled(client, app_client, cast, ctx):
    ctx.settings.login_attempts_per_ip = 4
    codes = [(await client.post("/oauth/token", data=_grant(app_client, "bob", cast.bob.password))).status_code
             for _ in range(5)]
    assert codes == [200, 200, 200, 200, 429]


async def test_sign_in_page_shows_the_throttle_inline(client, app_client, cast, ctx):
    import re

    ctx.settings.login_failures_per_account = 1
    query = {"client_id": app_client["client_id"], "redirect_uri": "urn:ietf:wg:oauth:2.0:oob",
             "response_type": "code", "scope": "read"}
    page = await client.get("/oauth/authorize", params=query)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    form = dict(query, csrf_token=token, username="alice", password="wrong", decision="approve")
    first = await client.post("/oauth/authorize", data=form)
    assert first.status_code == 401
    second = await client.post("/oauth/authorize", data=dict(form, password=cast.alice.password))
    assert second.status_code == 429
    assert "Too many sign-in attempts" in second.text
    assert "Retry-After" in second.headers
