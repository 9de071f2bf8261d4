"""Every query behind feeds, timelines and lists. Timelines read the posts and graph tables directly:
they are the hot path the architecture allows, one well-named query per timeline."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    Boolean,
    Integer,
    Select,
    bindparam,
    delete,
    exists,
    false,
    func,
    literal_column,
    or_,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from starling.accounts.models import Account
from starling.graph.models import Block, Follow, FollowRequest, Mute
from starling.infra.db import insert_ignore
from starling.infra.direct import Query, Reader
from starling.media.models import MediaAttachment
from starling.posts.models import (
    DIRECT,
    PRIVATE,
    PUBLIC,
    UNLISTED,
    Bookmark,
    Favourite,
    Mention,
    Pin,
    Status,
    StatusTag,
    Tag,
)
from starling.timelines.models import HomeFeedEntry, List, ListAccount

FOLLOWER_VISIBLE = (PUBLIC, UNLISTED, PRIVATE)
# Authors per UNION ALL query (SQLite allows 500 terms in a compound select).
UNION_CHUNK = 200


# --- fan-out ------------------------------------------------------------------------------------------

async def status_for_fanout(session: AsyncSession, status_id: int) -> Status | None:
    return await session.get(Status, status_id)


async def followers_count(session: AsyncSession, account_id: int) -> int:
    return await session.scalar(select(Account.followers_count).where(Account.id == account_id)) or 0


async def mentioned_ids(session: AsyncSession, status_id: int) -> set[int]:
    return set(await session.scalars(select(Mention.account_id).where(Mention.status_id == status_id)))


async def status_author(session: AsyncSession, status_id: int) -> int | None:
    return await session.scalar(select(Status.account_id).where(Status.id == status_id))


def _exclusive_listers(author_id: int) -> Select:
    """Accounts that keep `author_id` in an exclusive list: its posts stay out of their home feed."""
    return (select(List.account_id).join(ListAccount, ListAccount.list_id == List.id)
            .where(ListAccount.account_id == author_id, List.exclusive.is_(True)))


async def follower_batch(session: AsyncSession, author_id: int, *, after: int, limit: int,
                         reblogs_only: bool = False, reply_to: int | None = None,
                         exclude: int | None = None) -> list[int]:
    """The next `limit` followers of `author_id` (by account ID, after `after`) who should receive a post.
    `reblogs_only`: only those who want the author's boosts. `reply_to`: only those who also follow that
    account (or are it). `exclude`: never this account."""
    stmt = (select(Follow.account_id)
            .where(Follow.target_account_id == author_id, Follow.account_id > after,
                   Follow.account_id.not_in(_exclusive_listers(author_id)))
            .order_by(Follow.account_id).limit(limit))
    if reblogs_only:
        stmt = stmt.where(Follow.show_reblogs.is_(True))
    if reply_to is not None:
        also = aliased(Follow)
        stmt = stmt.where(or_(Follow.account_id == reply_to, Follow.account_id.in_(
            select(also.account_id).where(also.target_account_id == reply_to))))
    if exclude is not None:
        stmt = stmt.where(Follow.account_id != exclude)
    return list(await session.scalars(stmt))


async def all_follower_batch(session: AsyncSession, author_id: int, *, after: int, limit: int) -> list[int]:
    """The next `limit` followers of `author_id` by account ID, whatever their settings (for removals)."""
    return list(await session.scalars(
        select(Follow.account_id).where(Follow.target_account_id == author_id, Follow.account_id > after)
        .order_by(Follow.account_id).limit(limit)))


async def boosts_of(session: AsyncSession, status_id: int) -> dict[int, int]:
    """Boosts of a status still known: boost ID -> booster."""
    rows = await session.execute(select(Status.id, Status.account_id).where(Status.reblog_of_id == status_id))
    return {boost_id: account_id for boost_id, account_id in rows}


def _reply_rule(viewer_id: int) -> Any:
    """A status reaches `viewer_id`'s home unless it replies to someone else whom the viewer does not
    follow (Mastodon's rule): top-level posts, self-replies, replies to the viewer or to a followee."""
    return or_(Status.in_reply_to_account_id.is_(None),
               Status.in_reply_to_account_id == Status.account_id,
               Status.in_reply_to_account_id == viewer_id,
               Status.in_reply_to_account_id.in_(
                   select(Follow.target_account_id).where(Follow.account_id == viewer_id)))


async def recent_for_follower(session: AsyncSession, account_id: int, target_id: int, *,
                              show_reblogs: bool, limit: int) -> list[int]:
    """The newest statuses of `target_id` that belong in `account_id`'s home feed, for merging on follow."""
    stmt = (select(Status.id)
            .where(Status.account_id == target_id, Status.visibility.in_(FOLLOWER_VISIBLE),
                   _reply_rule(account_id))
            .order_by(Status.id.desc()).limit(limit))
    if not show_reblogs:
        stmt = stmt.where(Status.reblog_of_id.is_(None))
    return list(await session.scalars(stmt))


async def follow_of(session: AsyncSession, account_id: int, target_id: int) -> Follow | None:
    return await session.scalar(select(Follow).where(
        Follow.account_id == account_id, Follow.target_account_id == target_id))


async def has_follow_request(session: AsyncSession, account_id: int, target_id: int) -> bool:
    return await session.scalar(select(FollowRequest.id).where(
        FollowRequest.account_id == account_id, FollowRequest.target_account_id == target_id)) is not None


async def remove_from_lists(session: AsyncSession, owner_id: int, member_id: int) -> None:
    """Take `member_id` out of every list `owner_id` owns."""
    await session.execute(delete(ListAccount).where(
        ListAccount.account_id == member_id,
        ListAccount.list_id.in_(select(List.id).where(List.account_id == owner_id))))


# --- reading timelines ----------------------------------------------------------------------------------

async def newest_by_authors(session: AsyncSession, authors: Sequence[tuple[int, Collection[Any]]],
                            window: Any, *conditions: Any) -> list[int]:
    """The newest statuses (inside `window`) of each author, at most `window.limit` per author, merged
    newest first. `authors` pairs an author with conditions of its own. Each author's part walks the
    (account_id, id) index and stops at the limit, so a prolific author costs no more than a quiet one;
    the parts go to the database as a few UNION ALL queries."""
    found: list[int] = []
    for start in range(0, len(authors), UNION_CHUNK):
        parts = []
        for author_id, own in authors[start:start + UNION_CHUNK]:
            part = window.apply(select(Status.id).where(Status.account_id == author_id, *conditions, *own),
                                Status.id).subquery()
            parts.append(select(part.c.id))
        found.extend(await session.scalars(union_all(*parts) if len(parts) > 1 else parts[0]))
    return cut_page(found, window)


def cut_page(ids: Collection[int], window: Any) -> list[int]:
    """Newest first, at most `window.limit`: the oldest ones when paging up from min_id."""
    ordered = sorted(set(ids), reverse=True)
    return ordered[-window.limit:] if window.min_id is not None else ordered[:window.limit]


# --- home, read directly (see infra.direct) ------------------------------------------------------------

HOME_BLOCKED, HOME_MUTED, HOME_MERGED, HOME_FEED, HOME_OWN = range(1, 6)
NO_UPPER_BOUND = 2**63 - 1


def _kind(value: int) -> Any:
    return literal_column(str(value), Integer)


def _windowed(stmt: Select, column: Any, ascending: bool) -> Select:
    """`stmt` inside a window given as parameters: hi (exclusive), lo (exclusive) and n rows, newest first
    (oldest first when paging up from min_id)."""
    stmt = stmt.where(column < bindparam("hi"), column > bindparam("lo"))
    return stmt.order_by(column.asc() if ascending else column.desc()).limit(bindparam("n"))


def _window_params(window: Any) -> dict[str, Any]:
    return {"hi": window.max_id if window.max_id is not None else NO_UPPER_BOUND,
            "lo": max(window.since_id or 0, window.min_id or 0), "n": window.limit}


# Where home's precomputed part comes from: the `home_feed` table; Redis (read apart, so nothing here);
# or, when Redis is configured but down, nothing precomputed at all: the direct messages to the viewer
# are read here and every followed account is merged at read time (threshold -1).
FEED_TABLE, FEED_REDIS, FEED_NONE = "table", "redis", "none"


@lru_cache(maxsize=6)
def _home_sources(ascending: bool, feed_from: str = FEED_TABLE) -> Query:
    """Everything home needs about the viewer, in one UNION ALL: blocks either way, live mutes, followed
    accounts above the fan-out threshold (merged at read time; not those kept in an exclusive list), one
    window of the precomputed feed and one of the viewer's own statuses (so a new post shows at once,
    before fan-out has run)."""
    viewer = bindparam("viewer")
    own = _windowed(select(Status.id).where(Status.account_id == viewer), Status.id, ascending).subquery("own")
    exclusive = (select(ListAccount.account_id).join(List, List.id == ListAccount.list_id)
                 .where(List.account_id == viewer, List.exclusive.is_(True)))
    parts = [
        select(_kind(HOME_BLOCKED).label("kind"), Block.target_account_id.label("id"), false().label("flag"))
        .where(Block.account_id == viewer),
        select(_kind(HOME_BLOCKED), Block.account_id, false()).where(Block.target_account_id == viewer),
        select(_kind(HOME_MUTED), Mute.target_account_id, false())
        .where(Mute.account_id == viewer, or_(Mute.expires_at.is_(None), Mute.expires_at > bindparam("now"))),
        select(_kind(HOME_MERGED), Follow.target_account_id, Follow.show_reblogs)
        .where(Follow.account_id == viewer,
               Follow.target_account_id.in_(select(Account.id).where(Account.followers_count > bindparam("threshold"))),
               Follow.target_account_id.not_in(exclusive)),
        select(_kind(HOME_OWN), own.c.id, false())]
    if feed_from == FEED_TABLE:
        feed = _windowed(select(HomeFeedEntry.status_id).where(HomeFeedEntry.account_id == viewer),
                         HomeFeedEntry.status_id, ascending).subquery("feed")
        parts.append(select(_kind(HOME_FEED), feed.c.status_id, false()))
    elif feed_from == FEED_NONE:
        direct = _windowed(select(Mention.status_id).join(Status, Status.id == Mention.status_id)
                           .where(Mention.account_id == viewer, Status.visibility == DIRECT),
                           Mention.status_id, ascending).subquery("direct")
        parts.append(select(_kind(HOME_FEED), direct.c.status_id, false()))
    return Query(union_all(*parts), truthy_booleans=True)


@dataclass
class HomeSources:
    """What one home read starts from."""

    blocked: set[int] = field(default_factory=set)  # either way
    muted: set[int] = field(default_factory=set)
    merged: list[tuple[int, bool]] = field(default_factory=list)  # (account, show_reblogs), by account
    ids: list[int] = field(default_factory=list)  # feed and own statuses inside the window


async def home_sources(reader: Reader, viewer_id: int, window: Any, *, threshold: int, now: Any,
                       feed_from: str = FEED_TABLE) -> HomeSources:
    params = {"viewer": viewer_id, "now": now, "threshold": threshold, **_window_params(window)}
    found = HomeSources()
    for kind, value, flag in await reader.rows(_home_sources(window.min_id is not None, feed_from), params):
        if kind >= HOME_FEED:
            found.ids.append(value)
        elif kind == HOME_BLOCKED:
            found.blocked.add(value)
        elif kind == HOME_MUTED:
            found.muted.add(value)
        else:
            found.merged.append((value, bool(flag)))
    found.merged.sort()
    return found


@lru_cache(maxsize=64)
def _merged_home(count: int, ascending: bool) -> Query:
    """The newest statuses of `count` authors (author_0.., with boosts_0.. saying whether their boosts
    come along), each part walking the (account_id, id) index up to the window's limit."""
    viewer = bindparam("viewer")
    parts = []
    for i in range(count):
        stmt = select(Status.id).where(
            Status.account_id == bindparam(f"author_{i}"), Status.visibility.in_(FOLLOWER_VISIBLE),
            _reply_rule(viewer), or_(bindparam(f"boosts_{i}", type_=Boolean), Status.reblog_of_id.is_(None)))
        part = _windowed(stmt, Status.id, ascending).subquery()
        parts.append(select(part.c.id))
    return Query(union_all(*parts) if count > 1 else parts[0])


async def merged_home_ids(reader: Reader, viewer_id: int, window: Any,
                          followees: Sequence[tuple[int, bool]]) -> list[int]:
    """Statuses of followed accounts above the fan-out threshold, inside `window`: the read-time half of
    the hybrid home feed, under the same rules fan-out applies."""
    found: list[int] = []
    for start in range(0, len(followees), UNION_CHUNK):
        chunk = followees[start:start + UNION_CHUNK]
        params: dict[str, Any] = {"viewer": viewer_id, **_window_params(window)}
        for i, (account_id, show_reblogs) in enumerate(chunk):
            params[f"author_{i}"] = account_id
            params[f"boosts_{i}"] = show_reblogs
        found.extend(row[0] for row in await reader.rows(_merged_home(len(chunk), window.min_id is not None),
                                                          params))
    return cut_page(found, window)


# --- rebuilding a home feed kept in Redis ---------------------------------------------------------------

# Followed accounts whose posts are fanned out (at or below the threshold), not kept in an exclusive list.
_FANNED_FOLLOWEES = Query(
    select(Follow.target_account_id, Follow.show_reblogs)
    .where(Follow.account_id == bindparam("viewer"),
           Follow.target_account_id.in_(select(Account.id).where(Account.followers_count <= bindparam("threshold"))),
           Follow.target_account_id.not_in(
               select(ListAccount.account_id).join(List, List.id == ListAccount.list_id)
               .where(List.account_id == bindparam("viewer"), List.exclusive.is_(True))))
    .order_by(Follow.target_account_id), truthy_booleans=True)

# What fan-out gives the viewer besides followed accounts' posts: its own statuses, direct messages to it.
_OWN_NEWEST = Query(select(Status.id, Status.account_id).where(Status.account_id == bindparam("viewer"))
                    .order_by(Status.id.desc()).limit(bindparam("n")))
_DIRECT_NEWEST = Query(select(Status.id, Status.account_id).join(Mention, Mention.status_id == Status.id)
                       .where(Mention.account_id == bindparam("viewer"), Status.visibility == DIRECT)
                       .order_by(Mention.status_id.desc()).limit(bindparam("n")))


@lru_cache(maxsize=64)
def _followees_newest(count: int) -> Query:
    """The newest `n` statuses, among those of `count` authors (author_0.., boosts_0..), that fan-out
    would have put into the viewer's feed; each author's part walks its (account_id, id) index."""
    viewer = bindparam("viewer")
    parts = []
    for i in range(count):
        part = (select(Status.id, Status.account_id).where(
            Status.account_id == bindparam(f"author_{i}"), Status.visibility.in_(FOLLOWER_VISIBLE),
            _reply_rule(viewer), or_(bindparam(f"boosts_{i}", type_=Boolean), Status.reblog_of_id.is_(None)))
            .order_by(Status.id.desc()).limit(bindparam("n")).subquery())
        parts.append(select(part.c.id, part.c.account_id))
    merged = (union_all(*parts) if count > 1 else parts[0]).subquery("merged")
    return Query(select(merged.c.id, merged.c.account_id).order_by(merged.c.id.desc()).limit(bindparam("n")))


def _padded(chunk: list) -> list:
    """`chunk` lengthened to a power of two (at most UNION_CHUNK) by repeating its last author, whose
    statuses then come twice and are deduplicated: a few statement shapes instead of one per followee
    count, so the driver's prepared statements and the database's cached plans are reused."""
    size = min(1 << (len(chunk) - 1).bit_length(), UNION_CHUNK) if chunk else 0
    return chunk + [chunk[-1]] * (size - len(chunk))


async def home_feed_entries(reader: Reader, viewer_id: int, *, threshold: int, cap: int) -> list[tuple[int, int]]:
    """What the viewer's precomputed home feed holds when nothing was lost: the newest `cap` of its own
    statuses, the direct messages to it and the posts fan-out gives it from followed accounts, as
    (status ID, author ID) pairs. A few statements per 200 followed accounts."""
    found = [*await reader.rows(_OWN_NEWEST, {"viewer": viewer_id, "n": cap}),
             *await reader.rows(_DIRECT_NEWEST, {"viewer": viewer_id, "n": cap})]
    followees = await reader.rows(_FANNED_FOLLOWEES, {"viewer": viewer_id, "threshold": threshold})
    for start in range(0, len(followees), UNION_CHUNK):
        chunk = _padded(followees[start:start + UNION_CHUNK])
        params: dict[str, Any] = {"viewer": viewer_id, "n": cap}
        for i, (account_id, show_reblogs) in enumerate(chunk):
            params[f"author_{i}"] = account_id
            params[f"boosts_{i}"] = bool(show_reblogs)
        found.extend(await reader.rows(_followees_newest(len(chunk)), params))
    return sorted(set(found), reverse=True)[:cap]


def _has_media() -> Any:
    return exists(select(MediaAttachment.id).where(MediaAttachment.status_id == Status.id))


def _public_base(*, hidden_authors: Collection[int], only_media: bool) -> Select:
    stmt = (select(Status.id).join(Account, Account.id == Status.account_id)
            .where(Status.visibility == PUBLIC, Status.reblog_of_id.is_(None),
                   Account.suspended_at.is_(None)))
    if hidden_authors:
        stmt = stmt.where(Status.account_id.not_in(set(hidden_authors)))
    if only_media:
        stmt = stmt.where(_has_media())
    return stmt


async def public_ids(session: AsyncSession, window: Any, *, hidden_authors: Collection[int],
                     only_media: bool) -> list[int]:
    """The public timeline: public top-level posts and self-threads, no boosts."""
    stmt = _public_base(hidden_authors=hidden_authors, only_media=only_media).where(
        or_(Status.in_reply_to_id.is_(None), Status.in_reply_to_account_id == Status.account_id))
    return window.order(list(await session.scalars(window.apply(stmt, Status.id))))


async def tag_ids_by_name(session: AsyncSession, names: Collection[str]) -> dict[str, int]:
    if not names:
        return {}
    rows = await session.execute(select(Tag.name, Tag.id).where(Tag.name.in_(set(names))))
    return {name: tag_id for name, tag_id in rows}


def _tagged_with(tag_ids: Collection[int]) -> Any:
    return Status.id.in_(select(StatusTag.status_id).where(StatusTag.tag_id.in_(set(tag_ids))))


async def tag_timeline_ids(session: AsyncSession, window: Any, *, any_of: Collection[int],
                           all_of: Sequence[Collection[int]], none_of: Collection[int],
                           hidden_authors: Collection[int], only_media: bool) -> list[int]:
    """Public posts carrying any tag of `any_of`, a tag of each group in `all_of`, none of `none_of`.
    Each tag of `any_of` is read along its (tag_id, status_id) index, newest first, up to the limit."""
    parts = []
    for tag_id in sorted(set(any_of)):
        stmt = (_public_base(hidden_authors=hidden_authors, only_media=only_media)
                .join(StatusTag, StatusTag.status_id == Status.id).where(StatusTag.tag_id == tag_id))
        for group in all_of:
            stmt = stmt.where(_tagged_with(group))
        if none_of:
            stmt = stmt.where(~_tagged_with(none_of))
        part = window.apply(stmt, StatusTag.status_id).subquery()
        parts.append(select(part.c.id))
    if not parts:
        return []
    return cut_page(await session.scalars(union_all(*parts) if len(parts) > 1 else parts[0]), window)


def _visible_to(viewer_id: int | None, *, follows_author: bool) -> Any:
    """SQL for what a viewer may see of one author's statuses (posts.service has the final word)."""
    shown = [PUBLIC, UNLISTED] + ([PRIVATE] if follows_author else [])
    if viewer_id is None:
        return Status.visibility.in_(shown)
    return or_(Status.visibility.in_(shown),
               Status.id.in_(select(Mention.status_id).where(Mention.account_id == viewer_id)))


async def account_status_ids(session: AsyncSession, account_id: int, viewer_id: int | None, window: Any, *,
                             follows: bool, exclude_replies: bool, exclude_reblogs: bool, only_media: bool,
                             pinned: bool, tag_id: int | None, exclude_direct: bool = False) -> list[int]:
    """One page of an account's statuses as `viewer_id` may see them."""
    stmt = select(Status.id).where(Status.account_id == account_id)
    if viewer_id != account_id:
        stmt = stmt.where(_visible_to(viewer_id, follows_author=follows))
    if exclude_replies:
        stmt = stmt.where(or_(Status.in_reply_to_id.is_(None), Status.in_reply_to_account_id == account_id))
    if exclude_reblogs or pinned:
        stmt = stmt.where(Status.reblog_of_id.is_(None))
    if exclude_direct:
        stmt = stmt.where(Status.visibility != DIRECT)
    if only_media:
        stmt = stmt.where(_has_media())
    if pinned:
        stmt = stmt.where(Status.id.in_(select(Pin.status_id).where(Pin.account_id == account_id)))
    if tag_id is not None:
        stmt = stmt.where(_tagged_with([tag_id]))
    return window.order(list(await session.scalars(window.apply(stmt, Status.id))))


async def favourite_page(session: AsyncSession, account_id: int, window: Any) -> list[tuple[int, int]]:
    """(favourite id, status id) pairs, newest favourite first."""
    stmt = window.apply(select(Favourite.id, Favourite.status_id).where(Favourite.account_id == account_id),
                        Favourite.id)
    return window.order([tuple(r) for r in await session.execute(stmt)], key=lambda r: r[0])


async def bookmark_page(session: AsyncSession, account_id: int, window: Any) -> list[tuple[int, int]]:
    """(bookmark id, status id) pairs, newest bookmark first."""
    stmt = window.apply(select(Bookmark.id, Bookmark.status_id).where(Bookmark.account_id == account_id),
                        Bookmark.id)
    return window.order([tuple(r) for r in await session.execute(stmt)], key=lambda r: r[0])


async def reblog_authors(session: AsyncSession, original_ids: Collection[int]) -> dict[int, int]:
    """Original status id -> its author, for boosts on a page."""
    if not original_ids:
        return {}
    rows = await session.execute(select(Status.id, Status.account_id).where(Status.id.in_(set(original_ids))))
    return {sid: author for sid, author in rows}


# --- lists ----------------------------------------------------------------------------------------------

def _current_member(owner_id: int) -> Any:
    """A list row outlives an unfollow until the unmerge job removes it; until then it must not count.
    A member counts while the owner follows it, has asked to, or is it."""
    return or_(ListAccount.account_id == owner_id,
               ListAccount.account_id.in_(
                   select(Follow.target_account_id).where(Follow.account_id == owner_id)),
               ListAccount.account_id.in_(
                   select(FollowRequest.target_account_id).where(FollowRequest.account_id == owner_id)))


async def lists_of(session: AsyncSession, owner_id: int) -> list[List]:
    return list(await session.scalars(select(List).where(List.account_id == owner_id).order_by(List.id)))


async def count_lists(session: AsyncSession, owner_id: int) -> int:
    stmt = select(func.count()).select_from(List).where(List.account_id == owner_id)
    return await session.scalar(stmt) or 0


async def list_by_id(session: AsyncSession, list_id: int) -> List | None:
    return await session.get(List, list_id)


async def lists_containing(session: AsyncSession, owner_id: int, member_id: int) -> list[List]:
    return list(await session.scalars(
        select(List).join(ListAccount, ListAccount.list_id == List.id)
        .where(List.account_id == owner_id, ListAccount.account_id == member_id, _current_member(owner_id))
        .order_by(List.id)))


async def list_members_page(session: AsyncSession, lst: List, window: Any | None) -> list[Account]:
    """Current members of a list who are not suspended, paginated by account ID (all when `window` is
    None)."""
    stmt = (select(Account).join(ListAccount, ListAccount.account_id == Account.id)
            .where(ListAccount.list_id == lst.id, Account.suspended_at.is_(None),
                   _current_member(lst.account_id)))
    if window is None:
        return list(await session.scalars(stmt.order_by(Account.id.desc())))
    return window.order(list(await session.scalars(window.apply(stmt, Account.id))), key=lambda a: a.id)


async def addable_accounts(session: AsyncSession, owner_id: int, account_ids: Collection[int]) -> set[int]:
    """Which of `account_ids` `owner_id` may put in a list: itself, accounts it follows or asked to follow."""
    wanted = set(account_ids)
    followed = set(await session.scalars(select(Follow.target_account_id).where(
        Follow.account_id == owner_id, Follow.target_account_id.in_(wanted))))
    requested = set(await session.scalars(select(FollowRequest.target_account_id).where(
        FollowRequest.account_id == owner_id, FollowRequest.target_account_id.in_(wanted))))
    return (followed | requested | ({owner_id} & wanted))


async def add_list_members(session: AsyncSession, list_id: int, account_ids: Collection[int]) -> None:
    await insert_ignore(session, ListAccount.__table__,
                        [{"list_id": list_id, "account_id": a} for a in sorted(set(account_ids))])


async def remove_list_members(session: AsyncSession, list_id: int, account_ids: Collection[int]) -> None:
    if account_ids:
        await session.execute(delete(ListAccount).where(
            ListAccount.list_id == list_id, ListAccount.account_id.in_(set(account_ids))))


async def list_member_ids(session: AsyncSession, lst: List) -> list[int]:
    """Current members of a list (see _current_member)."""
    return list(await session.scalars(select(ListAccount.account_id).where(
        ListAccount.list_id == lst.id, _current_member(lst.account_id)).order_by(ListAccount.account_id)))


async def list_timeline_ids(session: AsyncSession, lst: List, members: Sequence[int],
                            window: Any) -> list[int]:
    """Statuses of a list's members, as its owner may see them, honouring the list's replies policy."""
    owner = lst.account_id
    followed_by_owner = select(Follow.target_account_id).where(Follow.account_id == owner)
    followed = set(await session.scalars(followed_by_owner.where(Follow.target_account_id.in_(set(members)))))
    replies_ok = [Status.in_reply_to_account_id.is_(None), Status.in_reply_to_account_id == Status.account_id,
                  Status.in_reply_to_account_id == owner]
    if lst.replies_policy == "followed":
        replies_ok.append(Status.in_reply_to_account_id.in_(followed_by_owner))
    elif lst.replies_policy == "list":
        replies_ok.append(Status.in_reply_to_account_id.in_(set(members)))
    if_followed = [Status.visibility.in_(FOLLOWER_VISIBLE)]
    otherwise = [Status.visibility.in_((PUBLIC, UNLISTED))]
    authors = [(member, if_followed if member in followed else otherwise) for member in members]
    return await newest_by_authors(session, authors, window, or_(*replies_ok))


async def lists_showing_author(session: AsyncSession, list_ids: Collection[int], author_id: int) -> dict[int, str]:
    """Of `list_ids`, those whose owner follows `author_id` and has it as a member (or is it), with each
    list's replies policy: the lists a new status by `author_id` reaches (for the streaming API)."""
    if not list_ids:
        return {}
    rows = await session.execute(
        select(List.id, List.replies_policy).join(ListAccount, ListAccount.list_id == List.id)
        .where(List.id.in_(set(list_ids)), ListAccount.account_id == author_id,
               or_(List.account_id == author_id, exists(select(Follow.account_id).where(
                   Follow.account_id == List.account_id, Follow.target_account_id == author_id)))))
    return {list_id: policy for list_id, policy in rows}


async def exclusive_listers_among(session: AsyncSession, author_id: int, account_ids: Collection[int]) -> set[int]:
    """Which of `account_ids` keep `author_id` in an exclusive list (its posts stay out of their home)."""
    if not account_ids:
        return set()
    return set(await session.scalars(_exclusive_listers(author_id).where(List.account_id.in_(set(account_ids)))))
