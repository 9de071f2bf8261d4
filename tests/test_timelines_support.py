"""Shared helpers for the timelines, lists, search and trends tests: post, boost, follow, block and mute
as the cast through the services, with the background work run at once."""

from __future__ import annotations

from sqlalchemy import event, select

from starling import ids
from starling.graph import service as graph
from starling.infra import jobs
from starling.media.models import MediaAttachment
from starling.posts import service as posts
from starling.posts.models import Bookmark, Favourite, Pin
from starling.timelines.feed_store import feed_store


async def _run_jobs(ctx) -> None:
    await jobs.drain(ctx.db)


async def post(ctx, author_id: int, text: str = "hello", *, visibility: str = "public",
               reply_to: int | None = None) -> int:
    """A status by `author_id` through the posts service, its background work done."""
    async with ctx.db.write() as session:
        status = await posts.create_status(session, ctx.settings, account_id=author_id, text=text,
                                           visibility=visibility, in_reply_to_id=reply_to)
    await _run_jobs(ctx)
    return status.id


async def many_posts(ctx, author_id: int, count: int) -> list[int]:
    """`count` public statuses by one author in one transaction, fanned out; oldest first."""
    async with ctx.db.write() as session:
        made = [await posts.create_status(session, ctx.settings, account_id=author_id, text=f"post {n}",
                                          visibility="public") for n in range(count)]
    await _run_jobs(ctx)
    return [s.id for s in made]


async def attach_media(ctx, account_id: int, status_id: int) -> None:
    async with ctx.db.write() as session:
        session.add(MediaAttachment(id=ids.new_id(), account_id=account_id, status_id=status_id,
                                    content_type="image/png", file_key="x.png", preview_key="x-small.png"))


async def mark(ctx, kind: str, account_id: int, status_id: int) -> int:
    """Favourite, bookmark or pin a status through the posts service; returns the new row's ID."""
    model = {"favourite": Favourite, "bookmark": Bookmark, "pin": Pin}[kind]
    async with ctx.db.write() as session:
        await getattr(posts, kind)(session, account_id=account_id, status_id=status_id)
        return await session.scalar(select(model.id).where(model.account_id == account_id,
                                                           model.status_id == status_id))


async def boost(ctx, booster_id: int, status_id: int) -> int:
    async with ctx.db.write() as session:
        reblog = await posts.reblog(session, account_id=booster_id, status_id=status_id)
    await _run_jobs(ctx)
    return reblog.id


async def follow(ctx, account_id: int, target_id: int, *, show_reblogs: bool = True) -> None:
    async with ctx.db.write() as session:
        await graph.follow(session, account_id, target_id, reblogs=show_reblogs)
    await _run_jobs(ctx)


async def unfollow(ctx, account_id: int, target_id: int) -> None:
    async with ctx.db.write() as session:
        await graph.unfollow(session, account_id, target_id)
    await _run_jobs(ctx)


async def block(ctx, account_id: int, target_id: int) -> None:
    async with ctx.db.write() as session:
        await graph.block(session, account_id, target_id)
    await _run_jobs(ctx)


async def mute(ctx, account_id: int, target_id: int) -> None:
    async with ctx.db.write() as session:
        await graph.mute(session, account_id, target_id)


async def feed_of(ctx, account_id: int) -> list[int]:
    """Status IDs in an account's stored home feed (the table, or Redis when configured), newest first."""
    async with ctx.db.read() as session:
        return await feed_store(session).entries(account_id)


class QueryCounter:
    """Counts SQL statements on both engines and on direct reads (infra.direct) while active."""

    def __init__(self, ctx):
        self.engines = {ctx.db.read_engine.sync_engine, ctx.db.write_engine.sync_engine}
        self.direct = ctx.db.direct
        self.statements: list[str] = []

    def _count(self, _conn, _cursor, statement, *_args):
        if not statement.lstrip().upper().startswith(("BEGIN", "PRAGMA", "ROLLBACK", "COMMIT")):
            self.statements.append(statement)

    def __enter__(self):
        for engine in self.engines:
            event.listen(engine, "before_cursor_execute", self._count)
        self.direct.observers.append(self.statements.append)
        return self

    def __exit__(self, *exc):
        for engine in self.engines:
            event.remove(engine, "before_cursor_execute", self._count)
        self.direct.observers.remove(self.statements.append)
