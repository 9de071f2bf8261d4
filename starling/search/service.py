"""Search over accounts, hashtags and status text."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from starling.accounts import repository as accounts
from starling.accounts.models import Account
from starling.graph import repository as graph
from starling.posts import service as posts
from starling.posts.models import Status, Tag
from starling.search import repository

TAG_NAME = re.compile(r"^\w{1,100}$")
SEARCH_TYPES = ("accounts", "hashtags", "statuses")
_STATUS_PATH = re.compile(r"^/(?:@(?P<user>\w+)|users/(?P<user2>\w+)/statuses)/(?P<id>\d{1,19})/?$")
_ACCOUNT_PATH = re.compile(r"^/(?:@|users/)(?P<user>\w+)/?$")


def normalize_tag(raw: str) -> str | None:
    """A hashtag's stored name (lower-case, no '#'), or None if it cannot be a hashtag."""
    name = raw.strip().lstrip("#").lower()
    return name if TAG_NAME.match(name) and any(ch.isalpha() for ch in name) else None


async def index_status(session: AsyncSession, status: Status) -> None:
    """Add (or refresh) a status in the full-text index. Boosts carry no text of their own."""
    if status.reblog_of_id is not None:
        return
    await repository.index_text(session, status.id, repository.searchable_text(status))


async def unindex_status(session: AsyncSession, status_id: int) -> None:
    """Drop a status from the full-text index."""
    await repository.remove_text(session, status_id)


@dataclass
class SearchResults:
    accounts: list[Account] = field(default_factory=list)
    statuses: list[Status] = field(default_factory=list)
    hashtags: list[Tag] = field(default_factory=list)


@dataclass(frozen=True)
class SearchQuery:
    q: str
    type: str | None = None
    limit: int = 20
    offset: int = 0
    following: bool = False
    resolve: bool = False
    account_id: int | None = None
    max_id: int | None = None
    min_id: int | None = None

    def wants(self, kind: str) -> bool:
        return self.type is None or self.type == kind


def _local_username(q: str, domain: str) -> str | None:
    """`alice`, `@alice` or `@alice@this.host` -> `alice`; an account elsewhere -> None."""
    handle = q.strip().lstrip("@")
    if "@" in handle:
        handle, host = handle.split("@", 1)
        if host.lower() not in {domain.lower(), domain.split(":")[0].lower()}:
            return None
    return handle


async def _by_url(session: AsyncSession, query: SearchQuery, viewer_id: int | None, base_url: str,
                  hidden: set[int]) -> SearchResults:
    """A URL of this instance names one status or account; other URLs name nothing we hold."""
    parts = urlsplit(query.q.strip())
    if f"{parts.scheme}://{parts.netloc}".lower() != base_url.lower():
        return SearchResults()
    found = SearchResults()
    status_match = _STATUS_PATH.match(parts.path)
    account_match = _ACCOUNT_PATH.match(parts.path)
    if status_match and query.wants("statuses"):
        visible = await posts.visible_statuses(session, [int(status_match["id"])], viewer_id)
        found.statuses = [s for s in visible if s.account_id not in hidden]
    elif account_match and query.wants("accounts"):
        account = await accounts.by_username(session, account_match["user"])
        if account is not None and account.usable and account.id not in hidden:
            found.accounts = [account]
    return found


async def search(session: AsyncSession, query: SearchQuery, viewer_id: int | None, *, domain: str,
                 base_url: str) -> SearchResults:
    """Accounts, hashtags and statuses matching `query` that the viewer may see. Status text search needs
    a signed-in viewer, as on Mastodon."""
    hidden = await graph.blocked_either_way(session, viewer_id) if viewer_id is not None else set()
    text = query.q.strip()
    if re.match(r"^https?://", text):
        if not query.resolve:
            return SearchResults()
        return await _by_url(session, query, viewer_id, base_url, hidden)
    results = SearchResults()
    if query.wants("accounts"):
        username = _local_username(text, domain)
        if username:
            results.accounts = await repository.search_accounts(
                session, username, hidden=hidden, followed_by=viewer_id if query.following else None,
                limit=query.limit, offset=query.offset)
    if query.wants("hashtags"):
        name = normalize_tag(text)
        if name:
            results.hashtags = await repository.search_tags(session, name, limit=query.limit,
                                                            offset=query.offset)
    if query.wants("statuses") and viewer_id is not None:
        results.statuses = await _search_statuses(session, query, viewer_id, hidden)
    return results


async def _search_statuses(session: AsyncSession, query: SearchQuery, viewer_id: int,
                           hidden: set[int]) -> list[Status]:
    terms = repository.terms_of(query.q)
    if not terms:
        return []
    hidden = hidden | await graph.muted_ids(session, viewer_id)
    found = await repository.search_status_ids(
        session, terms, viewer_id, hidden_authors=hidden, account_id=query.account_id, max_id=query.max_id,
        min_id=query.min_id, limit=query.limit, offset=query.offset)
    return await posts.visible_statuses(session, found, viewer_id)


async def tag_named(session: AsyncSession, name: str) -> Tag | None:
    """The stored tag of that (normalised) name, if any."""
    return await repository.tag_by_name(session, name)


# The derived table(s) the full-text index keeps on SQLite (FTS5 adds shadow tables with this prefix).
INDEX_TABLE = repository.status_search.name
REINDEX_BATCH = 2_000


async def rebuild_index(session: AsyncSession) -> int:
    """Index every original status again (after `starling db copy` filled a database); returns how many."""
    done, after = 0, 0
    while texts := await repository.original_texts(session, after=after, limit=REINDEX_BATCH):
        await repository.index_texts(session, texts)
        done += len(texts)
        after = max(texts)
    return done
