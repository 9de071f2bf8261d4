"""Shared helpers for the timelines, lists, search and trends tests: post, boost, follow, block and mute
as the cast, the way the services do it, with the background work run at once."""

from __future__ import annotations

from sqlalchemy import event, select, update

from starling import ids
from starling.accounts.models import Account
from starling.graph.models import Block, Follow, Mute
from starling.posts.models import VISIBILITIES, Mention, Status, StatusTag, Tag
from starling.search import service as search
from starling.timelines import service as timelines
from starling.timelines.models import HomeFeedEntry


async def post(ctx, author_id: int, text: str = "hello", *, visibility: str = "public",
               reply_to: int | None = None, mentions: tuple[int, ...] = (),
               tags: tuple[str, ...] = ()) -> int:
    """A status by `author_id`, fanned out and indexed as the status.created job would."""
    async with ctx.db.write() as session:
        parent = await session.get(Status, reply_to) if reply_to else None
        status = Status(id=ids.new_id(), account_id=author_id, text=text, content=f"<p>{text}</p>",
                        visibility=VISIBILITIES.index(visibility), in_reply_to_id=reply_to,
                        in_reply_to_account_id=parent.account_id if parent else None)
        session.add(status)
        await session.flush()
        for account_id in mentions:
            session.add(Mention(status_id=status.id, account_id=account_id))
        for name in tags:
            tag = await session.scalar(select(Tag).where(Tag.name == name.lower()))
            tag_id = tag.id if tag else ids.new_id()
            if not tag:
                session.add(Tag(id=tag_id, name=name.lower(), display_name=name))
                await session.flush()
            session.add(StatusTag(status_id=status.id, tag_id=tag_id))
        await session.flush()
        await timelines.fan_out(session, status.id, settings=ctx.settings)
        await search.index_status(session, status)
        return status.id


async def boost(ctx, booster_id: int, status_id: int) -> int:
    async with ctx.db.write() as session:
        original = await session.get(Status, status_id)
        status = Status(id=ids.new_id(), account_id=booster_id, text="", content="",
                        visibility=original.visibility, reblog_of_id=status_id)
        session.add(status)
        await session.flush()
        await timelines.fan_out(session, status.id, settings=ctx.settings)
        return status.id


async def follow(ctx, account_id: int, target_id: int, *, show_reblogs: bool = True) -> None:
    async with ctx.db.write() as session:
        session.add(Follow(id=ids.new_id(), account_id=account_id, target_account_id=target_id,
                           show_reblogs=show_reblogs))
        await session.execute(update(Account).where(Account.id == target_id)
                              .values(followers_count=Account.followers_count + 1))
        await session.execute(update(Account).where(Account.id == account_id)
                              .values(following_count=Account.following_count + 1))
        await session.flush()
        await timelines.merge_account_into_feed(session, account_id, target_id, settings=ctx.settings)


async def block(ctx, account_id: int, target_id: int) -> None:
    async with ctx.db.write() as session:
        session.add(Block(id=ids.new_id(), account_id=account_id, target_account_id=target_id))


async def mute(ctx, account_id: int, target_id: int) -> None:
    async with ctx.db.write() as session:
        session.add(Mute(id=ids.new_id(), account_id=account_id, target_account_id=target_id))


async def feed_of(ctx, account_id: int) -> list[int]:
    """Status IDs in an account's stored home feed, newest first."""
    async with ctx.db.read() as session:
        return list(await session.scalars(select(HomeFeedEntry.status_id)
                                          .where(HomeFeedEntry.account_id == account_id)
                                          .order_by(HomeFeedEntry.status_id.desc())))


class QueryCounter:
    """Counts SQL statements on both engines while active."""

    def __init__(self, ctx):
        self.engines = {ctx.db.read_engine.sync_engine, ctx.db.write_engine.sync_engine}
        self.statements: list[str] = []

    def _count(self, _conn, _cursor, statement, *_args):
        if not statement.lstrip().upper().startswith(("BEGIN", "PRAGMA", "ROLLBACK", "COMMIT")):
            self.statements.append(statement)

    def __enter__(self):
        for engine in self.engines:
            event.listen(engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *exc):
        for engine in self.engines:
            event.remove(engine, "before_cursor_execute", self._count)
