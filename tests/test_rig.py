"""The rig itself: migrations apply, the app answers, tokens authenticate, errors have Mastodon's shape."""

from sqlalchemy import text

from tests import postgres as backend


async def test_health_answers(client):
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.text == "OK"
    assert (await client.head("/health")).status_code == 200


async def test_home_page_answers_head(client):
    assert (await client.head("/")).status_code == 200


async def test_unknown_route_is_mastodon_shaped_404(client):
    response = await client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.json() == {"error": "Record not found"}


async def test_the_pass_runs_on_its_backend(ctx, settings, tmp_path):
    """A pass that silently fell back to SQLite (or lost Redis) would prove nothing about PostgreSQL."""
    async with ctx.db.read() as session:
        dialect = session.get_bind().dialect.name
    if not backend.ON_POSTGRES:
        assert dialect == "sqlite" and ctx.redis is None
        return
    assert dialect == "postgresql"
    assert settings.redis_prefix.startswith("starling-test:")
    assert backend.settings_for(tmp_path / "elsewhere").database_url != settings.database_url
    if backend.REDIS_URL:
        assert await ctx.redis.ping()


@backend.sqlite_only("journal mode and foreign-key pragmas")
async def test_sqlite_runs_in_wal_with_foreign_keys(ctx):
    async with ctx.db.read() as session:
        assert (await session.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        assert (await session.execute(text("PRAGMA foreign_keys"))).scalar() == 1


async def test_cast_tokens_are_stored_hashed(ctx, cast):
    async with ctx.db.read() as session:
        stored = (await session.execute(text("SELECT token_hash FROM oauth_access_tokens"))).scalars().all()
    assert stored and cast.alice.token not in stored
    assert all(len(h) == 64 for h in stored)


async def test_oversized_body_is_refused_before_reading(settings):
    import httpx

    from starling.app import create_app

    settings.max_body_bytes = 1000
    app = create_app(settings, run_worker=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        response = await http.post("/api/v1/statuses", content=b"x" * 5000,
                                   headers={"content-type": "application/json"})
    await app.state.ctx.db.dispose()
    assert response.status_code == 413
    assert response.json() == {"error": "Request body too large"}


async def test_api_answers_browser_clients_from_any_origin(client):
    preflight = await client.options("/api/v1/timelines/public", headers={
        "Origin": "https://elk.zone", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization"})
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "*"
    response = await client.get("/api/v1/instance", headers={"Origin": "https://elk.zone"})
    assert response.headers["access-control-allow-origin"] == "*"
    assert "Link" in response.headers["access-control-expose-headers"]


async def test_html_pages_get_no_cors_headers(client):
    response = await client.get("/", headers={"Origin": "https://evil.test"})
    assert "access-control-allow-origin" not in response.headers


async def test_malformed_bodies_get_a_clear_400_and_write_nothing(client, cast):
    from sqlalchemy import func, select

    from starling.posts.models import Status

    cases = [
        (b'{"status": ', "application/json"),
        (b'{"status": "\xff\xfe"}', "application/json"),
        (b'["not", "an", "object"]', "application/json"),
        (b"status=%FF%FE%FD", "application/x-www-form-urlencoded"),
    ]
    for body, content_type in cases:
        response = await client.post("/api/v1/statuses", content=body,
                                     headers={**cast.alice.headers, "content-type": content_type})
        assert response.status_code in (400, 422), (body, response.status_code, response.text)
        assert set(response.json()) <= {"error", "details"} and response.json()["error"]
    app = client._transport.app
    async with app.state.ctx.db.read() as session:
        assert await session.scalar(select(func.count()).select_from(Status)) == 0


async def test_absurd_limits_are_clamped(client, cast):
    for limit in ("100000", "-5", "abc", "0"):
        response = await client.get("/api/v1/timelines/public", params={"limit": limit})
        assert response.status_code == 200, (limit, response.text)


@backend.sqlite_only("per-connection pragmas")
async def test_every_connection_gets_the_configured_pragmas(ctx):
    # The rig sets synchronous=NORMAL (1); production's FULL is 2. Both pools, every connection.
    for engine in (ctx.db.read_engine, ctx.db.write_engine):
        async with engine.connect() as conn:
            assert (await conn.exec_driver_sql("PRAGMA synchronous")).scalar() == 1
            assert (await conn.exec_driver_sql("PRAGMA busy_timeout")).scalar() == ctx.settings.sqlite_busy_timeout_ms
            assert (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar() == "wal"


async def test_nul_characters_are_dropped_from_what_clients_send(client, cast):
    """PostgreSQL text cannot hold NUL; both backends store the same text without it."""
    posted = await client.post("/api/v1/statuses", headers=cast.alice.headers, json={"status": "nul\u0000text"})
    assert posted.status_code == 200, posted.text
    assert posted.json()["content"] == "<p>nultext</p>"
    by_form = await client.post("/api/v1/statuses", headers=cast.alice.headers,
                                data={"status": "form\u0000text", "spoiler_text": "\u0000"})
    assert by_form.status_code == 200 and by_form.json()["spoiler_text"] == ""
    found = await client.get("/api/v2/search", headers=cast.alice.headers,
                             params={"q": "\u0000nul", "type": "accounts"})
    assert found.status_code == 200, found.text
