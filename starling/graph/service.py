"""The social graph's operations: follow, requests, block, mute, and who relates to whom.

Every change that alters a home feed (a new follow, an unfollow, a block) enqueues a feed job in the
same transaction; the timelines capability does the merging. Counters on accounts move in the same
transaction as the edge they count, and only when an edge really appeared or disappeared.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from starling import clock, ids
from starling.accounts import repository as accounts
from starling.accounts.models import Account
from starling.errors import Forbidden, NotFound, Unprocessable
from starling.graph import repository
from starling.graph.models import Mute
from starling.infra import jobs
from starling.notifications import service as notifications
from starling.safety import newcomers, scoring

FEED_MERGE = "graph.feed_merge"
FEED_UNMERGE = "graph.feed_unmerge"
# A mute longer than a century is an indefinite mute typed the long way; refuse it rather than overflow.
MAX_MUTE_SECONDS = 100 * 365 * 24 * 3600


class PageLike(Protocol):
    """What list operations need from a page request (the API's Page satisfies it)."""

    def apply(self, stmt: Select, column: Any) -> Select: ...

    def order(self, rows: list, key: Any = ...) -> list: ...


@dataclass(frozen=True)
class Relationship:
    """How the viewer stands with one account, as the Relationship entity reports it."""

    id: int
    following: bool = False
    showing_reblogs: bool = False
    notifying: bool = False
    followed_by: bool = False
    blocking: bool = False
    blocked_by: bool = False
    muting: bool = False
    muting_notifications: bool = False
    requested: bool = False
    requested_by: bool = False
    endorsed: bool = False  # the viewer features the account on their profile
    note: str = ""  # the viewer's private note on the account


async def _target(session: AsyncSession, target_id: int, *, allow_suspended: bool = False) -> Account:
    target = await accounts.by_id(session, target_id)
    if target is None or (target.suspended_at is not None and not allow_suspended):
        raise NotFound()
    return target


async def follow(session: AsyncSession, account_id: int, target_id: int, reblogs: bool | None = True,
                 notify: bool | None = False) -> None:
    """Follow `target_id` (a request when it is locked); following again only updates the options.
    None for an option keeps the current value (or the default, for a new follow)."""
    if target_id == account_id:
        raise NotFound()
    target = await _target(session, target_id)
    if await repository.block_between(session, account_id, target_id):
        raise Forbidden("This action is not allowed")

    existing = await repository.follow_of(session, account_id, target_id) \
        or await repository.request_of(session, account_id, target_id)
    if existing is not None:
        if reblogs is not None:
            existing.show_reblogs = reblogs
        if notify is not None:
            existing.notify = notify
        await session.flush()
        return

    follower = await accounts.by_id(session, account_id)
    if follower is not None:
        await newcomers.check_follow(session, session.info["settings"], follower)
    show_reblogs = True if reblogs is None else reblogs
    wants_notify = False if notify is None else notify
    now = clock.utcnow_naive()
    if target.locked:
        if await repository.add_request(session, id=ids.new_id(), account_id=account_id, target_id=target_id,
                                        show_reblogs=show_reblogs, notify=wants_notify, now=now):
            await notifications.notify(session, recipient_id=target_id, from_id=account_id,
                                       type="follow_request")
        return
    await _create_follow(session, account_id, target_id, show_reblogs=show_reblogs, notify=wants_notify,
                         now=now)
    await notifications.notify(session, recipient_id=target_id, from_id=account_id, type="follow")


async def _create_follow(session: AsyncSession, account_id: int, target_id: int, *, show_reblogs: bool,
                         notify: bool, now: datetime) -> None:
    if await repository.add_follow(session, id=ids.new_id(), account_id=account_id, target_id=target_id,
                                   show_reblogs=show_reblogs, notify=notify, now=now):
        await repository.shift_follow_counts(session, account_id, target_id, +1)
        await scoring.count_follow_activity(session, account_id, "follow")
        jobs.enqueue(session, FEED_MERGE, {"account_id": account_id, "target_id": target_id})


async def _drop_follow(session: AsyncSession, account_id: int, target_id: int) -> bool:
    """Remove one follow edge with everything hanging on it: counters, its notification, the feed."""
    if not await repository.remove_follow(session, account_id, target_id):
        return False
    await repository.shift_follow_counts(session, account_id, target_id, -1)
    await notifications.withdraw(session, recipient_id=target_id, from_id=account_id, type="follow")
    jobs.enqueue(session, FEED_UNMERGE, {"account_id": account_id, "target_id": target_id})
    return True


async def _drop_request(session: AsyncSession, account_id: int, target_id: int) -> bool:
    if await repository.remove_request(session, account_id, target_id):
        await notifications.withdraw(session, recipient_id=target_id, from_id=account_id,
                                     type="follow_request")
        return True
    return False


async def unfollow(session: AsyncSession, account_id: int, target_id: int) -> None:
    """Stop following `target_id`, or withdraw a pending request. Doing it twice changes nothing."""
    await _target(session, target_id, allow_suspended=True)
    if await _drop_follow(session, account_id, target_id):
        await scoring.count_follow_activity(session, account_id, "unfollow")  # churn is a bot's tell
    await _drop_request(session, account_id, target_id)


async def remove_from_followers(session: AsyncSession, account_id: int, follower_id: int) -> None:
    """Make `follower_id` stop following `account_id`."""
    await _target(session, follower_id, allow_suspended=True)
    await _drop_follow(session, follower_id, account_id)


async def authorize_request(session: AsyncSession, account_id: int, requester_id: int) -> None:
    """Accept `requester_id`'s request to follow `account_id`; 404 when there is none."""
    request = await repository.request_of(session, requester_id, account_id)
    if request is None:
        raise NotFound()
    show_reblogs, wants_notify = request.show_reblogs, request.notify
    await _drop_request(session, requester_id, account_id)
    await _create_follow(session, requester_id, account_id, show_reblogs=show_reblogs, notify=wants_notify,
                         now=clock.utcnow_naive())


async def reject_request(session: AsyncSession, account_id: int, requester_id: int) -> None:
    """Refuse `requester_id`'s request to follow `account_id`; 404 when there is none."""
    if not await _drop_request(session, requester_id, account_id):
        raise NotFound()


async def block(session: AsyncSession, account_id: int, target_id: int) -> None:
    """Block `target_id`: follows and requests end both ways, and the blocker's notifications from the
    target go. Blocking again changes nothing."""
    if target_id == account_id:
        raise Unprocessable("Validation failed: You cannot block yourself")
    await _target(session, target_id, allow_suspended=True)
    unmerged = set()
    for a, b in ((account_id, target_id), (target_id, account_id)):
        if await _drop_follow(session, a, b):
            unmerged.add((a, b))
        await _drop_request(session, a, b)
    if await repository.add_block(session, id=ids.new_id(), account_id=account_id, target_id=target_id,
                                  now=clock.utcnow_naive()):
        await notifications.purge_from(session, recipient_id=account_id, from_id=target_id)
        # Statuses that reached a feed through boosts leave too, both ways.
        for a, b in {(account_id, target_id), (target_id, account_id)} - unmerged:
            jobs.enqueue(session, FEED_UNMERGE, {"account_id": a, "target_id": b})


async def unblock(session: AsyncSession, account_id: int, target_id: int) -> None:
    """Lift a block (nothing that the block removed comes back)."""
    await _target(session, target_id, allow_suspended=True)
    await repository.remove_block(session, account_id, target_id)


async def mute(session: AsyncSession, account_id: int, target_id: int, *, notifications: bool = True,
               duration: int = 0) -> None:
    """Mute `target_id`, hiding its notifications too unless `notifications` is false, for `duration`
    seconds (0 = until unmuted). Muting again replaces both settings."""
    if target_id == account_id:
        raise Unprocessable("Validation failed: You cannot mute yourself")
    if duration < 0 or duration > MAX_MUTE_SECONDS:
        raise Unprocessable("Validation failed: duration must be between 0 and 100 years in seconds")
    await _target(session, target_id, allow_suspended=True)
    now = clock.utcnow_naive()
    expires_at = now + timedelta(seconds=duration) if duration else None
    existing: Mute | None = await repository.mute_of(session, account_id, target_id)
    if existing is not None:
        existing.hide_notifications = notifications
        existing.expires_at = expires_at
        await session.flush()
        return
    await repository.add_mute(session, id=ids.new_id(), account_id=account_id, target_id=target_id,
                              hide_notifications=notifications, expires_at=expires_at, now=now)


async def unmute(session: AsyncSession, account_id: int, target_id: int) -> None:
    """Lift a mute."""
    await _target(session, target_id, allow_suspended=True)
    await repository.remove_mute(session, account_id, target_id)


NOTE_MAX = 2_000  # Mastodon's limit on a private note


async def set_note(session: AsyncSession, account_id: int, target_id: int, comment: str) -> Relationship:
    """Keep (or, when empty, clear) the account's private note on `target_id`; only the writer ever
    reads it back, through their Relationship. Notes on suspended accounts may still be kept."""
    if len(comment) > NOTE_MAX:
        raise Unprocessable(f"Validation failed: Comment is too long (maximum is {NOTE_MAX} characters)")
    await _target(session, target_id, allow_suspended=True)
    kept = comment if comment.strip() else ""
    await repository.save_note(session, account_id=account_id, target_id=target_id, comment=kept,
                               now=clock.utcnow_naive(), new_id=ids.new_id())
    return await relationship(session, account_id, target_id)


async def lookup_relationships(session: AsyncSession, viewer_id: int, target_ids: Sequence[int], *,
                               with_suspended: bool = False) -> list[Relationship]:
    """Relationships with the accounts among `target_ids` that exist (and are not suspended, unless
    asked), in the order asked, each once."""
    wanted = list(dict.fromkeys(target_ids))
    found = await accounts.by_ids(session, wanted)
    present = [t for t in wanted if t in found and (with_suspended or found[t].suspended_at is None)]
    return await relationships(session, viewer_id, present)


async def relationship(session: AsyncSession, viewer_id: int, target_id: int) -> Relationship:
    """The viewer's relationship with one account."""
    return (await relationships(session, viewer_id, [target_id]))[0]


async def relationships(session: AsyncSession, viewer_id: int,
                        target_ids: Sequence[int]) -> list[Relationship]:
    """The viewer's relationships with each of `target_ids`, in order, in a constant number of queries."""
    if not target_ids:
        return []
    rows = await repository.relationship_rows(session, viewer_id, target_ids)
    out = []
    for target_id in target_ids:
        edge = rows["following"].get(target_id) or rows["requested"].get(target_id)
        mute_row = rows["muting"].get(target_id)
        out.append(Relationship(
            id=target_id,
            following=target_id in rows["following"],
            showing_reblogs=bool(edge.show_reblogs) if edge is not None else False,
            notifying=bool(edge.notify) if edge is not None else False,
            followed_by=target_id in rows["followed_by"],
            blocking=target_id in rows["blocking"],
            blocked_by=target_id in rows["blocked_by"],
            muting=mute_row is not None,
            muting_notifications=bool(mute_row.hide_notifications) if mute_row is not None else False,
            requested=target_id in rows["requested"],
            requested_by=target_id in rows["requested_by"],
            endorsed=target_id in rows["following"] and rows["following"][target_id].endorsed_at is not None,
            note=rows["notes"].get(target_id, ""),
        ))
    return out


async def _hidden_from(session: AsyncSession, account: Account, viewer_id: int | None) -> bool:
    """A suspended account shows no network; a blocker shows none to the accounts it blocks; an account
    that hides its collections shows them to itself only."""
    if account.suspended_at is not None:
        return True
    if account.hide_collections and viewer_id != account.id:
        return True
    return viewer_id is not None and await repository.is_blocking(session, account.id, viewer_id)


async def _page(session: AsyncSession, stmt: Select, column: Any, page: PageLike) -> list[tuple[int, Any]]:
    rows = (await session.execute(page.apply(stmt, column))).all()
    return page.order([tuple(r) for r in rows], key=lambda r: r[0])


async def followers(session: AsyncSession, account_id: int, viewer_id: int | None,
                    page: PageLike) -> list[tuple[int, Account]]:
    """(Follow id, follower) pairs, newest first; empty when the account hides its network from the viewer."""
    account = await _target(session, account_id, allow_suspended=True)
    if await _hidden_from(session, account, viewer_id):
        return []
    return await _page(session, repository.followers_page_query(account_id), repository.Follow.id, page)


async def following(session: AsyncSession, account_id: int, viewer_id: int | None,
                    page: PageLike) -> list[tuple[int, Account]]:
    """(Follow id, followed account) pairs, newest first."""
    account = await _target(session, account_id, allow_suspended=True)
    if await _hidden_from(session, account, viewer_id):
        return []
    return await _page(session, repository.following_page_query(account_id), repository.Follow.id, page)


async def endorsed(session: AsyncSession, account_id: int, viewer_id: int | None,
                   page: PageLike) -> list[tuple[int, Account]]:
    """(Follow id, endorsed account) pairs: the accounts `account_id` features, newest follow first;
    empty for an account that hides its network from the viewer."""
    account = await _target(session, account_id, allow_suspended=True)
    if await _hidden_from(session, account, viewer_id):
        return []
    return await _page(session, repository.endorsed_page_query(account_id), repository.Follow.id, page)


async def endorse(session: AsyncSession, account_id: int, target_id: int, *, on: bool = True) -> None:
    """Feature a followed account on one's profile (`on`), or stop. Endorsing needs a follow, as in
    Mastodon (422 otherwise); stopping when there is nothing to stop changes nothing."""
    await _target(session, target_id, allow_suspended=not on)
    if not await repository.set_endorsed(session, account_id, target_id, clock.utcnow_naive() if on else None):
        if on:
            raise Unprocessable("Validation failed: You must be already following the person you want to endorse")


async def follow_requests(session: AsyncSession, account_id: int,
                          page: PageLike) -> list[tuple[int, Account]]:
    """(request id, requester) pairs waiting on `account_id`, newest first."""
    return await _page(session, repository.requests_page_query(account_id), repository.FollowRequest.id, page)


async def blocked_accounts(session: AsyncSession, account_id: int,
                           page: PageLike) -> list[tuple[int, Account]]:
    """(block id, blocked account) pairs, newest first."""
    return await _page(session, repository.blocks_page_query(account_id), repository.Block.id, page)


async def muted_accounts(session: AsyncSession, account_id: int,
                         page: PageLike) -> list[tuple[int, Mute, Account]]:
    """(mute id, mute, muted account) triples for live mutes, newest first."""
    rows = (await session.execute(page.apply(repository.mutes_page_query(account_id), Mute.id))).all()
    return page.order([tuple(r) for r in rows], key=lambda r: r[0])


async def familiar_followers(session: AsyncSession, viewer_id: int,
                             target_ids: Sequence[int]) -> list[tuple[int, list[Account]]]:
    """For each existing target, the accounts the viewer follows that also follow it (at most 40 each)."""
    found = await accounts.by_ids(session, target_ids)
    by_target: dict[int, list[Account]] = {
        t: [] for t in dict.fromkeys(target_ids) if t in found and found[t].suspended_at is None}
    if by_target:
        for target, account in await repository.familiar_follower_pairs(session, viewer_id, list(by_target)):
            if len(by_target[target]) < 40:
                by_target[target].append(account)
    return list(by_target.items())


async def follow_request_count(session: AsyncSession, account_id: int) -> int:
    """How many follow requests wait for `account_id` (for the credential account's source)."""
    return await repository.pending_request_count(session, account_id)


# --- follow suggestions ----------------------------------------------------------------------------

async def suggestions(session: AsyncSession, viewer_id: int, limit: int) -> list[Account]:
    """Whom to suggest the viewer follows: the most followed accounts that chose to be discoverable, less
    anyone the viewer already follows or asked to, blocks either way, mutes, or dismissed. One source only
    ("global", in Mastodon's terms): every account is local and there is no interaction history yet."""
    return await repository.suggestions(session, viewer_id, limit)


async def dismiss_suggestion(session: AsyncSession, viewer_id: int, target_id: int) -> None:
    """Never suggest `target_id` to the viewer again. NotFound for an unknown account; idempotent."""
    if await accounts.by_id(session, target_id) is None:
        raise NotFound()
    await repository.dismiss_suggestion(session, viewer_id, target_id)
