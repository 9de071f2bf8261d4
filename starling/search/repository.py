"""Every search query: the full-text index over status text, and prefix lookups of accounts and tags.

The full-text index is the one dialect-specific piece. On SQLite it is the FTS5 table `status_search`
(rowid = status id, created by migration 0001). On PostgreSQL, until the scale-out work gives it a
tsvector column, matching falls back to ILIKE over `statuses.text` and the index calls do nothing.
User text never reaches FTS5 as syntax: it is cut into words and each word is quoted.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any

from sqlalchemy import Integer, Select, Text, and_, column, delete, func, insert, or_, select, table
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from starling.accounts.models import Account
from starling.graph.models import Follow
from starling.infra.db import dialect_name
from starling.posts.models import PUBLIC, Bookmark, Favourite, Mention, Status, Tag

MAX_TERMS = 12
_WORD = re.compile(r"\w+")

status_search = table("status_search", column("rowid", Integer), column("text", Text))


def terms_of(query: str) -> list[str]:
    """The words of a query (letters, digits, underscores); everything else is a separator, so no
    character the user types can act as search syntax."""
    return _WORD.findall(query)[:MAX_TERMS]


def fts5_expression(terms: list[str]) -> str:
    """An FTS5 query matching all `terms`, each as a quoted string; the last also as a prefix, so a
    word still being typed matches."""
    quoted = ['"' + term.replace('"', '""') + '"' for term in terms]
    if quoted:
        quoted[-1] += "*"
    return " ".join(quoted)


def _like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def searchable_text(status: Status) -> str:
    return "\n".join(part for part in (status.spoiler_text, status.text) if part)


async def index_text(session: AsyncSession, status_id: int, text: str) -> None:
    """Put (or replace) a status's text in the index."""
    if dialect_name(session) != "sqlite":
        return  # PostgreSQL matches statuses.text directly (see matching_status_ids)
    await session.execute(delete(status_search).where(status_search.c.rowid == status_id))
    await session.execute(insert(status_search).values(rowid=status_id, text=text))


async def remove_text(session: AsyncSession, status_id: int) -> None:
    if dialect_name(session) != "sqlite":
        return
    await session.execute(delete(status_search).where(status_search.c.rowid == status_id))


def matching_status_ids(dialect: str, terms: list[str]) -> Select:
    """IDs of statuses whose text holds every term: FTS5 on SQLite, ILIKE elsewhere."""
    if dialect == "sqlite":
        return (select(status_search.c.rowid)
                .where(status_search.c.text.op("MATCH")(fts5_expression(terms))))
    patterns = [Status.text.ilike(f"%{_like_escape(term)}%", escape="\\") for term in terms]
    return select(Status.id).where(and_(*patterns))


def _searchable_by(viewer_id: int) -> Any:
    """Public posts of accounts that opted in to search, and posts the viewer wrote, was mentioned in,
    favourited, bookmarked or boosted (Mastodon's rule)."""
    boost = aliased(Status)
    return or_(
        and_(Status.visibility == PUBLIC, Account.indexable.is_(True)),
        Status.account_id == viewer_id,
        Status.id.in_(select(Mention.status_id).where(Mention.account_id == viewer_id)),
        Status.id.in_(select(Favourite.status_id).where(Favourite.account_id == viewer_id)),
        Status.id.in_(select(Bookmark.status_id).where(Bookmark.account_id == viewer_id)),
        Status.id.in_(select(boost.reblog_of_id).where(boost.account_id == viewer_id,
                                                       boost.reblog_of_id.is_not(None))),
    )


async def search_status_ids(session: AsyncSession, terms: list[str], viewer_id: int, *,
                            hidden_authors: Collection[int], account_id: int | None, max_id: int | None,
                            min_id: int | None, limit: int, offset: int) -> list[int]:
    """IDs of statuses matching `terms` that the viewer may find, newest first."""
    stmt = (select(Status.id).join(Account, Account.id == Status.account_id)
            .where(Status.id.in_(matching_status_ids(dialect_name(session), terms)),
                   Status.reblog_of_id.is_(None), Account.suspended_at.is_(None), _searchable_by(viewer_id)))
    if hidden_authors:
        stmt = stmt.where(Status.account_id.not_in(set(hidden_authors)))
    if account_id is not None:
        stmt = stmt.where(Status.account_id == account_id)
    if max_id is not None:
        stmt = stmt.where(Status.id < max_id)
    if min_id is not None:
        stmt = stmt.where(Status.id > min_id)
    return list(await session.scalars(stmt.order_by(Status.id.desc()).offset(offset).limit(limit)))


async def search_accounts(session: AsyncSession, query: str, *, hidden: Collection[int],
                          followed_by: int | None, limit: int, offset: int) -> list[Account]:
    """Usable accounts whose username, or a word of whose display name, starts with `query`; an exact
    username first, then the most followed."""
    needle = query.lower()
    prefix = _like_escape(needle) + "%"
    stmt = (select(Account)
            .where(Account.suspended_at.is_(None), Account.approved.is_(True),
                   or_(Account.username_lower.like(prefix, escape="\\"),
                       func.lower(Account.display_name).like(prefix, escape="\\"),
                       func.lower(Account.display_name).like("% " + prefix, escape="\\"))))
    if hidden:
        stmt = stmt.where(Account.id.not_in(set(hidden)))
    if followed_by is not None:
        followed = select(Follow.target_account_id).where(Follow.account_id == followed_by)
        stmt = stmt.where(Account.id.in_(followed))
    stmt = stmt.order_by((Account.username_lower == needle).desc(), Account.followers_count.desc(),
                         Account.id)
    return list(await session.scalars(stmt.offset(offset).limit(limit)))


async def search_tags(session: AsyncSession, name: str, *, limit: int, offset: int) -> list[Tag]:
    """Tags whose name starts with `name` (lower-case), the exact one first, then shortest first."""
    prefix = _like_escape(name) + "%"
    stmt = (select(Tag).where(Tag.name.like(prefix, escape="\\"))
            .order_by((Tag.name == name).desc(), func.length(Tag.name), Tag.name))
    return list(await session.scalars(stmt.offset(offset).limit(limit)))


async def tag_by_name(session: AsyncSession, name: str) -> Tag | None:
    return await session.scalar(select(Tag).where(Tag.name == name))


async def original_texts(session: AsyncSession, *, after: int, limit: int) -> dict[int, str]:
    """Searchable text of original statuses (not boosts) with IDs above `after`, up to `limit`, by ID."""
    rows = await session.execute(
        select(Status.id, Status.spoiler_text, Status.text)
        .where(Status.id > after, Status.reblog_of_id.is_(None)).order_by(Status.id).limit(limit))
    return {row.id: "\n".join(part for part in (row.spoiler_text, row.text) if part) for row in rows}


async def index_texts(session: AsyncSession, texts: dict[int, str]) -> None:
    """Put (or replace) several statuses' text in the index: one statement each way on SQLite."""
    if dialect_name(session) != "sqlite":
        for status_id, text in texts.items():
            await index_text(session, status_id, text)
        return
    if texts:
        await session.execute(delete(status_search).where(status_search.c.rowid.in_(list(texts))))
        await session.execute(insert(status_search), [{"rowid": k, "text": v} for k, v in texts.items()])
