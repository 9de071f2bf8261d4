"""Shared helpers for the timelines, lists, search and trends tests: post, boost, follow, block and mute
as the cast, the way the services do it, with the background work run at once."""

from __future__ import annotations

from sqlalchemy import event, select, update

from starling import ids
from starling.accounts.models import Account
from starling.graph.models import Block, Follow, Mute
from starling.media.models import MediaAttachment
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


async def many_posts(ctx, author_id: int, count: int) -> list[int]:
    """`count` public statuses by one author in one transaction, fanned out; oldest first."""
    async with ctx.db.write() as session:
        made = []
        for n in range(count):
            status = Status(id=ids.new_id(), account_id=author_id, text=f"post {n}",
                            content=f"<p>post {n}</p>")
            session.add(status)
            made.append(status)
        await session.flush()
        for status in made:
            await timelines.fan_out(session, status.id, settings=ctx.settings)
        return [s.id for s in made]


async def attach_media(ctx, account_id: int, status_id: int) -> None:
    async with ctx.db.write() as session:
        session.add(MediaAttachment(id=ids.new_id(), account_id=account_id, status_id=status_id,
                                    content_type="image/png", file_key="x.png", preview_key="x-small.png"))


async def mark(ctx, model, account_id: int, status_id: int) -> int:
    """A Favourite, Bookmark or Pin row; returns its ID."""
    async with ctx.db.write() as session:
        row = model(id=ids.new_id(), account_id=account_id, status_id=status_id)
        session.add(row)
        return row.id


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


async def _stand_in_visible_statuses(session, status_ids, viewer_id):
    """Until posts.service lands: the same rule, from posts.policy."""
    from starling.graph import repository as graph
    from starling.posts import policy

    rows = {s.id: s for s in await session.scalars(select(Status).where(Status.id.in_(list(status_ids))))}
    originals = {s.id: s for s in await session.scalars(
        select(Status).where(Status.id.in_([s.reblog_of_id for s in rows.values() if s.reblog_of_id])))}
    authors = {s.account_id for s in [*rows.values(), *originals.values()]}
    suspended = set(await session.scalars(select(Account.id).where(
        Account.id.in_(authors), Account.suspended_at.is_not(None))))
    viewer = policy.Viewer(id=None)
    if viewer_id is not None:
        mentioned = set(await session.scalars(select(Mention.status_id).where(
            Mention.account_id == viewer_id, Mention.status_id.in_([*rows, *originals]))))
        following = frozenset(await graph.following_ids(session, viewer_id))
        viewer = policy.Viewer(id=viewer_id, following=following,
                               blocked=frozenset(await graph.blocked_either_way(session, viewer_id)),
                               mentioned_in=frozenset(mentioned))
    return [rows[i] for i in status_ids if i in rows
            and policy.may_see(rows[i], originals.get(rows[i].reblog_of_id), viewer, suspended)]


async def _stand_in_status_entities(session, ctx, statuses, viewer_id):
    return [{"id": str(s.id), "account": {"id": str(s.account_id)}, "content": s.content,
             "visibility": VISIBILITIES[s.visibility],
             "reblog": {"id": str(s.reblog_of_id)} if s.reblog_of_id else None} for s in statuses]


def stand_in_for_posts(monkeypatch) -> None:
    """Use stand-ins for visible_statuses and status_entities while they are still stubs."""
    import inspect

    from starling.api.entities import status as status_entity
    from starling.posts import service as posts

    if "NotImplementedError" in inspect.getsource(posts.visible_statuses):
        monkeypatch.setattr(posts, "visible_statuses", _stand_in_visible_statuses)
    if "NotImplementedError" in inspect.getsource(status_entity.status_entities):
        import starling.api.search
        import starling.api.timelines
        import starling.api.trends
        for module in (starling.api.timelines, starling.api.search, starling.api.trends):
            monkeypatch.setattr(module, "status_entities", _stand_in_status_entities)
