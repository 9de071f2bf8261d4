"""Where precomputed home feeds live. The embedded default is the `home_feed` table; with Redis
configured, sorted sets per account (see redis_feeds) take its place behind the same few calls.
A feed store is a cache of the follow graph and the posts table: losing it loses nothing that cannot
be rebuilt."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, Protocol

from sqlalchemy import delete, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from starling.infra.cache import redis_of
from starling.infra.db import insert_ignore
from starling.timelines import repository
from starling.timelines.models import HomeFeedEntry
from starling.timelines.redis_feeds import RedisFeeds


class Window(Protocol):
    """A page of an ID-ordered list (the API's Page satisfies this)."""

    max_id: int | None
    since_id: int | None
    min_id: int | None
    limit: int

    def apply(self, stmt: Any, column: Any) -> Any: ...

    def order(self, rows: list, key: Any = ...) -> list: ...


class FeedStore(Protocol):
    # Whether writes may run while the session runs a query (they do not use the session).
    concurrent: bool

    async def add(self, account_ids: Collection[int], status_id: int, author_id: int) -> None:
        """Put `status_id` into each account's feed; entries that exist stay as they are."""

    async def merge(self, account_id: int, status_ids: Collection[int], author_id: int) -> None:
        """Put several statuses of one author into one feed (a follow's catch-up)."""

    async def remove_statuses(self, authors: Mapping[int, int | None]) -> None:
        """Take these statuses (status ID -> author ID, None when no longer known) out of every feed."""

    async def remove_author_from(self, account_id: int, author_id: int) -> None:
        """Take everything `author_id` put into `account_id`'s feed out of it."""

    async def page(self, account_id: int, window: Window) -> list[int]:
        """Status IDs of one page of a feed, newest first."""

    async def trim(self, account_ids: Collection[int], cap: int) -> None:
        """Keep only the newest `cap` entries of each of these feeds."""

    async def entries(self, account_id: int) -> list[int]:
        """Every status ID stored in one feed, newest first."""

    async def start(self, account_id: int) -> None:
        """Begin the (empty) feed of a new account."""


class SqlFeedStore:
    """The home feed as rows (account_id, status_id, author_id) in the caller's transaction."""

    concurrent = False

    def __init__(self, session: AsyncSession):
        self.session = session

    async def add(self, account_ids: Collection[int], status_id: int, author_id: int) -> None:
        rows = [{"account_id": a, "status_id": status_id, "author_id": author_id} for a in set(account_ids)]
        await insert_ignore(self.session, HomeFeedEntry.__table__, rows)

    async def merge(self, account_id: int, status_ids: Collection[int], author_id: int) -> None:
        rows = [{"account_id": account_id, "status_id": s, "author_id": author_id} for s in set(status_ids)]
        await insert_ignore(self.session, HomeFeedEntry.__table__, rows)

    async def remove_statuses(self, authors: Mapping[int, int | None]) -> None:
        if authors:
            await self.session.execute(
                delete(HomeFeedEntry).where(HomeFeedEntry.status_id.in_(set(authors))))

    async def remove_author_from(self, account_id: int, author_id: int) -> None:
        await self.session.execute(delete(HomeFeedEntry).where(
            HomeFeedEntry.account_id == account_id, HomeFeedEntry.author_id == author_id))

    async def page(self, account_id: int, window: Window) -> list[int]:
        stmt = window.apply(select(HomeFeedEntry.status_id).where(HomeFeedEntry.account_id == account_id),
                            HomeFeedEntry.status_id)
        return window.order(list(await self.session.scalars(stmt)))

    async def trim(self, account_ids: Collection[int], cap: int) -> None:
        if not account_ids:
            return
        ranked = (select(HomeFeedEntry.account_id, HomeFeedEntry.status_id,
                         func.row_number().over(partition_by=HomeFeedEntry.account_id,
                                                order_by=HomeFeedEntry.status_id.desc()).label("rank"))
                  .where(HomeFeedEntry.account_id.in_(set(account_ids)))
                  .subquery())
        surplus = select(ranked.c.account_id, ranked.c.status_id).where(ranked.c.rank > cap)
        await self.session.execute(delete(HomeFeedEntry).where(
            tuple_(HomeFeedEntry.account_id, HomeFeedEntry.status_id).in_(surplus)))

    async def entries(self, account_id: int) -> list[int]:
        return list(await self.session.scalars(
            select(HomeFeedEntry.status_id).where(HomeFeedEntry.account_id == account_id)
            .order_by(HomeFeedEntry.status_id.desc())))

    async def start(self, account_id: int) -> None:
        return None  # an account without rows has an empty feed already


class RedisFeedStore:
    """The home feed as Redis sorted sets. Writes happen at once, not at the caller's commit: every one
    is idempotent, so a job that rolls back and runs again leaves the same feeds. Raises
    infra.cache.RedisUnavailable when Redis does not answer."""

    concurrent = True

    def __init__(self, session: AsyncSession, feeds: RedisFeeds):
        self.session = session
        self.feeds = feeds

    async def add(self, account_ids: Collection[int], status_id: int, author_id: int) -> None:
        await self.feeds.add(account_ids, [(status_id, author_id)])

    async def merge(self, account_id: int, status_ids: Collection[int], author_id: int) -> None:
        await self.feeds.add([account_id], [(s, author_id) for s in sorted(set(status_ids))])

    async def remove_statuses(self, authors: Mapping[int, int | None]) -> None:
        """Feeds that may hold a status: its author's, its author's followers' and those of the accounts
        it mentions. Statuses whose author is no longer known stay until trimmed; home never shows a
        status that is gone, so they cost a slot, not a leak."""
        batch = self.session.info["settings"].fanout_batch
        for status_id, author_id in authors.items():
            if author_id is None:
                continue
            entry = [(status_id, author_id)]
            await self.feeds.remove([author_id, *await repository.mentioned_ids(self.session, status_id)], entry)
            after = 0
            while followers := await repository.all_follower_batch(self.session, author_id, after=after,
                                                                   limit=batch):
                await self.feeds.remove(followers, entry)
                after = followers[-1]

    async def remove_author_from(self, account_id: int, author_id: int) -> None:
        await self.feeds.remove_author(account_id, author_id)

    async def page(self, account_id: int, window: Window) -> list[int]:
        return (await self.feeds.window(account_id, window))[1]

    async def trim(self, account_ids: Collection[int], cap: int) -> None:
        await self.feeds.trim(account_ids, cap)

    async def entries(self, account_id: int) -> list[int]:
        return await self.feeds.entries(account_id)

    async def start(self, account_id: int) -> None:
        await self.feeds.build(account_id, [], self.session.info["settings"].feed_cap)


def feed_store(session: AsyncSession) -> FeedStore:
    """The feed store for this session: Redis when the instance has it, else the `home_feed` table."""
    redis = redis_of(session)
    if redis is None:
        return SqlFeedStore(session)
    return RedisFeedStore(session, RedisFeeds(redis, session.info["settings"]))
