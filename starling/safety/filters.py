"""People's keyword filters (Mastodon's filters v2, with v1 as a view of them): keep them, and apply them
to timelines and notifications. `hide` takes a matching post out; `warn` keeps it and reports the match
in the status entity's `filtered` list, for the client to fold it behind a warning.

A filter applies in the contexts it names: home (home and lists), notifications, public (public and
hashtag timelines), thread (a conversation) and account (a profile). It matches a post's text or
content warning by keyword (whole word or anywhere, case-insensitive), or names posts one by one.
Expired filters match nothing. A boost matches through the post it boosts.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from starling import clock, ids
from starling.errors import NotFound, Unprocessable
from starling.infra.direct import Query, Reader
from starling.posts.models import Status
from starling.safety.models import Filter, FilterKeyword, FilterStatus

CONTEXTS = ("home", "notifications", "public", "thread", "account")
ACTIONS = ("warn", "hide")
MAX_FILTERS = 100
MAX_KEYWORDS = 100
MAX_TITLE = 200
MAX_KEYWORD = 200
MAX_EXPIRES_IN = 10 * 365 * 24 * 3600


# ---- matching (pure) ---------------------------------------------------------------------------------

@dataclass
class ActiveFilter:
    """A filter with its keywords and post ids, as matching needs it."""

    row: Filter
    keywords: list[FilterKeyword] = field(default_factory=list)
    statuses: list[FilterStatus] = field(default_factory=list)
    _pattern: re.Pattern[str] | None = None

    def pattern(self) -> re.Pattern[str] | None:
        if self._pattern is None and self.keywords:
            parts = [rf"(?<!\w){re.escape(k.keyword)}(?!\w)" if k.whole_word else re.escape(k.keyword)
                     for k in self.keywords]
            self._pattern = re.compile("|".join(f"({p})" for p in parts), re.IGNORECASE)
        return self._pattern

    def keyword_matches(self, text: str) -> list[str]:
        pattern = self.pattern()
        if pattern is None or not text:
            return []
        found = []
        for match in pattern.finditer(text):
            keyword = self.keywords[match.lastindex - 1].keyword if match.lastindex else match.group(0)
            if keyword not in found:
                found.append(keyword)
        return found


@dataclass(frozen=True)
class FilterResult:
    """Mastodon's FilterResult: which filter matched a post, by which keywords or by naming it."""

    filter: ActiveFilter
    keyword_matches: list[str] | None
    status_matches: list[str] | None


def match(active: Sequence[ActiveFilter], status_id: int, text: str) -> list[FilterResult]:
    """The filters among `active` that match a post (id and searchable text)."""
    results = []
    for f in active:
        keywords = f.keyword_matches(text)
        named = [str(s.status_id) for s in f.statuses if s.status_id == status_id]
        if keywords or named:
            results.append(FilterResult(f, keywords or None, named or None))
    return results


def searchable(text: str | None, spoiler_text: str | None) -> str:
    return f"{spoiler_text or ''}\n{text or ''}"


def decide(active: Sequence[ActiveFilter], facts: Iterable[tuple[int, int | None]],
           texts: dict[int, str]) -> tuple[set[int], dict[int, list[FilterResult]]]:
    """For (status id, boosted id) pairs: the ids to hide, and the warn results of the rest."""
    hidden: set[int] = set()
    warned: dict[int, list[FilterResult]] = {}
    for status_id, boosted in facts:
        subject = boosted if boosted is not None else status_id
        results = match(active, subject, texts.get(subject, ""))
        if not results:
            continue
        if any(r.filter.row.action == "hide" for r in results):
            hidden.add(status_id)
        else:
            warned[status_id] = results
    return hidden, warned


# ---- reading filters ---------------------------------------------------------------------------------

def _live(filters: Iterable[Filter], now: datetime, context: str | None) -> list[Filter]:
    return [f for f in filters if (f.expires_at is None or f.expires_at > now)
            and (context is None or context in (f.contexts or []))]


async def _assemble(session: AsyncSession, rows: list[Filter]) -> list[ActiveFilter]:
    if not rows:
        return []
    by_id = {f.id: ActiveFilter(f) for f in rows}
    for keyword in await session.scalars(select(FilterKeyword).where(FilterKeyword.filter_id.in_(by_id))
                                         .order_by(FilterKeyword.id)):
        by_id[keyword.filter_id].keywords.append(keyword)
    for named in await session.scalars(select(FilterStatus).where(FilterStatus.filter_id.in_(by_id))
                                       .order_by(FilterStatus.id)):
        by_id[named.filter_id].statuses.append(named)
    return list(by_id.values())


async def active_filters(session: AsyncSession, account_id: int, context: str | None) -> list[ActiveFilter]:
    """The account's unexpired filters for `context` (all contexts when None), with keywords and posts."""
    rows = list(await session.scalars(select(Filter).where(Filter.account_id == account_id).order_by(Filter.id)))
    return await _assemble(session, _live(rows, clock.utcnow_naive(), context))


async def _texts(session: AsyncSession, status_ids: Iterable[int]) -> dict[int, str]:
    wanted = set(status_ids)
    if not wanted:
        return {}
    rows = await session.execute(select(Status.id, Status.text, Status.spoiler_text).where(Status.id.in_(wanted)))
    return {i: searchable(t, s) for i, t, s in rows}


async def apply(session: AsyncSession, viewer_id: int | None, context: str,
                statuses: Sequence[Any]) -> tuple[list[Any], dict[int, list[FilterResult]]]:
    """`statuses` minus those a `hide` filter of the viewer's matches in `context`, and the `warn`
    results by status id. Two queries when the viewer has filters, one when not."""
    if viewer_id is None or not statuses:
        return list(statuses), {}
    active = await active_filters(session, viewer_id, context)
    if not active:
        return list(statuses), {}
    facts = [(s.id, s.reblog_of_id) for s in statuses]
    texts = await _texts(session, {b if b is not None else s for s, b in facts})
    hidden, warned = decide(active, facts, texts)
    return [s for s in statuses if s.id not in hidden], warned


# The home hot path reads directly (infra.direct): whether the viewer has any filter at all, then, only
# if so, the filters and the page's texts.
HAS_FILTERS = Query(select(Filter.id).where(Filter.account_id == bindparam("viewer")).limit(1))
PAGE_TEXTS = Query(select(Status.id, Status.text, Status.spoiler_text)
                   .where(Status.id.in_(bindparam("ids", expanding=True))))


async def apply_direct(reader: Reader, session_factory: Any, viewer_id: int, context: str, statuses: Sequence[Any]
                       ) -> tuple[list[Any], dict[int, list[FilterResult]]]:
    """`apply` for the home timeline: one indexed statement when the viewer has no filter."""
    if not statuses or not await reader.records(HAS_FILTERS, {"viewer": viewer_id}):
        return list(statuses), {}
    async with session_factory() as session:
        active = await active_filters(session, viewer_id, context)
    if not active:
        return list(statuses), {}
    facts = [(s.id, s.reblog_of_id) for s in statuses]
    wanted = sorted({b if b is not None else s for s, b in facts})
    texts = {r.id: searchable(r.text, r.spoiler_text) for r in await reader.records(PAGE_TEXTS, {"ids": wanted})}
    hidden, warned = decide(active, facts, texts)
    return [s for s in statuses if s.id not in hidden], warned


# ---- keeping filters ---------------------------------------------------------------------------------

def _contexts(values: Sequence[str]) -> list[str]:
    chosen = list(dict.fromkeys(v for v in values if isinstance(v, str)))
    if not chosen:
        raise Unprocessable("Validation failed: Context can't be blank")
    unknown = [c for c in chosen if c not in CONTEXTS]
    if unknown:
        raise Unprocessable(f"Validation failed: Context {unknown[0]!r} is not one of {', '.join(CONTEXTS)}")
    return chosen


def _expiry(expires_in: int | None) -> datetime | None:
    if expires_in is None:
        return None
    if expires_in <= 0 or expires_in > MAX_EXPIRES_IN:
        raise Unprocessable("Validation failed: expires_in must be a positive number of seconds")
    return clock.utcnow_naive() + timedelta(seconds=expires_in)


def _keyword(text: Any) -> str:
    if not isinstance(text, str) or not text.strip():
        raise Unprocessable("Validation failed: Keyword can't be blank")
    if len(text) > MAX_KEYWORD:
        raise Unprocessable(f"Validation failed: Keyword is too long (maximum is {MAX_KEYWORD} characters)")
    return text.strip()


@dataclass(frozen=True)
class KeywordChange:
    """One entry of `keywords_attributes`: add (no id), change (id), or remove (id and destroy)."""

    id: int | None = None
    keyword: str | None = None
    whole_word: bool | None = None
    destroy: bool = False


async def own_filter(session: AsyncSession, account_id: int, filter_id: int) -> ActiveFilter:
    """One of the account's filters with its keywords and posts; NotFound for anyone else's."""
    row = await session.get(Filter, filter_id)
    if row is None or row.account_id != account_id:
        raise NotFound()
    return (await _assemble(session, [row]))[0]


async def list_filters(session: AsyncSession, account_id: int) -> list[ActiveFilter]:
    """All of the account's filters, expired ones too (clients show and renew them)."""
    rows = list(await session.scalars(select(Filter).where(Filter.account_id == account_id).order_by(Filter.id)))
    return await _assemble(session, rows)


async def _apply_keywords(session: AsyncSession, row: Filter, changes: Sequence[KeywordChange]) -> None:
    existing = {k.id: k for k in await session.scalars(select(FilterKeyword).where(FilterKeyword.filter_id == row.id))}
    for change in changes:
        if change.id is not None:
            keyword = existing.get(change.id)
            if keyword is None:
                raise NotFound()
            if change.destroy:
                await session.delete(keyword)
                existing.pop(change.id)
                continue
            if change.keyword is not None:
                keyword.keyword = _keyword(change.keyword)
            if change.whole_word is not None:
                keyword.whole_word = change.whole_word
        elif not change.destroy:
            keyword = FilterKeyword(id=ids.new_id(), filter_id=row.id, keyword=_keyword(change.keyword),
                                    whole_word=True if change.whole_word is None else change.whole_word)
            session.add(keyword)
            existing[keyword.id] = keyword
    if len(existing) > MAX_KEYWORDS:
        raise Unprocessable(f"Validation failed: at most {MAX_KEYWORDS} keywords per filter")
    await session.flush()


def _title(title: str | None) -> str:
    if not title or not title.strip():
        raise Unprocessable("Validation failed: Title can't be blank")
    if len(title) > MAX_TITLE:
        raise Unprocessable(f"Validation failed: Title is too long (maximum is {MAX_TITLE} characters)")
    return title.strip()


def _action(action: str | None) -> str:
    chosen = action or "warn"
    if chosen not in ACTIONS:
        raise Unprocessable(f"Validation failed: filter_action must be one of {', '.join(ACTIONS)}")
    return chosen


async def create_filter(session: AsyncSession, account_id: int, *, title: str | None, contexts: Sequence[str],
                        action: str | None = None, expires_in: int | None = None,
                        keywords: Sequence[KeywordChange] = ()) -> ActiveFilter:
    """A new filter with its keywords."""
    count = len(list(await session.scalars(select(Filter.id).where(Filter.account_id == account_id)
                                           .limit(MAX_FILTERS))))
    if count >= MAX_FILTERS:
        raise Unprocessable(f"Validation failed: at most {MAX_FILTERS} filters")
    row = Filter(id=ids.new_id(), account_id=account_id, title=_title(title), contexts=_contexts(contexts),
                 action=_action(action), expires_at=_expiry(expires_in), created_at=clock.utcnow_naive())
    session.add(row)
    await session.flush()
    await _apply_keywords(session, row, [k for k in keywords if not k.destroy and k.id is None])
    return await own_filter(session, account_id, row.id)


async def update_filter(session: AsyncSession, account_id: int, filter_id: int, *, title: str | None = None,
                        contexts: Sequence[str] | None = None, action: str | None = None,
                        expires_in: int | None = None, clear_expiry: bool = False,
                        keywords: Sequence[KeywordChange] = ()) -> ActiveFilter:
    """Change a filter; fields left as None keep their value."""
    row = (await own_filter(session, account_id, filter_id)).row
    if title is not None:
        row.title = _title(title)
    if contexts is not None:
        row.contexts = _contexts(contexts)
    if action is not None:
        row.action = _action(action)
    if clear_expiry:
        row.expires_at = None
    elif expires_in is not None:
        row.expires_at = _expiry(expires_in)
    await _apply_keywords(session, row, keywords)
    return await own_filter(session, account_id, filter_id)


async def delete_filter(session: AsyncSession, account_id: int, filter_id: int) -> None:
    row = (await own_filter(session, account_id, filter_id)).row
    await session.delete(row)
    await session.flush()


async def add_keyword(session: AsyncSession, account_id: int, filter_id: int, keyword: str | None,
                      whole_word: bool | None) -> FilterKeyword:
    row = (await own_filter(session, account_id, filter_id)).row
    await _apply_keywords(session, row, [KeywordChange(keyword=keyword, whole_word=whole_word)])
    return (await own_filter(session, account_id, filter_id)).keywords[-1]


async def own_keyword(session: AsyncSession, account_id: int, keyword_id: int) -> FilterKeyword:
    keyword = await session.get(FilterKeyword, keyword_id)
    if keyword is None:
        raise NotFound()
    await own_filter(session, account_id, keyword.filter_id)
    return keyword


async def update_keyword(session: AsyncSession, account_id: int, keyword_id: int, keyword: str | None,
                         whole_word: bool | None) -> FilterKeyword:
    row = await own_keyword(session, account_id, keyword_id)
    if keyword is not None:
        row.keyword = _keyword(keyword)
    if whole_word is not None:
        row.whole_word = whole_word
    await session.flush()
    return row


async def delete_keyword(session: AsyncSession, account_id: int, keyword_id: int) -> None:
    await session.delete(await own_keyword(session, account_id, keyword_id))
    await session.flush()


async def add_status(session: AsyncSession, account_id: int, filter_id: int, status_id: int) -> FilterStatus:
    """Name a post in a filter (a post the account can see)."""
    from starling.posts import service as posts

    await own_filter(session, account_id, filter_id)
    await posts.get_visible(session, status_id, account_id)
    existing = await session.scalar(select(FilterStatus).where(FilterStatus.filter_id == filter_id,
                                                               FilterStatus.status_id == status_id))
    if existing is not None:
        raise Unprocessable("Validation failed: Status has already been taken")
    row = FilterStatus(id=ids.new_id(), filter_id=filter_id, status_id=status_id)
    session.add(row)
    await session.flush()
    return row


async def own_status_entry(session: AsyncSession, account_id: int, entry_id: int) -> FilterStatus:
    row = await session.get(FilterStatus, entry_id)
    if row is None:
        raise NotFound()
    await own_filter(session, account_id, row.filter_id)
    return row


async def delete_status_entry(session: AsyncSession, account_id: int, entry_id: int) -> None:
    row = await own_status_entry(session, account_id, entry_id)
    await session.execute(delete(FilterStatus).where(FilterStatus.id == row.id))
