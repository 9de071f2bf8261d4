"""Home feeds (fan-out on write, hybrid merge at read), lists and the other timelines.

A new status is written into the precomputed home feed of its author and of each follower who should
see it. Authors with more followers than Settings.fanout_threshold are not fanned out: their recent
statuses are merged in when a follower reads home. Every read ends the same way: the posts capability
decides what the viewer may see, then mutes and blocks are applied, all in a handful of queries.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from starling import clock
from starling.accounts.models import Account
from starling.config import Settings
from starling.errors import NotFound
from starling.graph import repository as graph
from starling.infra import jobs
from starling.infra.cache import RedisUnavailable, usable
from starling.infra.direct import Reader
from starling.posts import service as posts
from starling.posts.models import DIRECT, Status
from starling.timelines import repository
from starling.timelines.feed_store import Window, feed_store
from starling.timelines.redis_feeds import RedisFeeds

# Feeds are trimmed on about one insert in TRIM_EVERY, not on every insert.
TRIM_EVERY = 16
# How many of an account's statuses join a feed when someone follows it.
MERGE_LIMIT = 40
# The job that finishes a fan-out Redis could not take (see fan_out).
FAN_OUT_AGAIN = "timelines.fan_out"


def _settings(session: AsyncSession, settings: Settings | None) -> Settings:
    """The instance settings: given, or the ones every session of the instance carries in its info."""
    return settings if settings is not None else session.info["settings"]


def _due_for_trim(status_id: int) -> bool:
    return status_id % TRIM_EVERY == 0


async def fan_out(session: AsyncSession, status_id: int, *, settings: Settings | None = None,
                  defer_on_outage: bool = True) -> None:
    """Put a new status into the home feed of its author and of every follower below the threshold.
    Idempotent: running it again changes nothing. When the feeds live in Redis and Redis is down, the
    fan-out is queued as a job of its own (retried with backoff) so the caller's other work goes on;
    with `defer_on_outage` false, RedisUnavailable is raised instead."""
    try:
        await _fan_out(session, status_id, _settings(session, settings))
    except RedisUnavailable:
        if not defer_on_outage:
            raise
        jobs.enqueue(session, FAN_OUT_AGAIN, {"status_id": status_id})


async def _fan_out(session: AsyncSession, status_id: int, settings: Settings) -> None:
    status = await repository.status_for_fanout(session, status_id)
    if status is None:
        return
    store = feed_store(session)
    author = status.account_id
    trim = _due_for_trim(status.id)
    await store.add([author], status.id, author)
    if trim:
        await store.trim([author], settings.feed_cap)
    if status.visibility == DIRECT:
        mentioned = await repository.mentioned_ids(session, status.id) - {author}
        await store.add(mentioned, status.id, author)
        if trim:
            await store.trim(mentioned, settings.feed_cap)
        return
    if status.in_reply_to_id is not None and status.in_reply_to_account_id is None:
        return  # a reply to something gone: nobody else's home
    if await repository.followers_count(session, author) > settings.fanout_threshold:
        return  # merged in at read time
    reply_to = status.in_reply_to_account_id if status.in_reply_to_account_id not in (None, author) else None
    original_author = None
    if status.reblog_of_id is not None:
        original_author = await repository.status_author(session, status.reblog_of_id)

    async def followers_after(after: int) -> list[int]:
        return await repository.follower_batch(
            session, author, after=after, limit=settings.fanout_batch,
            reblogs_only=status.reblog_of_id is not None, reply_to=reply_to, exclude=original_author)

    async def deliver(batch: list[int]) -> None:
        await store.add(batch, status.id, author)
        if trim:
            await store.trim(batch, settings.feed_cap)

    batch = await followers_after(0)
    while batch:
        more = len(batch) == settings.fanout_batch
        if more and store.concurrent:
            # Redis takes this batch while the database finds the next one.
            delivered, found = await asyncio.gather(deliver(batch), followers_after(batch[-1]),
                                                    return_exceptions=True)
            for outcome in (delivered, found):
                if isinstance(outcome, BaseException):
                    raise outcome
            batch = found
        else:
            await deliver(batch)
            batch = await followers_after(batch[-1]) if more else []


async def start_home_feed(session: AsyncSession, account_id: int) -> None:
    """Give a new account its empty home feed, so fan-out fills it from the first post it should see.
    Without Redis there is nothing to do; with Redis down, the first read builds it instead."""
    try:
        await feed_store(session).start(account_id)
    except RedisUnavailable:
        pass


async def remove_from_feeds(session: AsyncSession, status_id: int, *, author_id: int | None = None) -> None:
    """Take a deleted status (and any boosts of it still known) out of every home feed. `author_id`:
    the status's author, when the caller knows it (the row may be gone already)."""
    authors: dict[int, int | None] = {status_id: author_id or await repository.status_author(session, status_id)}
    authors.update(await repository.boosts_of(session, status_id))
    await feed_store(session).remove_statuses(authors)


async def merge_account_into_feed(session: AsyncSession, account_id: int, target_id: int, *,
                                  settings: Settings | None = None) -> None:
    """After `account_id` follows `target_id`, add the target's recent statuses to the follower's feed.
    Does nothing if the follow is gone again, or if the target is merged at read time anyway."""
    settings = _settings(session, settings)
    follow = await repository.follow_of(session, account_id, target_id)
    if follow is None or await repository.followers_count(session, target_id) > settings.fanout_threshold:
        return
    recent = await repository.recent_for_follower(session, account_id, target_id,
                                                  show_reblogs=follow.show_reblogs, limit=MERGE_LIMIT)
    store = feed_store(session)
    await store.merge(account_id, recent, target_id)
    await store.trim([account_id], settings.feed_cap)


async def unmerge_account_from_feed(session: AsyncSession, account_id: int, target_id: int) -> None:
    """After an unfollow or a block, take the target's statuses out of the account's feed (and the target
    out of the account's lists). Does nothing if the account follows the target again by now."""
    if await repository.follow_of(session, account_id, target_id) is not None:
        return
    await feed_store(session).remove_author_from(account_id, target_id)
    if not await repository.has_follow_request(session, account_id, target_id):
        await repository.remove_from_lists(session, account_id, target_id)


# --- reading --------------------------------------------------------------------------------------------

@dataclass
class TimelinePage:
    """Statuses to show, and the cursor IDs for the Link header (those of the rows the page was cut from,
    so paging carries on past a page that filtering emptied)."""

    statuses: list[Any] = field(default_factory=list)
    first_id: int | None = None
    last_id: int | None = None
    pool: dict[int, Any] = field(default_factory=dict)  # home: every fact row read, originals included


async def _hidden_for(session: AsyncSession, viewer_id: int | None, *, mutes: bool = True) -> set[int]:
    if viewer_id is None:
        return set()
    hidden = await graph.blocked_either_way(session, viewer_id)
    if mutes:
        hidden |= await graph.muted_ids(session, viewer_id)
    return hidden


async def _present(session: AsyncSession, ids: Sequence[int], viewer_id: int | None,
                   hidden: Collection[int]) -> list[Status]:
    """What of `ids` the viewer may see, minus statuses by, boosting, or replying to `hidden` accounts."""
    statuses = await posts.visible_statuses(session, list(ids), viewer_id)
    boosted = {s.reblog_of_id for s in statuses if s.reblog_of_id is not None}
    if not boosted and not hidden:
        return statuses
    return _shown(statuses, hidden, await repository.reblog_authors(session, boosted))


def _shown(statuses: list[Any], hidden: Collection[int], originals: dict[int, int]) -> list[Any]:
    """`statuses` minus those by, boosting, or replying to `hidden` accounts (`originals`: the author of
    each boosted status)."""
    return [s for s in statuses
            if s.account_id not in hidden
            and (s.reblog_of_id is None or originals.get(s.reblog_of_id) not in hidden)
            and (s.in_reply_to_account_id is None or s.in_reply_to_account_id not in hidden)]


def _once_each(statuses: list[Any], viewer_id: int | None, originals: dict[int, int]) -> list[Any]:
    """Drop boosts of posts already shown on the page (the newest appearance stays) and other people's
    boosts of the viewer's own posts."""
    seen = {s.id for s in statuses if s.reblog_of_id is None}
    kept = []
    for status in statuses:
        original = status.reblog_of_id
        if original is not None:
            if original in seen or (status.account_id != viewer_id and originals.get(original) == viewer_id):
                continue
            seen.add(original)
        kept.append(status)
    return kept


async def _page_of(session: AsyncSession, ids: Sequence[int], viewer_id: int | None,
                   hidden: Collection[int]) -> TimelinePage:
    if not ids:
        return TimelinePage()
    return TimelinePage(await _present(session, ids, viewer_id, hidden), ids[0], ids[-1])


async def _redis_feed_window(reader: Reader, redis: Redis, viewer_id: int, window: Window,
                             settings: Settings) -> list[int] | None:
    """One window of the viewer's feed in Redis, rebuilt from SQL first when it is missing; None when
    Redis does not answer."""
    if not usable(redis):
        return None
    feeds = RedisFeeds(redis, settings)
    try:
        built, found = await feeds.window(viewer_id, window)
        if not built:
            entries = await repository.home_feed_entries(reader, viewer_id, threshold=settings.fanout_threshold,
                                                         cap=settings.feed_cap)
            await feeds.build(viewer_id, entries, settings.feed_cap)
            _, found = await feeds.window(viewer_id, window)
        return found
    except RedisUnavailable:
        return None


async def home_page(reader: Reader, viewer_id: int, window: Window, *, settings: Settings,
                    redis: Redis | None) -> TimelinePage:
    """The viewer's home: its precomputed feed and its own newest statuses, merged with the recent
    statuses of followed accounts above the fan-out threshold. Read directly (a handful of statements,
    see infra.direct); the statuses are PAGE_FACTS rows, and `pool` holds the originals they boost.
    With `redis` the feed is read there; when Redis does not answer, home is built from the follow graph
    and the posts table alone (every followed account merged at read time), slower but the same page.
    `redis` (ctx.redis) has no default, so that no caller reads the SQL feed while feeds live in Redis."""
    feed_from, threshold, stored = repository.FEED_TABLE, settings.fanout_threshold, []
    if redis is not None:
        found = await _redis_feed_window(reader, redis, viewer_id, window, settings)
        if found is None:
            feed_from, threshold = repository.FEED_NONE, -1
        else:
            feed_from, stored = repository.FEED_REDIS, found
    sources = await repository.home_sources(reader, viewer_id, window, threshold=threshold,
                                            now=clock.utcnow_naive(), feed_from=feed_from)
    merged = []
    if sources.merged:
        merged = await repository.merged_home_ids(reader, viewer_id, window, sources.merged)
    ids = repository.cut_page([*sources.ids, *stored, *merged], window)
    if not ids:
        return TimelinePage()
    statuses, pool = await posts.visible_page(reader, ids, viewer_id, sources.blocked)
    originals = {s.reblog_of_id: pool[s.reblog_of_id].account_id for s in statuses if s.reblog_of_id is not None}
    shown = _shown(statuses, sources.blocked | sources.muted, originals)
    return TimelinePage(_once_each(shown, viewer_id, originals), ids[0], ids[-1], pool)


async def public_timeline(session: AsyncSession, viewer_id: int | None, window: Window, *,
                          local: bool = False, remote: bool = False,
                          only_media: bool = False) -> TimelinePage:
    """Public top-level posts of this instance (there are no remote ones yet)."""
    if remote and not local:
        return TimelinePage()
    hidden = await _hidden_for(session, viewer_id)
    ids = await repository.public_ids(session, window, hidden_authors=hidden, only_media=only_media)
    return await _page_of(session, ids, viewer_id, hidden)


async def tag_timeline(session: AsyncSession, viewer_id: int | None, window: Window, tag: str, *,
                       any_of: Collection[str] = (), all_of: Collection[str] = (),
                       none_of: Collection[str] = (),
                       local: bool = False, remote: bool = False, only_media: bool = False) -> TimelinePage:
    """Public posts tagged `tag` (or any of `any_of`), also carrying all of `all_of`, none of `none_of`."""
    if remote and not local:
        return TimelinePage()
    wanted = {tag, *any_of, *all_of, *none_of}
    known = await repository.tag_ids_by_name(session, wanted)
    any_ids = [known[name] for name in {tag, *any_of} if name in known]
    if not any_ids or any(name not in known for name in all_of):
        return TimelinePage()
    hidden = await _hidden_for(session, viewer_id)
    ids = await repository.tag_timeline_ids(
        session, window, any_of=any_ids, all_of=[[known[name]] for name in set(all_of)],
        none_of=[known[name] for name in none_of if name in known], hidden_authors=hidden,
        only_media=only_media)
    return await _page_of(session, ids, viewer_id, hidden)


async def account_statuses(session: AsyncSession, account_id: int, viewer_id: int | None, window: Window, *,
                           exclude_replies: bool = False, exclude_reblogs: bool = False,
                           exclude_direct: bool = False, only_media: bool = False, pinned: bool = False,
                           tagged: str | None = None) -> TimelinePage:
    """An account's statuses as the viewer may see them. NotFound for an unknown account; nothing for a
    suspended one or one that blocks the viewer."""
    account = await session.get(Account, account_id)
    if account is None:
        raise NotFound()
    if account.suspended_at is not None or not account.approved:
        return TimelinePage()
    blocked = await _hidden_for(session, viewer_id, mutes=False)
    if account_id in blocked:
        return TimelinePage()
    tag_id = None
    if tagged is not None:
        tag_id = (await repository.tag_ids_by_name(session, [tagged])).get(tagged)
        if tag_id is None:
            return TimelinePage()
    follows = viewer_id is not None and await repository.follow_of(session, viewer_id, account_id) is not None
    ids = await repository.account_status_ids(
        session, account_id, viewer_id, window, follows=follows, exclude_replies=exclude_replies,
        exclude_reblogs=exclude_reblogs, exclude_direct=exclude_direct, only_media=only_media, pinned=pinned,
        tag_id=tag_id)
    return await _page_of(session, ids, viewer_id, blocked)


async def _marked(session: AsyncSession, rows: list[tuple[int, int]], viewer_id: int) -> TimelinePage:
    if not rows:
        return TimelinePage()
    statuses = await posts.visible_statuses(session, [status_id for _, status_id in rows], viewer_id)
    return TimelinePage(statuses, rows[0][0], rows[-1][0])


async def favourited_statuses(session: AsyncSession, viewer_id: int, window: Window) -> TimelinePage:
    """Statuses the viewer favourited, newest favourite first; cursors are favourite IDs."""
    return await _marked(session, await repository.favourite_page(session, viewer_id, window), viewer_id)


async def bookmarked_statuses(session: AsyncSession, viewer_id: int, window: Window) -> TimelinePage:
    """Statuses the viewer bookmarked, newest bookmark first; cursors are bookmark IDs."""
    return await _marked(session, await repository.bookmark_page(session, viewer_id, window), viewer_id)


async def list_timeline(session: AsyncSession, owner_id: int, list_id: int, window: Window) -> TimelinePage:
    """Statuses of a list's members, computed at read time. NotFound unless the list is the owner's."""
    lst = await repository.list_by_id(session, list_id)
    if lst is None or lst.account_id != owner_id:
        raise NotFound()
    members = await repository.list_member_ids(session, lst)
    if not members:
        return TimelinePage()
    ids = await repository.list_timeline_ids(session, lst, members, window)
    return await _page_of(session, ids, owner_id, await _hidden_for(session, owner_id))

