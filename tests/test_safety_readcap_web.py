"""Read caps in the web app: pages count the posts they show, and a reader at the cap sees why."""

from __future__ import annotations

import re

import pytest

TOKEN = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')
TEXTS = ["Walked the dog along the canal", "Pancakes for breakfast again", "The new library is lovely",
         "Finished a long novel about sailors", "Our tomatoes are finally red", "Band practice ran late",
         "A fox crossed the garden at dawn", "Repainted the kitchen chairs"]


@pytest.fixture
def settings(settings):
    settings.ratelimit_exempt_loopback = False
    settings.trusted_proxies = "127.0.0.1"
    settings.readcap_new_unverified = 5
    settings.readcap_logged_out = 3
    return settings


async def _posts(client, who) -> None:
    for text in TEXTS:
        response = await client.post("/api/v1/statuses", json={"status": text + " #walks"}, headers=who.headers)
        assert response.status_code == 200


async def test_signed_in_reader_sees_the_cap_message(client, cast):
    await _posts(client, cast.bob)
    where = {"X-Forwarded-For": "192.0.2.20"}
    token = TOKEN.search((await client.get("/auth/sign_in", headers=where)).text).group(1)
    signed = await client.post("/auth/sign_in", headers=where, data={
        "csrf_token": token, "username": "alice", "password": cast.alice.password, "next": "/home"})
    assert signed.status_code == 303
    first = await client.get("/@bob", headers=where)
    assert first.status_code == 200 and "canal" in first.text  # 8 posts: past the cap of 5 by one page
    refused = await client.get("/@bob", headers=where)
    assert refused.status_code == 429
    assert "Daily read limit reached: your account can read 5 posts a day" in refused.text
    assert int(refused.headers["Retry-After"]) > 0
    # In the poller (htmx), the message lands in the page's live region.
    polled = await client.get("/home/new?since_id=0", headers={**where, "HX-Request": "true"})
    assert polled.status_code == 429 and polled.headers["HX-Retarget"] == "#flash"
    assert "Daily read limit reached" in polled.text


async def test_logged_out_reader_is_asked_to_sign_in(client, cast):
    await _posts(client, cast.bob)
    where = {"X-Forwarded-For": "198.51.100.60"}
    assert (await client.get("/tags/walks", headers=where)).status_code == 200
    refused = await client.get("/@bob", headers=where)
    assert refused.status_code == 429 and "Sign in to read more" in refused.text
    assert (await client.get("/tags/walks", headers={"X-Forwarded-For": "198.51.100.61"})).status_code == 200
