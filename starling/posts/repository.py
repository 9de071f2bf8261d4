"""Every query on statuses, edits, mentions, tags, favourites, bookmarks, pins and idempotency keys."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Select, and_, bindparam, case, delete, exists, false, func, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from starling.accounts.models import Account, Application
from starling.graph.models import Follow
from starling.infra.db import insert_ignore
from starling.infra.direct import Query
from starling.posts.models import (
    PRIVATE,
    PUBLIC,
    UNLISTED,
    Bookmark,
    ConversationMute,
    Favourite,
    IdempotencyKey,
    Mention,
    Pin,
    Status,
    StatusEdit,
    StatusTag,
    Tag,
)


async def by_id(session: AsyncSession, status_id: int) -> Status | None:
    return await session.get(Status, status_id)


async def by_ids(session: AsyncSession, status_ids: Iterable[int]) -> dict[int, Status]:
    wanted = set(status_ids)
    if not wanted:
        return {}
    return {s.id: s for s in await session.scalars(select(Status).where(Status.id.in_(wanted)))}


async def mentioned_among(session: AsyncSession, account_id: int, status_ids: Iterable[int]) -> set[int]:
    """Which of `status_ids` mention `account_id`."""
    wanted = set(status_ids)
    if not wanted:
        return set()
    return set(await session.scalars(select(Mention.status_id).where(
        Mention.account_id == account_id, Mention.status_id.in_(wanted))))


async def mentions_of(session: AsyncSession, status_ids: Iterable[int]) -> list[tuple[int, int]]:
    """(status_id, account_id) for every mention in `status_ids`."""
    wanted = set(status_ids)
    if not wanted:
        return []
    rows = await session.execute(select(Mention.status_id, Mention.account_id)
                                 .where(Mention.status_id.in_(wanted)))
    return [(s, a) for s, a in rows]


async def mentioned_account_ids(session: AsyncSession, status_id: int) -> set[int]:
    return set(await session.scalars(select(Mention.account_id).where(Mention.status_id == status_id)))


async def tags_of(session: AsyncSession, status_ids: Iterable[int]) -> list[tuple[int, Tag]]:
    wanted = set(status_ids)
    if not wanted:
        return []
    rows = await session.execute(select(StatusTag.status_id, Tag).join(Tag, Tag.id == StatusTag.tag_id)
                                 .where(StatusTag.status_id.in_(wanted)).order_by(Tag.name))
    return [(s, t) for s, t in rows]


async def tags_by_names(session: AsyncSession, names: Iterable[str]) -> dict[str, Tag]:
    wanted = {n.lower() for n in names}
    if not wanted:
        return {}
    return {t.name: t for t in await session.scalars(select(Tag).where(Tag.name.in_(wanted)))}


async def replace_tags(session: AsyncSession, status_id: int, tag_ids: Iterable[int]) -> None:
    await session.execute(delete(StatusTag).where(StatusTag.status_id == status_id))
    for tag_id in set(tag_ids):
        session.add(StatusTag(status_id=status_id, tag_id=tag_id))


async def _among(session: AsyncSession, model, account_id: int, status_ids: Iterable[int]) -> set[int]:
    wanted = set(status_ids)
    if not wanted:
        return set()
    return set(await session.scalars(select(model.status_id).where(
        model.account_id == account_id, model.status_id.in_(wanted))))


async def favourited_among(session: AsyncSession, account_id: int, status_ids: Iterable[int]) -> set[int]:
    return await _among(session, Favourite, account_id, status_ids)


async def bookmarked_among(session: AsyncSession, account_id: int, status_ids: Iterable[int]) -> set[int]:
    return await _among(session, Bookmark, account_id, status_ids)


async def pinned_among(session: AsyncSession, account_id: int, status_ids: Iterable[int]) -> set[int]:
    return await _among(session, Pin, account_id, status_ids)


def conversation_of(status: Status) -> int:
    """The conversation a status belongs to: its thread's root id (a root, or a row older than the
    column, is its own conversation)."""
    return status.conversation_id or status.id


_CONVERSATION = func.coalesce(Status.conversation_id, Status.id)


async def muted_conversations_among(session: AsyncSession, account_id: int,
                                    status_ids: Iterable[int]) -> set[int]:
    """Which of `status_ids` sit in a conversation `account_id` muted (one query for the page)."""
    wanted = set(status_ids)
    if not wanted:
        return set()
    return set(await session.scalars(select(Status.id).join(ConversationMute, and_(
        ConversationMute.conversation_id == _CONVERSATION, ConversationMute.account_id == account_id))
        .where(Status.id.in_(wanted))))


async def conversation_muters_among(session: AsyncSession, conversation_id: int,
                                    account_ids: Iterable[int]) -> set[int]:
    """Which of `account_ids` muted `conversation_id` (one query for any number of recipients)."""
    wanted = set(account_ids)
    if not wanted:
        return set()
    return set(await session.scalars(select(ConversationMute.account_id).where(
        ConversationMute.conversation_id == conversation_id, ConversationMute.account_id.in_(wanted))))


async def took_part_in(session: AsyncSession, account_id: int, conversation_id: int) -> bool:
    """Whether the account wrote a status in the conversation or was mentioned in one."""
    in_conversation = or_(Status.conversation_id == conversation_id, Status.id == conversation_id)
    wrote = exists().where(in_conversation, Status.account_id == account_id)
    mentioned = exists().where(Mention.status_id == Status.id, Mention.account_id == account_id, in_conversation)
    return bool(await session.scalar(select(or_(wrote, mentioned))))


async def add_conversation_mute(session: AsyncSession, *, id: int, account_id: int, conversation_id: int,
                                now: datetime) -> None:
    await insert_ignore(session, ConversationMute, [dict(id=id, account_id=account_id,
                                                         conversation_id=conversation_id, created_at=now)])


async def remove_conversation_mute(session: AsyncSession, account_id: int, conversation_id: int) -> None:
    await session.execute(delete(ConversationMute).where(
        ConversationMute.account_id == account_id, ConversationMute.conversation_id == conversation_id))


async def reblogged_among(session: AsyncSession, account_id: int, status_ids: Iterable[int]) -> set[int]:
    """Which of `status_ids` `account_id` has boosted."""
    wanted = set(status_ids)
    if not wanted:
        return set()
    return set(await session.scalars(select(Status.reblog_of_id).where(
        Status.account_id == account_id, Status.reblog_of_id.in_(wanted))))


async def boost_by(session: AsyncSession, account_id: int, original_id: int) -> Status | None:
    return await session.scalar(select(Status).where(Status.account_id == account_id,
                                                     Status.reblog_of_id == original_id))


async def boosts_of(session: AsyncSession, original_id: int) -> list[tuple[int, int]]:
    """(boost id, booster id) of every boost of `original_id`."""
    rows = await session.execute(select(Status.id, Status.account_id)
                                 .where(Status.reblog_of_id == original_id))
    return [(i, a) for i, a in rows]


async def favourite_of(session: AsyncSession, account_id: int, status_id: int) -> Favourite | None:
    return await session.scalar(select(Favourite).where(Favourite.account_id == account_id,
                                                        Favourite.status_id == status_id))


async def bookmark_of(session: AsyncSession, account_id: int, status_id: int) -> Bookmark | None:
    return await session.scalar(select(Bookmark).where(Bookmark.account_id == account_id,
                                                       Bookmark.status_id == status_id))


async def pin_of(session: AsyncSession, account_id: int, status_id: int) -> Pin | None:
    return await session.scalar(select(Pin).where(Pin.account_id == account_id, Pin.status_id == status_id))


async def pin_count(session: AsyncSession, account_id: int) -> int:
    stmt = select(func.count()).select_from(Pin).where(Pin.account_id == account_id)
    return await session.scalar(stmt) or 0


async def idempotent_status_id(session: AsyncSession, account_id: int, key: str, *,
                               since: datetime) -> int | None:
    """The status a key recorded no earlier than `since` stands for."""
    return await session.scalar(select(IdempotencyKey.status_id).where(
        IdempotencyKey.account_id == account_id, IdempotencyKey.key == key,
        IdempotencyKey.created_at >= since))


def _clamped(column, delta: int):
    """`column + delta`, never below zero (a counter repaired by a retried job must not go negative)."""
    return case((column + delta < 0, 0), else_=column + delta)


async def bump_status(session: AsyncSession, status_id: int, *, replies: int = 0, reblogs: int = 0,
                      favourites: int = 0) -> None:
    values = {}
    if replies:
        values["replies_count"] = _clamped(Status.replies_count, replies)
    if reblogs:
        values["reblogs_count"] = _clamped(Status.reblogs_count, reblogs)
    if favourites:
        values["favourites_count"] = _clamped(Status.favourites_count, favourites)
    if values:
        await session.execute(update(Status).where(Status.id == status_id).values(**values)
                              .execution_options(synchronize_session=False))


async def bump_statuses_count(session: AsyncSession, account_ids: Iterable[int], delta: int,
                              *, last_status_at: datetime | None = None) -> None:
    """The posts-owned counters on account rows: statuses_count (boosts count, as on Mastodon)."""
    for account_id, times in Counter(account_ids).items():
        values: dict = {"statuses_count": _clamped(Account.statuses_count, delta * times)}
        if last_status_at is not None:
            values["last_status_at"] = last_status_at
        await session.execute(update(Account).where(Account.id == account_id).values(**values)
                              .execution_options(synchronize_session=False))


async def delete_statuses(session: AsyncSession, status_ids: Iterable[int]) -> None:
    """Delete rows; mentions, tags, favourites, bookmarks, pins and edits go by ON DELETE CASCADE,
    media attachments are released by ON DELETE SET NULL (so delete-and-redraft can reuse them)."""
    wanted = set(status_ids)
    if wanted:
        await session.execute(delete(Status).where(Status.id.in_(wanted))
                              .execution_options(synchronize_session=False))


async def edits_of(session: AsyncSession, status_id: int) -> list[StatusEdit]:
    return list(await session.scalars(select(StatusEdit).where(StatusEdit.status_id == status_id)
                                      .order_by(StatusEdit.id)))


async def has_edits(session: AsyncSession, status_id: int) -> bool:
    stmt = select(StatusEdit.id).where(StatusEdit.status_id == status_id).limit(1)
    return await session.scalar(stmt) is not None


async def ancestor_ids(session: AsyncSession, status: Status, depth: int) -> list[int]:
    """IDs up the reply chain from `status` (not included), nearest first, at most `depth` of them.
    One recursive query."""
    if status.in_reply_to_id is None:
        return []
    chain = (select(Status.id, Status.in_reply_to_id, literal(1).label("depth"))
             .where(Status.id == status.in_reply_to_id).cte("ancestors", recursive=True))
    chain = chain.union_all(
        select(Status.id, Status.in_reply_to_id, chain.c.depth + 1)
        .join(chain, Status.id == chain.c.in_reply_to_id)
        .where(chain.c.depth < depth, Status.id < chain.c.id))
    rows = await session.execute(select(chain.c.id).order_by(chain.c.depth))
    return [r[0] for r in rows]


async def descendant_ids(session: AsyncSession, status_id: int, *, depth: int, limit: int) -> list[int]:
    """IDs of replies below `status_id`, breadth first (by depth, then oldest first). One recursive query."""
    tree = (select(Status.id, literal(1).label("depth")).where(Status.in_reply_to_id == status_id)
            .cte("descendants", recursive=True))
    tree = tree.union_all(
        select(Status.id, tree.c.depth + 1).join(tree, Status.in_reply_to_id == tree.c.id)
        .where(tree.c.depth < depth, Status.id > tree.c.id))
    rows = await session.execute(select(tree.c.id).order_by(tree.c.depth, tree.c.id).limit(limit))
    return [r[0] for r in rows]


def favourites_page(status_id: int) -> Select:
    """(favourite id, account id) of a status's favourites, for the caller to paginate by favourite id."""
    return select(Favourite.id, Favourite.account_id).where(Favourite.status_id == status_id)


def boosts_page(status_id: int) -> Select:
    """(boost id, account id) of a status's public and unlisted boosts, for the caller to paginate by boost
    id. A followers-only boost is for the booster's followers, so it is never listed (as on Mastodon)."""
    return select(Status.id, Status.account_id).where(Status.reblog_of_id == status_id,
                                                      Status.visibility.in_((PUBLIC, UNLISTED)))


async def rows(session: AsyncSession, stmt: Select) -> list[tuple]:
    return [tuple(r) for r in await session.execute(stmt)]


# --- direct reads for timeline pages (see infra.direct) ------------------------------------------------

def _viewer_has(model: type, status_column: object) -> object:
    return exists().where(model.account_id == bindparam("viewer"), status_column == Status.id)


_boost = Status.__table__.alias("viewer_boost")

# Every fact a page needs about its statuses (and, asked again, about the originals they boost) in one
# statement: what decides visibility (author suspended; for private and direct posts, whether the viewer
# follows the author or is mentioned) and what the viewer did with each (favourite, boost, bookmark,
# pin, conversation mute). Counters come from the row too, so they are never stale. `edited_at` is
# left as the driver gives it: it only keys the content cache.
PAGE_FACTS = Query(
    select(Status.id, Status.account_id, Status.visibility, Status.reblog_of_id,
           Status.in_reply_to_account_id, Status.edited_at, Status.replies_count, Status.reblogs_count,
           Status.favourites_count, Status.quarantined,
           Account.suspended_at.is_not(None).label("suspended"),
           Account.silenced_at.is_not(None).label("limited"),
           case((or_(Status.visibility == PRIVATE, Account.silenced_at.is_not(None)),
                 exists().where(Follow.account_id == bindparam("viewer"),
                                Follow.target_account_id == Status.account_id)),
                else_=false()).label("followed"),
           case((or_(Status.visibility >= PRIVATE, Account.silenced_at.is_not(None)),
                 _viewer_has(Mention, Mention.status_id)),
                else_=false()).label("mentions_viewer"),
           _viewer_has(Favourite, Favourite.status_id).label("favourited"),
           exists().where(_boost.c.account_id == bindparam("viewer"),
                          _boost.c.reblog_of_id == Status.id).label("reblogged"),
           _viewer_has(Bookmark, Bookmark.status_id).label("bookmarked"),
           _viewer_has(Pin, Pin.status_id).label("pinned"),
           exists().where(ConversationMute.account_id == bindparam("viewer"),
                          ConversationMute.conversation_id == _CONVERSATION).label("muted"))
    .join(Account, Account.id == Status.account_id)
    .where(Status.id.in_(bindparam("ids", expanding=True))), truthy_booleans=True, raw=("edited_at",))

# What a status shows that changes only when it is edited (cached by id and edited_at).
STATUS_CONTENT = Query(
    select(Status.id, Status.account_id, Account.username, Status.text, Status.content, Status.spoiler_text,
           Status.sensitive, Status.visibility, Status.language, Status.in_reply_to_id,
           Status.in_reply_to_account_id, Status.reblog_of_id, Status.created_at, Status.edited_at,
           Application.name.label("application_name"), Application.website.label("application_website"))
    .join(Account, Account.id == Status.account_id)
    .outerjoin(Application, Application.id == Status.application_id)
    .where(Status.id.in_(bindparam("ids", expanding=True))))

MENTIONED = Query(
    select(Mention.status_id, Mention.account_id, Account.username)
    .join(Account, Account.id == Mention.account_id)
    .where(Mention.status_id.in_(bindparam("ids", expanding=True))))

TAGGED = Query(
    select(StatusTag.status_id, Tag.name, Tag.display_name)
    .join(Tag, Tag.id == StatusTag.tag_id)
    .where(StatusTag.status_id.in_(bindparam("ids", expanding=True)))
    .order_by(Tag.name))


async def count_in_id_ranges(session: AsyncSession, ranges: list[tuple[int, int]]) -> list[int]:
    """Statuses (not boosts) whose IDs fall in each [low, high) range; the primary key answers each."""
    if not ranges:
        return []
    row = (await session.execute(select(*[
        select(func.count()).select_from(Status).where(Status.id >= low, Status.id < high,
                                                        Status.reblog_of_id.is_(None)).scalar_subquery()
        for low, high in ranges]))).one()
    return [int(n) for n in row]


async def marks_by_among(session: AsyncSession, status_id: int,
                         account_ids: Iterable[int]) -> dict[str, set[int]]:
    """Which of `account_ids` favourited, boosted and bookmarked `status_id` (three queries for any
    number of accounts; the streaming API groups its listeners by these)."""
    who = set(account_ids)
    if not who:
        return {"favourited": set(), "reblogged": set(), "bookmarked": set()}
    return {
        "favourited": set(await session.scalars(select(Favourite.account_id).where(
            Favourite.status_id == status_id, Favourite.account_id.in_(who)))),
        "reblogged": set(await session.scalars(select(Status.account_id).where(
            Status.reblog_of_id == status_id, Status.account_id.in_(who)))),
        "bookmarked": set(await session.scalars(select(Bookmark.account_id).where(
            Bookmark.status_id == status_id, Bookmark.account_id.in_(who)))),
    }
