"""Status operations: create, edit, delete, boost, favourite, bookmark, pin; who may see what.

Every write here runs inside the caller's transaction and never commits. Side effects that may be slow
(fan-out, search, notifications of followers) are jobs enqueued in that same transaction.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from starling import clock, ids
from starling.accounts import instance
from starling.accounts import repository as accounts_repository
from starling.accounts.models import Account
from starling.config import Settings
from starling.errors import Conflict, Forbidden, NotFound, Unprocessable
from starling.graph import repository as graph_repository
from starling.infra import cache, jobs
from starling.infra.direct import Reader
from starling.media import repository as media_repository
from starling.media import service as media_service
from starling.notifications import service as notifications
from starling.posts import content, policy, repository
from starling.posts.models import (
    DIRECT,
    PRIVATE,
    PUBLIC,
    VISIBILITIES,
    Bookmark,
    Favourite,
    IdempotencyKey,
    Mention,
    Pin,
    Status,
    StatusEdit,
    StatusTag,
    Tag,
)
from starling.safety import newcomers, scoring
from starling.streaming import events as stream_events

VISIBILITY = {name: value for value, name in enumerate(VISIBILITIES)}
LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
IDEMPOTENCY_WINDOW = timedelta(hours=1)  # as on Mastodon: a key protects retries for an hour
MAX_IDEMPOTENCY_KEY = 200
ANCESTOR_DEPTH = 40
# Mastodon's thread limits: logged-out readers see a shallower, shorter tree.
DESCENDANTS = {True: (60, 4096), False: (20, 60)}  # logged in -> (depth, count)


# ---- who may see what -------------------------------------------------------------------------------

async def _viewer(session: AsyncSession, viewer_id: int | None, statuses: Sequence[Status],
                  limited: set[int]) -> policy.Viewer:
    if viewer_id is None:
        return policy.Viewer(None)
    hidden = [s for s in statuses if (s.visibility in (PRIVATE, DIRECT) or s.account_id in limited)
              and s.account_id != viewer_id]
    following = await graph_repository.follows_among(
        session, viewer_id, {s.account_id for s in hidden if s.visibility == PRIVATE or s.account_id in limited})
    mentioned = await repository.mentioned_among(session, viewer_id, {s.id for s in hidden})
    blocked = await graph_repository.blocked_either_way(session, viewer_id)
    return policy.Viewer(viewer_id, frozenset(following), frozenset(blocked), frozenset(mentioned))


async def _suspended_and_limited(session: AsyncSession, account_ids: set[int]) -> tuple[set[int], set[int]]:
    accounts = await accounts_repository.by_ids(session, account_ids)
    return ({a.id for a in accounts.values() if a.suspended_at is not None},
            {a.id for a in accounts.values() if a.silenced_at is not None})


async def visible_statuses(session: AsyncSession, status_ids: Sequence[int],
                           viewer_id: int | None) -> list[Status]:
    """The statuses among `status_ids` that `viewer_id` may see, in the order given (a few queries in all)."""
    ordered = list(dict.fromkeys(status_ids))
    found = await repository.by_ids(session, ordered)
    if not found:
        return []
    pool = dict(found)
    pool.update(await repository.by_ids(session, {s.reblog_of_id for s in found.values()
                                                  if s.reblog_of_id is not None} - found.keys()))
    suspended, limited = await _suspended_and_limited(session, {s.account_id for s in pool.values()})
    viewer = await _viewer(session, viewer_id, list(pool.values()), limited)
    visible = []
    for status_id in ordered:
        status = found.get(status_id)
        if status is None:
            continue
        original = pool.get(status.reblog_of_id) if status.reblog_of_id is not None else None
        if policy.may_see(status, original, viewer, suspended, limited):
            visible.append(status)
    return visible


async def visible_page(reader: Reader, status_ids: Sequence[int], viewer_id: int | None,
                       blocked: Collection[int]) -> tuple[list[Any], dict[int, Any]]:
    """Direct-read twin of visible_statuses for timeline pages: the statuses among `status_ids` that
    `viewer_id` may see, in order, as fact rows (repository.PAGE_FACTS), and every row read (the page
    and the originals it boosts) by id. `blocked` holds the accounts blocking or blocked by the viewer.
    Two statements at most, the second only when the page holds boosts of statuses not on it."""
    ordered = list(dict.fromkeys(status_ids))
    if not ordered:
        return [], {}
    pool = {row.id: row for row in await reader.records(repository.PAGE_FACTS,
                                                        {"ids": ordered, "viewer": viewer_id})}
    originals = {row.reblog_of_id for row in pool.values() if row.reblog_of_id is not None} - pool.keys()
    if originals:
        pool.update((row.id, row) for row in await reader.records(
            repository.PAGE_FACTS, {"ids": sorted(originals), "viewer": viewer_id}))
    viewer = policy.Viewer(viewer_id, frozenset(row.account_id for row in pool.values() if row.followed),
                           frozenset(blocked), frozenset(row.id for row in pool.values() if row.mentions_viewer))
    suspended = {row.account_id for row in pool.values() if row.suspended}
    limited = {row.account_id for row in pool.values() if row.limited}
    visible = []
    for status_id in ordered:
        row = pool.get(status_id)
        if row is None:
            continue
        original = pool.get(row.reblog_of_id) if row.reblog_of_id is not None else None
        if policy.may_see(row, original, viewer, suspended, limited):
            visible.append(row)
    return visible, pool


async def get_visible(session: AsyncSession, status_id: int, viewer_id: int | None) -> Status:
    """One status the viewer may see; NotFound otherwise (never revealing that it exists)."""
    found = await visible_statuses(session, [status_id], viewer_id)
    if not found:
        raise NotFound()
    return found[0]


async def _visible_original(session: AsyncSession, status_id: int, viewer_id: int) -> Status:
    """The status a person acts on: a boost's original when given a boost."""
    status = await get_visible(session, status_id, viewer_id)
    if status.reblog_of_id is not None:
        status = await get_visible(session, status.reblog_of_id, viewer_id)
    return status


# ---- validation -------------------------------------------------------------------------------------

def parse_visibility(name: str | None) -> int | None:
    """None when not given; Unprocessable when not one of Mastodon's four."""
    if name is None or name == "":
        return None
    if name not in VISIBILITY:
        raise Unprocessable(f"Validation failed: Visibility {name!r} is not one of {', '.join(VISIBILITIES)}")
    return VISIBILITY[name]


def _language(code: str | None, default: str | None) -> str | None:
    if code is None or code == "":
        return default
    if not LANGUAGE.match(code):
        raise Unprocessable("Validation failed: Language is not a valid language code")
    return code


async def _max_characters(session: AsyncSession, settings: Settings) -> int:
    return (await instance.get_instance_settings(session, settings)).max_characters


def _check_body(text: str, spoiler_text: str, media_ids: Sequence[int], *, max_characters: int,
                max_media: int) -> None:
    if not text and not media_ids:
        raise Unprocessable("Validation failed: Text can't be blank")
    if content.status_length(text, spoiler_text) > max_characters:
        raise Unprocessable(f"Validation failed: Text character limit of {max_characters} exceeded")
    if len(media_ids) > max_media:
        raise Unprocessable(f"Validation failed: You cannot attach more than {max_media} files")


@dataclass
class _Body:
    text: str
    html: str
    mention_ids: list[int]
    tag_names: list[str]


async def _render(session: AsyncSession, settings: Settings, text: str) -> _Body:
    candidates = content.mention_candidates(text, settings.domain)
    accounts = {name: account for name, account in
                (await accounts_repository.by_usernames(session, candidates)).items()
                if account.suspended_at is None}
    rendered = content.render(text, base_url=settings.base_url, domain=settings.domain,
                              accounts={name: a.username for name, a in accounts.items()})
    return _Body(text=text, html=rendered.html, mention_ids=[accounts[n].id for n in rendered.mentions],
                 tag_names=rendered.tags)


async def _tags(session: AsyncSession, names: Sequence[str]) -> list[Tag]:
    """The tags named (case-insensitively), created when new; safe when two posts create one at once."""
    found = await repository.tags_by_names(session, names)
    for name in names:
        key = name.lower()
        if key in found:
            continue
        tag = Tag(id=ids.new_id(), name=key, display_name=name)
        try:
            async with session.begin_nested():
                session.add(tag)
        except IntegrityError:
            tag = (await repository.tags_by_names(session, [key]))[key]
        found[key] = tag
    return [found[n.lower()] for n in names]


# ---- creating ---------------------------------------------------------------------------------------

async def _claim_idempotency_key(session: AsyncSession, account_id: int, key: str,
                                 status_id: int) -> Status | None:
    """Record `key` for the status about to be made; if another request got there first, its status.
    The primary key decides the race: the second insert fails and finds the first one's row."""
    cutoff = clock.utcnow_naive() - IDEMPOTENCY_WINDOW
    await session.execute(delete(IdempotencyKey).where(
        IdempotencyKey.account_id == account_id, IdempotencyKey.key == key,
        IdempotencyKey.created_at < cutoff))
    try:
        async with session.begin_nested():
            session.add(IdempotencyKey(account_id=account_id, key=key, status_id=status_id))
        return None
    except IntegrityError:
        first = await repository.idempotent_status_id(session, account_id, key, since=cutoff)
        status = await repository.by_id(session, first) if first is not None else None
        if status is None:
            raise Conflict("A request with this Idempotency-Key is still being processed") from None
        return status


async def _previous_for_key(session: AsyncSession, account_id: int, key: str) -> Status | None:
    status_id = await repository.idempotent_status_id(session, account_id, key,
                                                      since=clock.utcnow_naive() - IDEMPOTENCY_WINDOW)
    return await repository.by_id(session, status_id) if status_id is not None else None


async def create_status(session: AsyncSession, settings: Settings, *, account_id: int, text: str | None,
                        spoiler_text: str | None = None, sensitive: bool | None = None,
                        visibility: str | None = None, language: str | None = None,
                        in_reply_to_id: int | None = None, media_ids: Sequence[int] = (),
                        idempotency_key: str | None = None, application_id: int | None = None) -> Status:
    """Post a status. With an Idempotency-Key, a retry returns the first status instead of posting again."""
    if idempotency_key:
        previous = await _previous_for_key(session, account_id, idempotency_key)
        if previous is not None:
            return previous
    author = await session.get(Account, account_id)
    if author is None:
        raise NotFound()
    text = content.normalise(text or "")
    spoiler = content.normalise(spoiler_text or "")
    media_ids = list(dict.fromkeys(media_ids))
    chosen = parse_visibility(visibility)
    _check_body(text, spoiler, media_ids, max_characters=await _max_characters(session, settings),
                max_media=settings.max_media_attachments)
    await newcomers.check_post(session, settings, author, f"{spoiler}\n{text}")
    language = _language(language, author.default_language)
    parent = None
    if in_reply_to_id is not None:
        parent = await _visible_original(session, in_reply_to_id, account_id)
    if chosen is None:
        chosen = parse_visibility(author.default_privacy) or PUBLIC
        if parent is not None and parent.visibility in (PRIVATE, DIRECT):
            chosen = max(chosen, parent.visibility)  # a reply stays as closed as the post it answers
    body = await _render(session, settings, text)

    status_id = ids.new_id()
    if idempotency_key:
        first = await _claim_idempotency_key(session, account_id, idempotency_key, status_id)
        if first is not None:
            return first
    now = clock.utcnow_naive()
    status = Status(
        id=status_id, account_id=account_id, text=text, content=body.html, spoiler_text=spoiler,
        sensitive=bool(spoiler) or author.sensitized_at is not None or (
            author.default_sensitive if sensitive is None else sensitive),
        visibility=chosen, language=language,
        in_reply_to_id=parent.id if parent else None,
        in_reply_to_account_id=parent.account_id if parent else None,
        conversation_id=(parent.conversation_id or parent.id) if parent else status_id,
        application_id=application_id, created_at=now, replies_count=0, reblogs_count=0, favourites_count=0)
    session.add(status)
    await session.flush()
    if media_ids:
        await media_service.attach(session, account_id, media_ids, status_id)
    for mentioned in body.mention_ids:
        session.add(Mention(status_id=status_id, account_id=mentioned))
    for tag in await _tags(session, body.tag_names):
        session.add(StatusTag(status_id=status_id, tag_id=tag.id))
    await repository.bump_statuses_count(session, [account_id], +1, last_status_at=now)
    if parent is not None:
        await repository.bump_status(session, parent.id, replies=+1)
    await scoring.screen_new_status(session, settings, status, author, mentions=len(body.mention_ids),
                                    hashtags=len(body.tag_names))
    jobs.enqueue(session, "status.created", {"status_id": status_id})
    await session.flush()
    return status


# ---- editing ----------------------------------------------------------------------------------------

async def own_status(session: AsyncSession, account_id: int, status_id: int) -> Status:
    """A status `account_id` wrote (or boosted); anyone else's is NotFound, as on Mastodon."""
    status = await repository.by_id(session, status_id)
    if status is None or status.account_id != account_id:
        raise NotFound()
    return status


async def _attached_ids(session: AsyncSession, status_id: int) -> list[int]:
    return [m.id for m in (await media_repository.of_statuses(session, [status_id])).get(status_id, [])]


def _version(status: Status, media_ids: list[int], at) -> StatusEdit:
    return StatusEdit(id=ids.new_id(), status_id=status.id, text=status.text, content=status.content,
                      spoiler_text=status.spoiler_text, sensitive=status.sensitive, media_ids=media_ids,
                      created_at=at)


async def edit_status(session: AsyncSession, settings: Settings, *, account_id: int, status_id: int,
                      text: str | None = None, spoiler_text: str | None = None, sensitive: bool | None = None,
                      language: str | None = None, media_ids: Sequence[int] | None = None) -> Status:
    """Change one's own status. The first edit also records the original version; every edit records
    the new one. Fields left as None keep their value."""
    status = await own_status(session, account_id, status_id)
    if status.reblog_of_id is not None:
        raise NotFound()
    new_text = content.normalise(text) if text is not None else status.text
    new_spoiler = content.normalise(spoiler_text) if spoiler_text is not None else status.spoiler_text
    current_media = await _attached_ids(session, status.id)
    new_media = list(dict.fromkeys(media_ids)) if media_ids is not None else current_media
    _check_body(new_text, new_spoiler, new_media, max_characters=await _max_characters(session, settings),
                max_media=settings.max_media_attachments)
    new_language = _language(language, status.language)
    new_sensitive = bool(new_spoiler) or (status.sensitive if sensitive is None else sensitive)
    if (new_text, new_spoiler, new_sensitive, new_language, new_media) == (
            status.text, status.spoiler_text, status.sensitive, status.language, current_media):
        return status

    body = await _render(session, settings, new_text)
    now = clock.utcnow_naive()
    if not await repository.has_edits(session, status.id):
        session.add(_version(status, current_media, status.created_at))
    status.text, status.content, status.spoiler_text = new_text, body.html, new_spoiler
    status.sensitive, status.language, status.edited_at = new_sensitive, new_language, now
    await media_service.attach(session, account_id, new_media, status.id)
    # Mentions are only ever added: whoever could read the post keeps reading it, as on Mastodon.
    already = await repository.mentioned_account_ids(session, status.id)
    for mentioned in body.mention_ids:
        if mentioned not in already:
            session.add(Mention(status_id=status.id, account_id=mentioned))
    await repository.replace_tags(session, status.id, [t.id for t in await _tags(session, body.tag_names)])
    session.add(_version(status, new_media, now))
    cache.forget_statuses(session, status.id)
    author = await session.get(Account, account_id)
    if author is not None:
        await scoring.screen_edited_status(session, settings, status, author, mentions=len(body.mention_ids),
                                           hashtags=len(body.tag_names))
    jobs.enqueue(session, "status.edited", {"status_id": status.id})
    await session.flush()
    return status


# ---- deleting ---------------------------------------------------------------------------------------

async def delete_status(session: AsyncSession, status: Status, *, delete_media: bool = False) -> None:
    """Delete a status and its boosts, fix the counters, and queue its removal from feeds and search.
    Its media stay (unattached) so a client can delete-and-redraft with them, unless `delete_media`
    asks for them to go too (Mastodon's parameter): then they can never be attached again."""
    if delete_media:
        await media_service.discard_of_status(session, status.id)
    boosts = await repository.boosts_of(session, status.id)
    if status.reblog_of_id is not None:
        await repository.bump_status(session, status.reblog_of_id, reblogs=-1)
    elif status.in_reply_to_id is not None:
        await repository.bump_status(session, status.in_reply_to_id, replies=-1)
    await repository.bump_statuses_count(session, [status.account_id, *(a for _, a in boosts)], -1)
    boost_ids = [b for b, _ in boosts]
    mentioned = await repository.mentioned_account_ids(session, status.id)
    await repository.delete_statuses(session, [status.id, *boost_ids])
    stream_events.statuses_deleted(session, [status.id, *boost_ids], author_id=status.account_id,
                                   visibility=status.visibility, audience=[*(a for _, a in boosts), *mentioned])
    cache.forget_statuses(session, status.id, *boost_ids)
    session.expunge(status)
    jobs.enqueue(session, "status.deleted", {"status_id": status.id, "boost_ids": boost_ids,
                                             "author_ids": [status.account_id, *(a for _, a in boosts)]})


# ---- boosts -----------------------------------------------------------------------------------------

async def reblog(session: AsyncSession, *, account_id: int, status_id: int,
                 visibility: str | None = None) -> Status:
    """Boost a status one can see (once: boosting again returns the existing boost)."""
    original = await _visible_original(session, status_id, account_id)
    if not policy.may_boost(original, account_id):
        raise Forbidden("This action is not allowed")
    existing = await repository.boost_by(session, account_id, original.id)
    if existing is not None:
        return existing
    chosen = parse_visibility(visibility)
    if chosen == DIRECT:
        raise Unprocessable("Validation failed: Visibility of a boost cannot be direct")
    now = clock.utcnow_naive()
    boost = Status(id=ids.new_id(), account_id=account_id, reblog_of_id=original.id, text="", content="",
                   spoiler_text="", sensitive=False, created_at=now,
                   visibility=policy.boost_visibility(original, PUBLIC if chosen is None else chosen),
                   replies_count=0, reblogs_count=0, favourites_count=0)
    try:
        async with session.begin_nested():
            session.add(boost)
    except IntegrityError:
        existing = await repository.boost_by(session, account_id, original.id)
        if existing is None:
            raise
        return existing
    await repository.bump_status(session, original.id, reblogs=+1)
    await repository.bump_statuses_count(session, [account_id], +1, last_status_at=now)
    await notifications.notify(session, recipient_id=original.account_id, from_id=account_id, type="reblog",
                               status_id=original.id, conversation_id=repository.conversation_of(original))
    jobs.enqueue(session, "status.created", {"status_id": boost.id})
    await session.refresh(original)
    return boost


async def unreblog(session: AsyncSession, *, account_id: int, status_id: int) -> Status:
    """Undo one's boost of `status_id` (or given the boost itself) and return the original."""
    boost = await repository.boost_by(session, account_id, status_id)
    if boost is None:
        given = await repository.by_id(session, status_id)
        if given is None or given.reblog_of_id is None or given.account_id != account_id:
            return await get_visible(session, status_id, account_id)
        boost, status_id = given, given.reblog_of_id
    await delete_status(session, boost)
    original = await repository.by_id(session, status_id)
    if original is None:
        raise NotFound()
    # Boosting again later must notify again, so the first notification's key is released.
    await notifications.withdraw(session, recipient_id=original.account_id, from_id=account_id, type="reblog",
                                 status_id=original.id)
    await session.refresh(original)
    return original


# ---- muted conversations ---------------------------------------------------------------------------

async def mute_conversation(session: AsyncSession, *, account_id: int, status_id: int) -> Status:
    """Mute the conversation of a status one can see and took part in (wrote in, or was mentioned in):
    no notification from it reaches the muter afterwards. Muting twice changes nothing."""
    status = await _visible_original(session, status_id, account_id)
    conversation_id = repository.conversation_of(status)
    if not await repository.took_part_in(session, account_id, conversation_id):
        raise Unprocessable("Validation failed: You can only mute conversations you take part in")
    await repository.add_conversation_mute(session, id=ids.new_id(), account_id=account_id,
                                           conversation_id=conversation_id, now=clock.utcnow_naive())
    return status


async def unmute_conversation(session: AsyncSession, *, account_id: int, status_id: int) -> Status:
    """Hear from the status's conversation again (nothing to undo is fine)."""
    status = await _visible_original(session, status_id, account_id)
    await repository.remove_conversation_mute(session, account_id, repository.conversation_of(status))
    return status


# ---- favourites, bookmarks, pins --------------------------------------------------------------------

async def _insert_once(session: AsyncSession, row: Any) -> bool:
    """Insert `row` unless its unique key exists already (even when a concurrent request races us)."""
    try:
        async with session.begin_nested():
            session.add(row)
        return True
    except IntegrityError:
        return False


async def favourite(session: AsyncSession, *, account_id: int, status_id: int) -> Status:
    """Favourite a visible status; favouriting twice changes nothing."""
    status = await _visible_original(session, status_id, account_id)
    if await repository.favourite_of(session, account_id, status.id) is None and await _insert_once(
            session, Favourite(id=ids.new_id(), account_id=account_id, status_id=status.id)):
        await repository.bump_status(session, status.id, favourites=+1)
        await notifications.notify(session, recipient_id=status.account_id, from_id=account_id,
                                   type="favourite", status_id=status.id,
                                   conversation_id=repository.conversation_of(status))
        await session.refresh(status)
    return status


async def unfavourite(session: AsyncSession, *, account_id: int, status_id: int) -> Status:
    status = await _visible_original(session, status_id, account_id)
    row = await repository.favourite_of(session, account_id, status.id)
    if row is not None:
        await session.delete(row)
        await session.flush()
        await repository.bump_status(session, status.id, favourites=-1)
        await notifications.withdraw(session, recipient_id=status.account_id, from_id=account_id,
                                     type="favourite", status_id=status.id)
        await session.refresh(status)
    return status


async def bookmark(session: AsyncSession, *, account_id: int, status_id: int) -> Status:
    status = await _visible_original(session, status_id, account_id)
    if await repository.bookmark_of(session, account_id, status.id) is None:
        await _insert_once(session, Bookmark(id=ids.new_id(), account_id=account_id, status_id=status.id))
    return status


async def unbookmark(session: AsyncSession, *, account_id: int, status_id: int) -> Status:
    status = await _visible_original(session, status_id, account_id)
    row = await repository.bookmark_of(session, account_id, status.id)
    if row is not None:
        await session.delete(row)
        await session.flush()
    return status


async def pin(session: AsyncSession, *, account_id: int, status_id: int) -> Status:
    """Pin one's own public or unlisted status to one's profile (at most five)."""
    status = await get_visible(session, status_id, account_id)
    if await repository.pin_of(session, account_id, status.id) is not None:
        return status
    refusal = policy.pin_refusal(status, account_id, await repository.pin_count(session, account_id))
    if refusal:
        raise Unprocessable(refusal)
    await _insert_once(session, Pin(id=ids.new_id(), account_id=account_id, status_id=status.id))
    return status


async def unpin(session: AsyncSession, *, account_id: int, status_id: int) -> Status:
    status = await get_visible(session, status_id, account_id)
    row = await repository.pin_of(session, account_id, status.id)
    if row is not None:
        await session.delete(row)
        await session.flush()
    return status


# ---- reading ----------------------------------------------------------------------------------------

async def context(session: AsyncSession, status_id: int,
                  viewer_id: int | None) -> tuple[list[Status], list[Status]]:
    """(ancestors oldest first, descendants breadth first) of a visible status, each filtered for the
    viewer; replies by accounts the viewer mutes are left out. A few queries, whatever the thread's size."""
    status = await get_visible(session, status_id, viewer_id)
    if status.reblog_of_id is not None:
        status = await get_visible(session, status.reblog_of_id, viewer_id)
    ancestors = list(reversed(await repository.ancestor_ids(session, status, ANCESTOR_DEPTH)))
    depth, limit = DESCENDANTS[viewer_id is not None]
    descendants = await repository.descendant_ids(session, status.id, depth=depth, limit=limit)
    visible = {s.id: s for s in await visible_statuses(session, ancestors + descendants, viewer_id)}
    muted = await graph_repository.muted_ids(session, viewer_id) if viewer_id is not None else set()
    return ([visible[i] for i in ancestors if i in visible],
            [visible[i] for i in descendants if i in visible and visible[i].account_id not in muted])


async def _interacting_accounts(session: AsyncSession, rows: list[tuple],
                                viewer_id: int | None) -> list[Account]:
    accounts = await accounts_repository.by_ids(session, [a for _, a in rows])
    blocked = set() if viewer_id is None else await graph_repository.blocked_either_way(session, viewer_id)
    return [accounts[a] for _, a in rows
            if a in accounts and accounts[a].suspended_at is None and a not in blocked]


async def favourited_by(session: AsyncSession, status_id: int, viewer_id: int | None,
                        page: Any) -> tuple[list[Account], list[tuple]]:
    """Who favourited a visible status, newest first: (accounts, the page's (favourite id, account id) rows
    for the Link header)."""
    status = await get_visible(session, status_id, viewer_id)
    rows = await repository.rows(session, page.apply(repository.favourites_page(status.id), Favourite.id))
    rows = page.order(rows, key=lambda r: r[0])
    return await _interacting_accounts(session, rows, viewer_id), rows


async def reblogged_by(session: AsyncSession, status_id: int, viewer_id: int | None,
                       page: Any) -> tuple[list[Account], list[tuple]]:
    """Who boosted a visible status, newest first, like `favourited_by`."""
    status = await get_visible(session, status_id, viewer_id)
    rows = await repository.rows(session, page.apply(repository.boosts_page(status.id), Status.id))
    rows = page.order(rows, key=lambda r: r[0])
    return await _interacting_accounts(session, rows, viewer_id), rows


async def history(session: AsyncSession, status_id: int,
                  viewer_id: int | None) -> tuple[Status, list[StatusEdit]]:
    """A visible status's versions, oldest first; a never-edited status has one, its current version."""
    status = await get_visible(session, status_id, viewer_id)
    edits = await repository.edits_of(session, status.id)
    if not edits:
        edits = [_version(status, await _attached_ids(session, status.id), status.created_at)]
    return status, edits


async def count_in_id_ranges(session: AsyncSession, ranges: list[tuple[int, int]]) -> list[int]:
    """How many statuses were posted in each ID range (IDs are time-sortable, so a range is a span of
    time: see ids.id_floor)."""
    return await repository.count_in_id_ranges(session, ranges)
