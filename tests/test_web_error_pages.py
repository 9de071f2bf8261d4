"""Errors in the face's shape: the web app's paths answer a page in the web app's look (not found with a
way home, service unavailable with Retry-After when the database is away), while the API's paths keep
Mastodon's `{"error": ...}` exactly, whatever the client accepts."""

from __future__ import annotations

import httpx
import pytest

from starling.config import Settings
from tests.live import free_port
from tests.web.forms import sign_in

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
OUTAGE_JSON = {"error": "The database is unavailable; try again shortly"}


def _is_page(response) -> bool:
    return (response.headers["content-type"].startswith("text/html")
            and '<link rel="stylesheet" href="/static/starling.css">' in response.text
            and "content-security-policy" in response.headers)


async def test_an_unknown_web_path_is_a_not_found_page_with_a_way_home(client):
    for headers in (BROWSER, {}, {"Accept": "*/*"}):
        response = await client.get("/nope", headers=headers)
        assert response.status_code == 404
        assert _is_page(response), response.text[:200]
        assert "<h1>Not found</h1>" in response.text and 'href="/"' in response.text
        assert 'role="alert"' in response.text and '<main id="main"' in response.text
    deeper = await client.get("/settings/nope/deeper", headers=BROWSER)
    assert deeper.status_code == 404 and _is_page(deeper)
    wrong_method = await client.put("/home", headers=BROWSER)
    assert wrong_method.status_code == 405 and _is_page(wrong_method)


async def test_a_signed_in_person_gets_the_page_with_their_navigation(client, cast):
    await sign_in(client, cast.alice)
    response = await client.get("/nope", headers=BROWSER)
    assert response.status_code == 404 and _is_page(response)
    assert 'href="/home"' in response.text and 'action="/auth/sign_out"' in response.text


async def test_api_paths_keep_the_json_shape_whatever_is_accepted(client):
    for headers in (BROWSER, {}, {"Accept": "application/json"}):
        api = await client.get("/api/v1/no-such-thing", headers=headers)
        assert api.status_code == 404 and api.json() == {"error": "Record not found"}
        assert api.headers["content-type"] == "application/json"
        status = await client.get("/api/v1/statuses/123", headers=headers)
        assert status.status_code == 404 and status.json() == {"error": "Record not found"}
    token = await client.get("/oauth/token", headers=BROWSER)
    assert token.status_code == 405 and token.json() == {"error": "Method Not Allowed"}
    known = await client.get("/.well-known/nope", headers=BROWSER)
    assert known.status_code == 404 and known.json() == {"error": "Record not found"}
    media = await client.get("/system/media/1/x/original.jpg", headers=BROWSER)
    assert media.status_code == 404 and media.json() == {"error": "Record not found"}


async def test_a_script_asking_for_json_on_a_web_path_gets_json(client):
    response = await client.get("/nope", headers={"Accept": "application/json"})
    assert response.status_code == 404 and response.json() == {"error": "Record not found"}


async def test_errors_inside_web_routes_stay_pages(client, cast):
    await sign_in(client, cast.alice)
    refused = await client.get("/admin/moderation", headers=BROWSER)  # staff only: to others it does not exist
    assert refused.status_code == 404 and _is_page(refused)
    missing = await client.get("/@nobody-here", headers=BROWSER)
    assert missing.status_code == 404 and _is_page(missing)
    forged = await client.post("/auth/sign_out", headers=BROWSER)  # no CSRF token
    assert forged.status_code == 403 and _is_page(forged) and "<h1>Not allowed</h1>" in forged.text


@pytest.fixture
async def nowhere(tmp_path):
    """An app whose PostgreSQL does not listen: every database call fails as in an outage."""
    from starling.app import create_app

    settings = Settings(data_dir=tmp_path, domain="testserver", secret_key="t" * 48, embedded_worker=False,
                        database_url=f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/gone",
                        db_retry_after=7, instance_title="Outage Test", _env_file=None)
    application = create_app(settings, run_worker=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=application), base_url="http://testserver") as http:
        yield http
    await application.state.ctx.close()


async def test_a_database_outage_is_a_service_unavailable_page_on_web_paths(nowhere):
    nowhere.cookies.set("starling_session", "a" * 43)  # a signed-in browser: resolving it needs the database
    for path in ("/", "/home", "/explore"):
        response = await nowhere.get(path, headers=BROWSER)
        assert response.status_code == 503, (path, response.text[:300])
        assert _is_page(response) and response.headers["Retry-After"] == "7"
        assert "<h1>Service unavailable</h1>" in response.text and "Try again shortly" in response.text
        assert "Outage Test" in response.text  # the title comes from settings, not from the database
        assert response.headers["cache-control"] == "no-store"
    # A page that does not exist still says so, drawn without the database it could not reach.
    missing = await nowhere.get("/nope", headers=BROWSER)
    assert missing.status_code == 404 and _is_page(missing) and "Outage Test" in missing.text
    htmx = await nowhere.get("/home", headers={**BROWSER, "HX-Request": "true"})
    assert htmx.status_code == 503 and htmx.headers["HX-Retarget"] == "#flash"
    assert "Try again shortly" in htmx.text and "<html" not in htmx.text


async def test_a_database_outage_keeps_the_api_json(nowhere):
    for method, path in (("GET", "/api/v1/timelines/public"), ("GET", "/api/v1/instance")):
        response = await nowhere.request(method, path, headers=BROWSER)
        assert response.status_code == 503 and response.json() == OUTAGE_JSON
        assert response.headers["Retry-After"] == "7"


async def test_a_crash_is_a_plain_page_on_web_paths_and_json_on_api_paths(app):
    async def boom():
        raise RuntimeError("a bug")

    app.add_api_route("/boom", boom)
    app.add_api_route("/api/v1/boom", boom)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        page = await http.get("/boom", headers=BROWSER)
        assert page.status_code == 500 and _is_page(page)
        assert "<h1>Something went wrong</h1>" in page.text and "a bug" not in page.text
        api = await http.get("/api/v1/boom", headers=BROWSER)
        assert api.status_code == 500 and api.json() == {"error": "Internal server error"}
