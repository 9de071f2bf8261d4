"""Every search query: the full-text index over status text, and prefix lookups of accounts and tags.

The full-text index is the one dialect-specific piece. On SQLite it is the FTS5 table `status_search`
(rowid = status id, created by migration 0001), filled by the search-indexing job. On PostgreSQL it is
the generated tsvector column `statuses.search_vector` (the 'simple' configuration: lower-cased words,
no stemming, like FTS5's unicode61) with a GIN index (migration 0002); PostgreSQL keeps it current as
rows change, so the index calls have nothing to do there. Either way user text never reaches the
engine as syntax: it is cut into words and each word is quoted.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Text,
    and_,
    column,
    delete,
    func,
    insert,
    literal_column,
    or_,
    select,
    table,
)
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from starling.accounts.models import Account
from starling.graph.models import Follow
from starling.infra.db import dialect_name
from starling.posts.models import PUBLIC, Bookmark, Favourite, Mention, Status, Tag

MAX_TERMS = 12
_WORD = re.compile(r"\w+")

status_search = table("status_search", column("rowid", Integer), column("text", Text))
# PostgreSQL only (migration 0002); not on the model, since SQLite has no such column.
statuses_search_vector = literal_column("statuses.search_vector", TSVECTOR)
TEXT_SEARCH_CONFIG = literal_column("'simple'::regconfig")  # the migration's generated column uses it too


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


def tsquery_expression(terms: list[str]) -> str:
    """The same query for PostgreSQL's to_tsquery: every term, quoted, ANDed; the last also a prefix."""
    quoted = ["'" + term.replace("\\", "\\\\").replace("'", "''") + "'" for term in terms]
    if quoted:
        quoted[-1] += ":*"
    return " & ".join(quoted)


def _like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def searchable_text(status: Status) -> str:
    return "\n".join(part for part in (status.spoiler_text, status.text) if part)


async def index_text(session: AsyncSession, status_id: int, text: str) -> None:
    """Put (or replace) a status's text in the index."""
    if dialect_name(session) != "sqlite":
        return  # PostgreSQL's search_vector column follows the row by itself
    await session.execute(delete(status_search).where(status_search.c.rowid == status_id))
    await session.execute(insert(status_search).values(rowid=status_id, text=text))


async def remove_text(session: AsyncSession, status_id: int) -> None:
    if dialect_name(session) != "sqlite":
        return
    await session.execute(delete(status_search).where(status_search.c.rowid == status_id))


def text_matches(dialect: str, terms: list[str]) -> ColumnElement[bool]:
    """A condition on `statuses` rows: the text holds every term (FTS5 on SQLite, the tsvector column
    and its GIN index on PostgreSQL)."""
    if dialect == "sqlite":
        return Status.id.in_(select(status_search.c.rowid)
                             .where(status_search.c.text.op("MATCH")(fts5_expression(terms))))
    return statuses_search_vector.op("@@")(func.to_tsquery(TEXT_SEARCH_CONFIG, tsquery_expression(terms)))


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
            .where(text_matches(dialect_name(session), terms),
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
