"""What the instance says about itself: Instance v1/v2, the admin-editable options behind them,
nodeinfo, WebFinger, host-meta and the front page."""

from __future__ import annotations

import pytest

from starling import clock
from starling.accounts.instance import get_instance_settings, set_instance_setting
from starling.accounts.models import Account
from starling.errors import Unprocessable

VERSION = "4.3.0 (compatible; Starling 0.1.0)"


async def test_v2_instance_shape(client, cast):
    response = await client.get("/api/v2/instance")
    assert response.status_code == 200
    body = response.json()
    assert body["domain"] == "testserver" and body["title"] == "Starling" and body["version"] == VERSION
    assert set(body) >= {"domain", "title", "version", "source_url", "description", "usage", "thumbnail",
                         "languages", "configuration", "registrations", "contact", "rules", "api_versions"}
    config = body["configuration"]
    assert config["urls"]["streaming"] == "ws://testserver"
    assert config["vapid"] == {"public_key": ""}
    assert config["accounts"]["max_featured_tags"] == 10
    assert config["statuses"] == {"max_characters": 500, "max_media_attachments": 4,
                                  "characters_reserved_per_url": 23}
    media = config["media_attachments"]
    assert media["supported_mime_types"] == ["image/jpeg", "image/png", "image/webp", "image/gif"]
    assert media["image_size_limit"] > 0 and media["image_matrix_limit"] > 0
    assert config["polls"] == {"max_options": 4, "max_characters_per_option": 50, "min_expiration": 300,
                               "max_expiration": 2629746}
    assert config["translation"] == {"enabled": False}
    assert body["registrations"]["enabled"] is True and body["registrations"]["approval_required"] is False
    assert body["contact"]["account"]["username"] == "admin"
    assert body["thumbnail"]["url"] == "http://testserver/static/preview.png"
    assert body["usage"]["users"]["active_month"] == 0
    assert body["rules"] == []


async def test_v1_instance_shape_and_stats(client, ctx, cast):
    async with ctx.db.write() as session:
        (await session.get(Account, cast.alice.id)).statuses_count = 3
        (await session.get(Account, cast.bob.id)).statuses_count = 2
        (await session.get(Account, cast.bob.id)).last_status_at = clock.utcnow_naive()
    body = (await client.get("/api/v1/instance")).json()
    assert body["uri"] == "testserver" and body["version"] == VERSION
    assert body["urls"] == {"streaming_api": "ws://testserver"}
    assert body["stats"] == {"user_count": 5, "status_count": 5, "domain_count": 0}
    assert body["registrations"] is True and body["approval_required"] is False
    assert body["invites_enabled"] is False
    assert body["configuration"]["statuses"]["max_characters"] == 500
    assert body["contact_account"]["username"] == "admin"
    assert body["thumbnail"].endswith("/static/preview.png")
    v2 = (await client.get("/api/v2/instance")).json()
    assert v2["usage"]["users"]["active_month"] == 1


async def test_instance_settings_from_the_database_win(client, ctx):
    async with ctx.db.write() as session:
        await set_instance_setting(session, "title", "Birdhouse")
        await set_instance_setting(session, "max_characters", "1000")
        await set_instance_setting(session, "registrations", "closed")
        await set_instance_setting(session, "description", "A place for birds")
    async with ctx.db.read() as session:
        options = await get_instance_settings(session, ctx.settings)
    assert options.max_characters == 1000 and options.title == "Birdhouse"
    body = (await client.get("/api/v2/instance")).json()
    assert body["title"] == "Birdhouse" and body["description"] == "A place for birds"
    assert body["configuration"]["statuses"]["max_characters"] == 1000
    assert body["registrations"]["enabled"] is False
    assert body["contact"]["account"] is None  # no admin on this instance
    assert (await client.get("/api/v1/instance")).json()["registrations"] is False
    nodeinfo = (await client.get("/nodeinfo/2.0")).json()
    assert nodeinfo["openRegistrations"] is False


@pytest.mark.parametrize("key, value", [("registrations", "sometimes"), ("max_characters", 0),
                                        ("max_characters", "many"), ("title", ""), ("colour", "red")])
async def test_bad_instance_settings_are_refused(ctx, key, value):
    with pytest.raises(Unprocessable):
        async with ctx.db.write() as session:
            await set_instance_setting(session, key, value)


async def test_small_instance_lists(client):
    for path in ("/api/v1/instance/peers", "/api/v1/instance/rules",
                 "/api/v1/custom_emojis"):
        response = await client.get(path)
        assert response.status_code == 200 and response.json() == [], path


async def test_nodeinfo(client, cast):
    links = (await client.get("/.well-known/nodeinfo")).json()
    assert links == {"links": [{"rel": "http://nodeinfo.diaspora.software/ns/schema/2.0",
                                "href": "http://testserver/nodeinfo/2.0"}]}
    response = await client.get("/nodeinfo/2.0")
    assert "nodeinfo.diaspora.software/ns/schema/2.0" in response.headers["content-type"]
    body = response.json()
    assert body["version"] == "2.0"
    assert body["software"] == {"name": "starling", "version": "0.1.0"}
    assert body["usage"]["users"] == {"total": 5, "activeMonth": 0}
    assert body["usage"]["localPosts"] == 0 and body["openRegistrations"] is True


async def test_webfinger(client, ctx, cast):
    response = await client.get("/.well-known/webfinger", params={"resource": "acct:alice@testserver"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/jrd+json")
    body = response.json()
    assert body["subject"] == "acct:alice@testserver"
    assert "http://testserver/@alice" in body["aliases"]
    assert {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html",
            "href": "http://testserver/@alice"} in body["links"]
    by_url = await client.get("/.well-known/webfinger", params={"resource": "http://testserver/@alice"})
    assert by_url.json()["subject"] == "acct:alice@testserver"
    for resource in ("acct:alice@elsewhere.example", "acct:nobody@testserver", "acct:alice",
                     "https://elsewhere.example/@alice"):
        missing = await client.get("/.well-known/webfinger", params={"resource": resource})
        assert missing.status_code == 404, resource
    assert (await client.get("/.well-known/webfinger")).status_code == 400
    async with ctx.db.write() as session:
        (await session.get(Account, cast.bob.id)).suspended_at = clock.utcnow_naive()
    gone = await client.get("/.well-known/webfinger", params={"resource": "acct:bob@testserver"})
    assert gone.status_code == 404


async def test_host_meta(client):
    response = await client.get("/.well-known/host-meta")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xrd+xml")
    assert 'template="http://testserver/.well-known/webfinger?resource={uri}"' in response.text


async def test_home_page(client, cast):
    response = await client.get("/")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert "<h1>Starling</h1>" in response.text and "A Starling microblogging instance." in response.text
    assert 'href="/static/starling.css"' in response.text
    assert response.headers["x-frame-options"] == "DENY"
    css = await client.get("/static/starling.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert (await client.get("/static/../config.py")).status_code == 404


async def test_home_page_escapes_the_instance_title(client, ctx):
    async with ctx.db.write() as session:
        await set_instance_setting(session, "title", "<script>alert(1)</script>")
    response = await client.get("/")
    assert "<script>alert(1)</script>" not in response.text
    assert "&lt;script&gt;" in response.text
