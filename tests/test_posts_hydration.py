"""Hydrating a page of statuses costs a fixed number of queries, however many statuses are on it."""

from __future__ import annotations

import io
from contextlib import contextmanager

import pytest
from PIL import Image
from sqlalchemy import event

from starling import ids
from starling.api.entities.status import status_entities
from starling.graph.models import Follow
from starling.posts import service


@pytest.fixture
def settings(settings):
    """The spam scorer off: sixteen link-carrying posts from brand-new accounts, made at a machine's even
    pace, can reach the quarantine score depending on timing, and a quarantined post would leave the page.
    What is measured here is hydration (safety scoring has its own tests)."""
    return settings.model_copy(update={"spam_scoring_enabled": False})


@contextmanager
def counted(ctx):
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        if not statement.lstrip().upper().startswith(("BEGIN", "PRAGMA", "SAVEPOINT", "RELEASE", "ROLLBACK")):
            statements.append(statement)

    engines = {ctx.db.read_engine.sync_engine, ctx.db.write_engine.sync_engine}
    for engine in engines:
        event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", count)


async def build_page(client, cast, ctx) -> list[int]:
    """Twenty statuses of every kind: plain, private, with media, mentions and tags, replies, boosts."""
    async with ctx.db.write() as session:
        session.add(Follow(id=ids.new_id(), account_id=cast.bob.id, target_account_id=cast.alice.id))
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buffer, "PNG")
    made: list[str] = []
    authors = [cast.alice, cast.carol, cast.eve]
    for n in range(16):
        who = authors[n % 3]
        fields = {"status": f"post {n} @bob #tag{n % 4} https://example.com/{n}",
                  "visibility": "private" if n % 5 == 0 else "public"}
        if n % 3 == 0:
            media = await client.post("/api/v2/media", headers=who.headers,
                                      files={"file": ("a.png", buffer.getvalue())})
            fields["media_ids"] = [media.json()["id"]]
        if made and n % 4 == 0:
            fields["in_reply_to_id"] = made[-1]
        response = await client.post("/api/v1/statuses", headers=who.headers, json=fields)
        assert response.status_code == 200, response.text
        made.append(response.json()["id"])
    for status_id in made[:6]:
        response = await client.post(f"/api/v1/statuses/{status_id}/reblog", headers=cast.carol.headers)
        if response.status_code == 200 and response.json()["id"] not in made:
            made.append(response.json()["id"])
        await client.post(f"/api/v1/statuses/{status_id}/favourite", headers=cast.bob.headers)
        await client.post(f"/api/v1/statuses/{status_id}/bookmark", headers=cast.bob.headers)
    return [int(i) for i in made]


async def hydrate(ctx, status_ids: list[int], viewer_id: int) -> tuple[list[dict], int]:
    async with ctx.db.read() as session:
        with counted(ctx) as statements:
            statuses = await service.visible_statuses(session, status_ids, viewer_id)
            entities = await status_entities(session, ctx, statuses, viewer_id)
    return entities, len(statements)


async def test_a_page_of_twenty_costs_a_fixed_number_of_queries(client, cast, ctx):
    page = await build_page(client, cast, ctx)
    assert len(page) >= 19
    entities, queries = await hydrate(ctx, page, cast.bob.id)
    assert len(entities) == len(page)
    assert any(e["reblog"] for e in entities) and any(e["media_attachments"] for e in entities)
    assert any(e["favourited"] for e in entities) and all(e["mentions"] for e in entities if not e["reblog"])
    assert queries <= 15, queries
    _few, queries_for_three = await hydrate(ctx, page[:3], cast.bob.id)
    assert queries == queries_for_three or queries - queries_for_three <= 1  # no per-status queries


async def test_hydration_is_consistent_with_single_status_reads(client, cast, ctx):
    page = await build_page(client, cast, ctx)
    entities, _ = await hydrate(ctx, page, cast.bob.id)
    for entity in entities[:5]:
        single = await client.get(f"/api/v1/statuses/{entity['id']}", headers=cast.bob.headers)
        assert single.json() == entity
