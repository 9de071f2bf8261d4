"""`starling db copy`: an instance built through the API on SQLite is copied to PostgreSQL (and back, and to
another SQLite file), then served from the copy: the same API requests get the same answers, existing
tokens and passwords still work, search still finds posts. Also: a non-empty target is refused, an
interrupted copy resumes, --replace starts over, and the CLI prints a verified summary."""

from __future__ import annotations

import io
import secrets
import sqlite3

import httpx
import pytest
from PIL import Image
from sqlalchemy import delete, text

from starling import dbcopy
from starling.config import Settings
from starling.infra.db import Database
from starling.models import metadata
from starling.search import service as search
from tests.faults import create_database, drop_database, requires_shared_postgres
from tests.live import run_cli, server_env

REBUILD = {search.INDEX_TABLE: search.rebuild_index}


async def copy(source: str, target: str, **options) -> dbcopy.CopyReport:
    """The copy as the CLI runs it: every model's table, the search index rebuilt."""
    return await dbcopy.copy_database(source, target, metadata, rebuild=REBUILD, **options)


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (30, 90, 200)).save(buffer, "PNG")
    return buffer.getvalue()


async def build_instance(client, cast, drain) -> dict:
    """A small but complete instance: an app and a password-grant token, follows (one pending), posts
    with a hashtag, a mention, media and a boost, favourites, bookmarks, a list, notifications."""
    alice, bob, carol, eve = cast.alice, cast.bob, cast.carol, cast.eve
    app = (await client.post("/api/v1/apps", json={
        "client_name": "Copier", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob", "scopes": "read write follow"})).json()
    token = (await client.post("/oauth/token", data={
        "grant_type": "password", "client_id": app["client_id"], "client_secret": app["client_secret"],
        "username": "bob", "password": bob.password, "scope": "read write"})).json()["access_token"]
    for who, target in ((alice, bob), (alice, carol), (bob, alice), (eve, alice), (carol, bob)):
        assert (await client.post(f"/api/v1/accounts/{target.id}/follow", headers=who.headers)).status_code == 200
    media = await client.post("/api/v2/media", headers=bob.headers, data={"description": "blue"},
                              files={"file": ("blue.png", png(), "application/octet-stream")})
    assert media.status_code == 200, media.text
    posts = []
    for n in range(12):
        author = (alice, bob, carol)[n % 3]
        body = {"status": f"post {n} about #weather and quokkas" if n % 4 == 0 else f"plain post {n} @alice"}
        if n == 1:
            body["media_ids"] = [media.json()["id"]]
        if n == 5:
            body["visibility"] = "private"
        response = await client.post("/api/v1/statuses", headers=author.headers | {"Idempotency-Key": f"k{n}"},
                                     json=body)
        assert response.status_code == 200, response.text
        posts.append(response.json())
    await client.post(f"/api/v1/statuses/{posts[0]['id']}/favourite", headers=bob.headers)
    await client.post(f"/api/v1/statuses/{posts[1]['id']}/favourite", headers=alice.headers)
    await client.post(f"/api/v1/statuses/{posts[1]['id']}/bookmark", headers=alice.headers)
    await client.post(f"/api/v1/statuses/{posts[3]['id']}/reblog", headers=bob.headers)
    listed = (await client.post("/api/v1/lists", headers=alice.headers, json={"title": "friends"})).json()
    assert (await client.post(f"/api/v1/lists/{listed['id']}/accounts", headers=alice.headers,
                              json={"account_ids": [str(bob.id)]})).status_code == 200
    await drain()
    return {"list_id": listed["id"], "media_status": posts[1]["id"], "token": token, "app": app}


READS = [
    ("alice", "/api/v1/timelines/home?limit=40"),
    ("bob", "/api/v1/timelines/home?limit=40"),
    ("eve", "/api/v1/timelines/public?limit=40"),
    ("alice", "/api/v1/timelines/tag/weather"),
    ("alice", "/api/v1/notifications"),
    ("bob", "/api/v1/notifications"),
    ("alice", "/api/v1/favourites"),
    ("alice", "/api/v1/bookmarks"),
    ("alice", "/api/v1/lists"),
    ("alice", "/api/v1/accounts/verify_credentials"),
    ("bob", "/api/v2/search?q=quokkas&type=statuses"),
    ("alice", "/api/v2/search?q=weather"),
    ("carol", "/api/v1/follow_requests"),
]


async def answers(client, cast, info) -> dict[str, object]:
    """The JSON of a fixed set of reads, by request."""
    who = {"alice": cast.alice, "bob": cast.bob, "carol": cast.carol, "eve": cast.eve}
    reads = READS + [("alice", f"/api/v1/timelines/list/{info['list_id']}"),
                     ("alice", f"/api/v1/statuses/{info['media_status']}"),
                     ("alice", f"/api/v1/accounts/{cast.bob.id}/statuses")]
    seen = {}
    for name, path in reads:
        response = await client.get(path, headers=who[name].headers)
        assert response.status_code == 200, (path, response.text)
        seen[f"{name} {path}"] = response.json()
    verified = await client.get("/api/v1/accounts/verify_credentials",
                                headers={"Authorization": f"Bearer {info['token']}"})
    assert verified.status_code == 200
    seen["password-grant token"] = verified.json()["username"]
    return seen


async def serve_copy(settings: Settings, database_url: str):
    """The app on the same data dir (media, secret key) but the copied database, and (when the pass uses
    Redis) an empty Redis prefix, as after a move: feeds and caches rebuild from the copied rows."""
    from starling.app import create_app

    copied = settings.model_copy(update={"database_url": database_url,
                                         "redis_prefix": f"{settings.redis_prefix}copy-{secrets.token_hex(4)}:"})
    application = create_app(copied, run_worker=False)
    transport = httpx.ASGITransport(app=application)
    return application, httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def check_served_the_same(settings, url, cast, info, before) -> None:
    application, client = await serve_copy(settings, url)
    try:
        after = await answers(client, cast, info)
        for key in before:
            assert after[key] == before[key], key
        assert before["bob /api/v2/search?q=quokkas&type=statuses"]["statuses"], "search found nothing to compare"
        media = after[f"alice /api/v1/statuses/{info['media_status']}"]["media_attachments"][0]
        assert (await client.get(media["url"].removeprefix("http://testserver"))).status_code == 200
        # An existing client logs in again with its app credentials and a password.
        login = await client.post("/oauth/token", data={
            "grant_type": "password", "client_id": info["app"]["client_id"],
            "client_secret": info["app"]["client_secret"], "username": "alice", "password": cast.alice.password})
        assert login.status_code == 200, login.text
    finally:
        await client.aclose()
        await application.state.ctx.close()


async def check_takes_new_writes(settings, url, cast) -> None:
    """The copy carries on: a new post, a follow and a favourite go in and show up."""
    application, client = await serve_copy(settings, url)
    try:
        posted = await client.post("/api/v1/statuses", headers=cast.eve.headers, json={"status": "after the move"})
        assert posted.status_code == 200, posted.text
        followed = await client.post(f"/api/v1/accounts/{cast.eve.id}/follow", headers=cast.bob.headers)
        assert followed.status_code == 200
        assert (await client.post(f"/api/v1/statuses/{posted.json()['id']}/favourite",
                                  headers=cast.bob.headers)).status_code == 200
        mine = await client.get(f"/api/v1/accounts/{cast.eve.id}/statuses", headers=cast.bob.headers)
        assert [s["id"] for s in mine.json()] == [posted.json()["id"]]
    finally:
        await client.aclose()
        await application.state.ctx.close()


def sqlite_url(path) -> str:
    return f"sqlite+aiosqlite:///{path}"


async def test_copy_to_another_sqlite_file_serves_the_same_answers(client, cast, drain, settings, tmp_path):
    info = await build_instance(client, cast, drain)
    before = await answers(client, cast, info)
    target = sqlite_url(tmp_path / "copy.sqlite3")
    report = await copy(settings.resolved_database_url, target)
    assert report.ok, report.render()
    rows = {t.name: t.target_rows for t in report.tables}
    assert rows["statuses"] >= 13 and rows["follows"] >= 4 and rows["notifications"] and rows["list_accounts"] == 1
    assert rows["media_attachments"] == 1 and rows["oauth_access_tokens"] >= 6 and rows["idempotency_keys"] == 12
    assert report.rebuilt[search.INDEX_TABLE] == 12
    await check_served_the_same(settings, target, cast, info, before)
    await check_takes_new_writes(settings, target, cast)


@requires_shared_postgres
async def test_sqlite_to_postgres_and_back_without_loss(client, cast, drain, settings, tmp_path):
    info = await build_instance(client, cast, drain)
    before = await answers(client, cast, info)
    pg = await create_database("starling_copy")
    try:
        report = await copy(settings.resolved_database_url, pg, batch=5)  # small batches: many keyset pages per table
        assert report.ok, report.render()
        assert {t.name for t in report.tables} == set(metadata.tables)
        await check_served_the_same(settings, pg, cast, info, before)

        back = sqlite_url(tmp_path / "back.sqlite3")
        report = await copy(pg, back)
        assert report.ok, report.render()
        await check_served_the_same(settings, back, cast, info, before)
        with sqlite3.connect(tmp_path / "back.sqlite3") as db:
            assert db.execute("PRAGMA foreign_key_check").fetchall() == []
        await check_takes_new_writes(settings, pg, cast)
        await check_takes_new_writes(settings, back, cast)
    finally:
        await drop_database(pg)


async def test_refuses_a_non_empty_target_resumes_and_replaces(client, cast, drain, settings, tmp_path):
    await build_instance(client, cast, drain)
    source = settings.resolved_database_url
    target = sqlite_url(tmp_path / "copy.sqlite3")
    first = await copy(source, target)
    assert first.ok

    with pytest.raises(dbcopy.CopyRefused, match="already holds rows"):
        await copy(source, target)

    # An interrupted copy: the last tables never arrived. --resume copies only those.
    lost = ("status_tags", "notifications", "list_accounts")
    await write_to(target, *(delete(metadata.tables[name]) for name in lost))
    resumed = await copy(source, target, mode="resume")
    assert resumed.ok, resumed.render()
    copied = {t.name for t in resumed.tables if t.copied}
    assert copied == set(lost)
    assert {t.name for t in resumed.tables if t.skipped} >= {"accounts", "statuses", "follows"}

    # A target that differs from the source is not silently merged: resume refuses, replace starts over.
    await write_to(target, text("DELETE FROM favourites WHERE rowid IN (SELECT rowid FROM favourites LIMIT 1)"))
    with pytest.raises(dbcopy.CopyRefused, match="favourites"):
        await copy(source, target, mode="resume")
    replaced = await copy(source, target, mode="replace")
    assert replaced.ok and all(t.copied == t.source_rows for t in replaced.tables)


async def write_to(url: str, *statements) -> None:
    """Run statements on a database in one committed transaction."""
    db = Database(url)
    try:
        async with db.write() as session:
            for statement in statements:
                await session.execute(statement)
    finally:
        await db.dispose()


async def test_refuses_a_source_that_is_missing_or_behind(settings, tmp_path):
    with pytest.raises(dbcopy.CopyRefused, match="does not exist"):
        await copy(sqlite_url(tmp_path / "nothing.sqlite3"), sqlite_url(tmp_path / "t.sqlite3"))
    with pytest.raises(dbcopy.CopyRefused, match="same database"):
        await copy(settings.resolved_database_url, settings.resolved_database_url)
    behind = tmp_path / "behind.sqlite3"
    sqlite3.connect(behind).close()
    with pytest.raises(dbcopy.CopyRefused, match="starling migrate"):
        await copy(sqlite_url(behind), sqlite_url(tmp_path / "t.sqlite3"))
    with pytest.raises(dbcopy.CopyRefused, match="directory that exists"):
        await copy(settings.resolved_database_url, sqlite_url(tmp_path / "no" / "such" / "dir.sqlite3"))
    with pytest.raises(dbcopy.CopyRefused, match="unsupported"):
        dbcopy.normalise_url("mysql://root@localhost/x")


@pytest.mark.slow
def test_cli_copies_and_prints_a_verified_summary(tmp_path):
    data = tmp_path / "data"
    env = server_env(data, "copy.test")
    run_cli(["migrate"], env)
    run_cli(["user", "create", "dora", "--email", "dora@copy.test", "--password", "long enough pw"], env)
    target = tmp_path / "copy.sqlite3"
    done = run_cli(["db", "copy", "--to", f"sqlite:///{target}"], env)
    assert "verified: " in done.stdout and "accounts" in done.stdout and "MISMATCH" not in done.stdout
    assert "stay in STARLING_DATA_DIR/media" in done.stdout
    with pytest.raises(RuntimeError, match="--resume"):
        run_cli(["db", "copy", "--to", f"sqlite:///{target}"], env)
    with sqlite3.connect(target) as db:
        assert db.execute("SELECT username FROM accounts").fetchall() == [("dora",)]
