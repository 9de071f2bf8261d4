"""The Mastodon Status entity (and StatusEdit), hydrated for a whole page at once: one query per table
for the page, never one per status."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from starling import clock
from starling.accounts.models import Account, Application
from starling.api.entities.account import account_entity
from starling.api.entities.media import media_entity
from starling.context import AppContext
from starling.media import repository as media_repository
from starling.media.models import MediaAttachment
from starling.posts import repository as posts_repository
from starling.posts.models import Status, StatusEdit, Tag


async def _accounts(session: AsyncSession, account_ids: Iterable[int]) -> dict[int, Account]:
    wanted = set(account_ids)
    if not wanted:
        return {}
    # populate_existing: counters bumped with UPDATE earlier in this request must show their new values.
    rows = await session.scalars(select(Account).where(Account.id.in_(wanted))
                                 .execution_options(populate_existing=True))
    return {a.id: a for a in rows}


async def _applications(session: AsyncSession, application_ids: Iterable[int]) -> dict[int, Application]:
    wanted = {i for i in application_ids if i is not None}
    if not wanted:
        return {}
    return {a.id: a for a in await session.scalars(select(Application).where(Application.id.in_(wanted)))}


@dataclass
class _Page:
    """Everything a page of statuses needs, loaded once."""

    ctx: AppContext
    viewer_id: int | None
    accounts: dict[int, Account]
    media: dict[int, list[MediaAttachment]]
    mentions: dict[int, list[int]]
    tags: dict[int, list[Tag]]
    applications: dict[int, Application]
    favourited: set[int] = field(default_factory=set)
    reblogged: set[int] = field(default_factory=set)
    bookmarked: set[int] = field(default_factory=set)
    pinned: set[int] = field(default_factory=set)
    muted: set[int] = field(default_factory=set)
    _account_cache: dict[int, dict] = field(default_factory=dict)

    def account(self, account_id: int) -> dict:
        if account_id not in self._account_cache:
            self._account_cache[account_id] = account_entity(self.ctx, self.accounts[account_id])
        return self._account_cache[account_id]

    def mention(self, account_id: int) -> dict:
        account = self.accounts[account_id]
        return {"id": str(account.id), "username": account.username, "acct": account.username,
                "url": f"{self.ctx.settings.base_url}/@{account.username}"}

    def tag(self, tag: Tag) -> dict:
        return {"name": tag.display_name or tag.name, "url": f"{self.ctx.settings.base_url}/tags/{tag.name}"}


def addresses(base_url: str, username: str, status_id: int, *, boost: bool) -> tuple[str, str]:
    """(uri, url). A boost's address is its activity, as Mastodon gives it."""
    uri = f"{base_url}/users/{username}/statuses/{status_id}"
    if boost:
        return f"{uri}/activity", f"{uri}/activity"
    return uri, f"{base_url}/@{username}/{status_id}"


def _viewer_flags(page: _Page, status: Status, subject: Status) -> dict:
    """What the viewer did with `subject` (a boost shows its original's flags)."""
    flags = {
        "favourited": subject.id in page.favourited,
        "reblogged": subject.id in page.reblogged,
        "muted": subject.id in page.muted,
        "bookmarked": subject.id in page.bookmarked,
        "filtered": [],
    }
    if status.reblog_of_id is None and status.account_id == page.viewer_id:
        flags["pinned"] = status.id in page.pinned
    return flags


def _entity(page: _Page, status: Status, original: dict | None, subject: Status, *, source: bool) -> dict:
    author = page.accounts[status.account_id]
    uri, url = addresses(page.ctx.settings.base_url, author.username, status.id,
                         boost=status.reblog_of_id is not None)
    text_lower = status.text.lower()
    mentioned = sorted(page.mentions.get(status.id, []),
                       key=lambda a: (text_lower.find("@" + page.accounts[a].username.lower()), a))
    app = page.applications.get(status.application_id) if status.application_id is not None else None
    entity = {
        "id": str(status.id),
        "created_at": clock.iso(status.created_at),
        "in_reply_to_id": str(status.in_reply_to_id) if status.in_reply_to_id is not None else None,
        "in_reply_to_account_id": (str(status.in_reply_to_account_id)
                                   if status.in_reply_to_account_id is not None else None),
        "sensitive": bool(status.sensitive),
        "spoiler_text": status.spoiler_text or "",
        "visibility": status.visibility_name,
        "language": status.language,
        "uri": uri,
        "url": url,
        "replies_count": status.replies_count,
        "reblogs_count": status.reblogs_count,
        "favourites_count": status.favourites_count,
        "edited_at": clock.iso(status.edited_at),
        "content": status.content or "",
        "reblog": original,
        "application": {"name": app.name, "website": app.website} if app is not None else None,
        "account": page.account(status.account_id),
        "media_attachments": [media_entity(page.ctx, m) for m in page.media.get(status.id, [])],
        "mentions": [page.mention(a) for a in mentioned if a in page.accounts],
        "tags": [page.tag(t) for t in page.tags.get(status.id, [])],
        "emojis": [],
        "card": None,
        "poll": None,
    }
    if page.viewer_id is not None:
        entity.update(_viewer_flags(page, status, subject))
    if source:
        entity["text"] = status.text
    return entity


async def status_entities(session: AsyncSession, ctx: AppContext, statuses: Sequence[Status],
                          viewer_id: int | None, *, source: bool = False) -> list[dict]:
    """Entities for `statuses` in order, built with one query per table for the whole page. `source`
    adds the typed `text` (what delete-and-redraft needs)."""
    if not statuses:
        return []
    pool = {s.id: s for s in statuses}
    pool.update(await posts_repository.by_ids(session, {s.reblog_of_id for s in statuses
                                                        if s.reblog_of_id is not None} - pool.keys()))
    status_ids = list(pool)
    mention_rows = await posts_repository.mentions_of(session, status_ids)
    mentions: dict[int, list[int]] = {}
    for status_id, account_id in mention_rows:
        mentions.setdefault(status_id, []).append(account_id)
    tags: dict[int, list[Tag]] = {}
    for status_id, tag in await posts_repository.tags_of(session, status_ids):
        tags.setdefault(status_id, []).append(tag)
    account_ids = {s.account_id for s in pool.values()} | {a for _, a in mention_rows}
    page = _Page(
        ctx=ctx, viewer_id=viewer_id, accounts=await _accounts(session, account_ids),
        media=await media_repository.of_statuses(session, status_ids),
        mentions=mentions, tags=tags,
        applications=await _applications(session, {s.application_id for s in pool.values()}))
    if viewer_id is not None:
        page.favourited = await posts_repository.favourited_among(session, viewer_id, status_ids)
        page.reblogged = await posts_repository.reblogged_among(session, viewer_id, status_ids)
        page.bookmarked = await posts_repository.bookmarked_among(session, viewer_id, status_ids)
        page.muted = await posts_repository.muted_conversations_among(session, viewer_id, status_ids)
        own = [s.id for s in pool.values() if s.account_id == viewer_id]
        page.pinned = await posts_repository.pinned_among(session, viewer_id, own)

    built: dict[int, dict] = {}
    entities = []
    for status in statuses:
        original = pool.get(status.reblog_of_id) if status.reblog_of_id is not None else None
        nested = None
        if original is not None:
            if original.id not in built:
                built[original.id] = _entity(page, original, None, original, source=False)
            nested = built[original.id]
        entities.append(_entity(page, status, nested, original or status, source=source))
    return entities


async def status_entity(session: AsyncSession, ctx: AppContext, status: Status, viewer_id: int | None,
                        *, source: bool = False) -> dict:
    """The entity for one status."""
    return (await status_entities(session, ctx, [status], viewer_id, source=source))[0]


async def status_edit_entities(session: AsyncSession, ctx: AppContext, status: Status,
                               edits: Sequence[StatusEdit]) -> list[dict]:
    """Mastodon's StatusEdit list for a status's versions (two queries in all)."""
    author = (await _accounts(session, [status.account_id]))[status.account_id]
    media = await media_repository.by_ids(session, {int(m) for e in edits for m in (e.media_ids or [])})
    account = account_entity(ctx, author)
    return [{
        "content": edit.content or "",
        "spoiler_text": edit.spoiler_text or "",
        "sensitive": bool(edit.sensitive),
        "created_at": clock.iso(edit.created_at),
        "account": account,
        "poll": None,
        "media_attachments": [media_entity(ctx, media[int(m)]) for m in (edit.media_ids or [])
                              if int(m) in media],
        "emojis": [],
    } for edit in edits]
