"""Status entities for a timeline page read directly (infra.direct), from per-process caches.

What a reader sees must be checked against the database on every request (which statuses exist, who may
see them, blocks, mutes, suspensions, the reader's own favourites and boosts); those come in the page's
fact rows. What is the same for every reader is cached here, bounded in size:

- a status's content (text, HTML, mentions, tags, application, addresses) keyed by (id, edited_at), so
  an edit is a new key and shows at once; it changes no other way, except the attachments' descriptions
  and focus points, so entries of statuses with media live at most `ttl` seconds;
- the Account entity of each author, at most `ttl` seconds (a new display name or avatar may lag that
  long);
- counters are not cached: they come with the fact rows.

With Redis configured, what one process built is shared with the others through Redis (the per-process
cache stays in front of it): content under `status:<id>` tagged with the edited_at it was built for,
kept `redis_entity_ttl_seconds` (`ttl` for statuses with media), and Account entities under
`account:<id>` for `ttl`. Edits, deletions, new attachment descriptions and profile updates delete the
Redis entries when they commit (infra.cache.forget_*). Redis failing only costs the SQL statements.

Cached parts are kept serialised (orjson), and a page's JSON is spliced together from them and the
per-reader fields, so neither dicts nor JSON are rebuilt for what did not change. Key order differs
from the general builder's; the content is the same.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Collection
from typing import Any

import orjson

from starling import clock
from starling.accounts import repository as accounts_repository
from starling.api.entities.account import account_entity
from starling.api.entities.media import media_entity
from starling.api.entities.status import addresses
from starling.context import AppContext
from starling.infra.cache import RedisUnavailable, account_key, guard, status_key, usable
from starling.infra.direct import Reader
from starling.media import repository as media_repository
from starling.posts import repository as posts_repository
from starling.posts.models import VISIBILITIES

TTL_SECONDS = 2.0
CACHE_ENTRIES = 4096
FOREVER = float("inf")


class BoundedCache:
    """Least recently used entries go first once `size` is reached; each entry has its own deadline."""

    def __init__(self, size: int):
        self.size = size
        self._entries: OrderedDict[Any, tuple[float, Any]] = OrderedDict()

    def get(self, key: Any, now: float) -> Any:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry[0] <= now:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return entry[1]

    def put(self, key: Any, value: Any, deadline: float) -> None:
        self._entries[key] = (deadline, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


class EntityCache:
    """Reader-independent parts of status entities, for one app (one process)."""

    def __init__(self, *, ttl: float = TTL_SECONDS, size: int = CACHE_ENTRIES):
        self.ttl = ttl
        self.contents = BoundedCache(size)
        self.accounts = BoundedCache(size)

    def clear(self) -> None:
        self.contents.clear()
        self.accounts.clear()


def entity_cache(ctx: AppContext) -> EntityCache:
    cache = ctx.extras.get("entity_cache")
    if cache is None:
        cache = ctx.extras["entity_cache"] = EntityCache()
    return cache


def _content(ctx: AppContext, row: Any, mentions: list[tuple[int, str]], tags: list[tuple[str, str]],
             media: list[Any]) -> dict:
    """The cached part of one status's entity: every key but the per-reader ones (counters, reblog,
    account, the reader's flags)."""
    base_url = ctx.settings.base_url
    uri, url = addresses(base_url, row.username, row.id, boost=row.reblog_of_id is not None)
    text_lower = (row.text or "").lower()
    ordered = sorted(mentions, key=lambda m: (text_lower.find("@" + m[1].lower()), m[0]))
    return {
        "id": str(row.id),
        "created_at": clock.iso(row.created_at),
        "in_reply_to_id": str(row.in_reply_to_id) if row.in_reply_to_id is not None else None,
        "in_reply_to_account_id": (str(row.in_reply_to_account_id)
                                   if row.in_reply_to_account_id is not None else None),
        "sensitive": bool(row.sensitive),
        "spoiler_text": row.spoiler_text or "",
        "visibility": VISIBILITIES[row.visibility],
        "language": row.language,
        "uri": uri,
        "url": url,
        "edited_at": clock.iso(row.edited_at),
        "content": row.content or "",
        "application": ({"name": row.application_name, "website": row.application_website}
                        if row.application_name is not None else None),
        "media_attachments": [media_entity(ctx, m) for m in media],
        "mentions": [{"id": str(account_id), "username": username, "acct": username,
                      "url": f"{base_url}/@{username}"} for account_id, username in ordered],
        "tags": [{"name": display or name, "url": f"{base_url}/tags/{name}"} for name, display in tags],
        "emojis": [],
        "card": None,
        "poll": None,
    }


async def _load_contents(reader: Reader, ctx: AppContext, cache: EntityCache, wanted: dict[int, Any],
                         now: float) -> dict[int, bytes]:
    """Build (and cache) the content of the statuses in `wanted` (id -> edited_at as the page's fact rows
    have it, the cache key): four statements."""
    ids = sorted(wanted)
    params = {"ids": ids}
    rows = await reader.records(posts_repository.STATUS_CONTENT, params)
    mentions: dict[int, list[tuple[int, str]]] = {}
    for status_id, account_id, username in await reader.rows(posts_repository.MENTIONED, params):
        mentions.setdefault(status_id, []).append((account_id, username))
    tags: dict[int, list[tuple[str, str]]] = {}
    for status_id, name, display in await reader.rows(posts_repository.TAGGED, params):
        tags.setdefault(status_id, []).append((name, display))
    media: dict[int, list[Any]] = {}
    for attachment in await reader.records(media_repository.OF_STATUSES, params):
        media.setdefault(attachment.status_id, []).append(attachment)
    built = {}
    shared = []
    for row in rows:
        attachments = media.get(row.id, [])
        content = built[row.id] = orjson.dumps(_content(ctx, row, mentions.get(row.id, []),
                                                        tags.get(row.id, []), attachments))[1:-1]
        # Attachments can be described anew without an edit: those entries may live only `ttl` seconds.
        deadline = now + cache.ttl if attachments else FOREVER
        cache.contents.put((row.id, wanted[row.id]), content, deadline)
        shared.append((row.id, _tagged(wanted[row.id], bool(attachments), content), bool(attachments)))
    await _share_contents(ctx, cache, shared)
    return built


def _tagged(edited_at: Any, has_media: bool, content: bytes) -> bytes:
    """A content entry as Redis keeps it: the edited_at it was built for, whether it has media, when it
    was built (wall clock, shared by the processes), then the content."""
    return b"%s\n%d\n%.3f\n%s" % (str(edited_at).encode(), has_media, time.time(), content)


def _fresh(built_at: bytes, ttl: float) -> bool:
    """Whether an entry built at `built_at` is younger than this process's `ttl` (entries that may lag
    are never older than the cache allows, whichever process built them)."""
    return time.time() - float(built_at) < ttl


async def _shared_contents(ctx: AppContext, cache: EntityCache, wanted: dict[int, Any],
                           now: float) -> dict[int, bytes]:
    """Contents other processes built, for those of `wanted` (id -> edited_at) that Redis has for that
    same edited_at; each found one joins this process's cache."""
    if not usable(ctx.redis):
        return {}
    ids = sorted(wanted)
    try:
        async with guard(ctx.redis) as redis:
            values = await redis.mget([status_key(ctx.settings, i) for i in ids])
    except RedisUnavailable:
        return {}
    found = {}
    for status_id, value in zip(ids, values, strict=True):
        if value is None:
            continue
        edited_at, has_media, built_at, content = value.split(b"\n", 3)
        if edited_at != str(wanted[status_id]).encode() or (has_media == b"1" and not _fresh(built_at, cache.ttl)):
            continue
        found[status_id] = content
        cache.contents.put((status_id, wanted[status_id]), content, now + cache.ttl if has_media == b"1" else FOREVER)
    return found


async def _share_contents(ctx: AppContext, cache: EntityCache, entries: list[tuple[int, bytes, bool]]) -> None:
    if not entries or not usable(ctx.redis):
        return
    long_ms = ctx.settings.redis_entity_ttl_seconds * 1000
    try:
        async with guard(ctx.redis) as redis:
            async with redis.pipeline(transaction=False) as pipe:
                for status_id, value, has_media in entries:
                    pipe.set(status_key(ctx.settings, status_id), value,
                             px=max(1, int(cache.ttl * 1000)) if has_media else long_ms)
                await pipe.execute()
    except RedisUnavailable:
        pass


async def _accounts(reader: Reader, ctx: AppContext, cache: EntityCache, account_ids: Collection[int],
                    now: float) -> dict[int, bytes]:
    found: dict[int, bytes] = {}
    missing = []
    for account_id in account_ids:
        entity = cache.accounts.get(account_id, now)
        if entity is None:
            missing.append(account_id)
        else:
            found[account_id] = entity
    if missing and usable(ctx.redis):
        missing = await _shared_accounts(ctx, cache, missing, found, now)
    if missing:
        built = {}
        for account in await reader.records(accounts_repository.PROFILES, {"ids": sorted(missing)}):
            entity = found[account.id] = built[account.id] = orjson.dumps(account_entity(ctx, account))
            cache.accounts.put(account.id, entity, now + cache.ttl)
        await _share_accounts(ctx, cache, built)
    return found


async def _shared_accounts(ctx: AppContext, cache: EntityCache, missing: list[int], found: dict[int, bytes],
                           now: float) -> list[int]:
    """Fill `found` with the Account entities Redis has; returns those still missing."""
    try:
        async with guard(ctx.redis) as redis:
            values = await redis.mget([account_key(ctx.settings, a) for a in missing])
    except RedisUnavailable:
        return missing
    still = []
    for account_id, value in zip(missing, values, strict=True):
        built_at, _, entity = (value or b"0\n").partition(b"\n")
        if value is None or not _fresh(built_at, cache.ttl):
            still.append(account_id)
        else:
            found[account_id] = entity
            cache.accounts.put(account_id, entity, now + cache.ttl)
    return still


async def _share_accounts(ctx: AppContext, cache: EntityCache, built: dict[int, bytes]) -> None:
    if not built or not usable(ctx.redis):
        return
    try:
        async with guard(ctx.redis) as redis:
            async with redis.pipeline(transaction=False) as pipe:
                for account_id, entity in built.items():
                    pipe.set(account_key(ctx.settings, account_id), b"%.3f\n%s" % (time.time(), entity),
                             px=max(1, int(cache.ttl * 1000)))
                await pipe.execute()
    except RedisUnavailable:
        pass


def _entity(content: bytes, row: Any, account: bytes, reblog: bytes | None, subject: Any,
            viewer_id: int | None) -> bytes:
    """One status's JSON: its cached content, then what is read for every request."""
    fresh: dict[str, Any] = {"replies_count": row.replies_count, "reblogs_count": row.reblogs_count,
                             "favourites_count": row.favourites_count}
    if viewer_id is not None:
        fresh["favourited"] = bool(subject.favourited)
        fresh["reblogged"] = bool(subject.reblogged)
        fresh["muted"] = bool(subject.muted)
        fresh["bookmarked"] = bool(subject.bookmarked)
        fresh["filtered"] = []
        if row.reblog_of_id is None and row.account_id == viewer_id:
            fresh["pinned"] = bool(row.pinned)
    return b"".join((b"{", content, b",", orjson.dumps(fresh)[1:-1], b',"reblog":', reblog or b"null",
                     b',"account":', account, b"}"))


async def statuses_json(reader: Reader, ctx: AppContext, statuses: list[Any], pool: dict[int, Any],
                        viewer_id: int | None) -> bytes:
    """The JSON array of Status entities (the same as entities.status.status_entities gives) for fact
    rows `statuses`, whose boosted originals are in `pool`. Only cache misses cost statements."""
    if not statuses:
        return b"[]"
    cache = entity_cache(ctx)
    now = time.monotonic()
    rows = {row.id: row for row in statuses}
    for row in statuses:
        if row.reblog_of_id is not None:
            rows[row.reblog_of_id] = pool[row.reblog_of_id]
    contents: dict[int, bytes] = {}
    missing: dict[int, Any] = {}
    for status_id, row in rows.items():
        content = cache.contents.get((status_id, row.edited_at), now)
        if content is None:
            missing[status_id] = row.edited_at
        else:
            contents[status_id] = content
    if missing:
        shared = await _shared_contents(ctx, cache, missing, now)
        contents.update(shared)
        missing = {status_id: edited for status_id, edited in missing.items() if status_id not in shared}
    if missing:
        contents.update(await _load_contents(reader, ctx, cache, missing, now))
    accounts = await _accounts(reader, ctx, cache, {row.account_id for row in rows.values()}, now)

    entities = []
    nested: dict[int, bytes] = {}
    for row in statuses:
        if row.id not in contents or row.account_id not in accounts:
            continue  # deleted since the page was read (possible where reads are not one snapshot)
        reblog = None
        subject = row
        if row.reblog_of_id is not None:
            subject = rows[row.reblog_of_id]
            reblog = nested.get(subject.id)
            if reblog is None:
                if subject.id not in contents or subject.account_id not in accounts:
                    continue
                reblog = nested[subject.id] = _entity(contents[subject.id], subject,
                                                      accounts[subject.account_id], None, subject, viewer_id)
        entities.append(_entity(contents[row.id], row, accounts[row.account_id], reblog, subject, viewer_id))
    return b"[" + b",".join(entities) + b"]"
