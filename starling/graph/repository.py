"""Every query on follows, follow requests, blocks and mutes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, delete, func, or_, select, union, update
from sqlalchemy.ext.asyncio import AsyncSession

from starling import clock
from starling.accounts.models import Account
from starling.graph.models import AccountNote, Block, Follow, FollowRequest, Mute, SuggestionDismissal
from starling.infra.db import insert_ignore

# --- reads every timeline and list needs -----------------------------------------------------------

async def blocked_either_way(session: AsyncSession, account_id: int) -> set[int]:
    """Accounts that `account_id` blocks or that block it: neither sees the other's content."""
    rows = await session.execute(
        select(Block.account_id, Block.target_account_id)
        .where(or_(Block.account_id == account_id, Block.target_account_id == account_id)))
    return {target if owner == account_id else owner for owner, target in rows}


async def muted_ids(session: AsyncSession, account_id: int) -> set[int]:
    """Accounts `account_id` mutes now (expired mutes do not count)."""
    now = clock.utcnow_naive()
    rows = await session.scalars(
        select(Mute.target_account_id).where(
            Mute.account_id == account_id, or_(Mute.expires_at.is_(None), Mute.expires_at > now)))
    return set(rows)


async def following_ids(session: AsyncSession, account_id: int) -> set[int]:
    return set(await session.scalars(select(Follow.target_account_id).where(Follow.account_id == account_id)))


async def follows_among(session: AsyncSession, account_id: int, targets: Iterable[int]) -> set[int]:
    """Which of `targets` `account_id` follows (one query, for hydrating a page)."""
    wanted = set(targets)
    if not wanted:
        return set()
    return set(await session.scalars(select(Follow.target_account_id).where(
        Follow.account_id == account_id, Follow.target_account_id.in_(wanted))))


async def follower_ids(session: AsyncSession, account_id: int) -> list[int]:
    return list(await session.scalars(
        select(Follow.account_id).where(Follow.target_account_id == account_id)))


def blocked_either_way_query(account_id: int) -> Select:
    """A subquery of the accounts blocked by or blocking `account_id`, to filter inside SQL."""
    return union(
        select(Block.target_account_id.label("id")).where(Block.account_id == account_id),
        select(Block.account_id.label("id")).where(Block.target_account_id == account_id),
    ).subquery().select()


def muting_notifications_query(account_id: int) -> Select:
    """A subquery of the accounts whose notifications `account_id` hides with a live mute."""
    now = clock.utcnow_naive()
    return select(Mute.target_account_id).where(
        Mute.account_id == account_id, Mute.hide_notifications.is_(True),
        or_(Mute.expires_at.is_(None), Mute.expires_at > now))


# --- follow suggestions ----------------------------------------------------------------------------

async def suggestions(session: AsyncSession, viewer_id: int, limit: int) -> list[Account]:
    """Usable, discoverable accounts the viewer neither follows, asked to follow, blocks, is blocked by,
    mutes nor dismissed, most followed first: one query down the followers-count index."""
    now = clock.utcnow_naive()
    left_out = union(
        select(Follow.target_account_id.label("id")).where(Follow.account_id == viewer_id),
        select(FollowRequest.target_account_id).where(FollowRequest.account_id == viewer_id),
        select(Mute.target_account_id).where(Mute.account_id == viewer_id,
                                             or_(Mute.expires_at.is_(None), Mute.expires_at > now)),
        select(SuggestionDismissal.target_account_id).where(SuggestionDismissal.account_id == viewer_id),
        select(Block.target_account_id).where(Block.account_id == viewer_id),
        select(Block.account_id).where(Block.target_account_id == viewer_id),
    ).subquery()
    stmt = (select(Account)
            .where(Account.id != viewer_id, Account.suspended_at.is_(None), Account.disabled_at.is_(None),
                   Account.approved.is_(True), Account.discoverable.is_(True),
                   Account.id.not_in(select(left_out.c.id)))
            .order_by(Account.followers_count.desc(), Account.id.desc()).limit(limit))
    return list(await session.scalars(stmt))


async def dismiss_suggestion(session: AsyncSession, viewer_id: int, target_id: int) -> None:
    await insert_ignore(session, SuggestionDismissal, [
        {"account_id": viewer_id, "target_account_id": target_id, "created_at": clock.utcnow_naive()}])


# --- single pairs ----------------------------------------------------------------------------------

async def follow_of(session: AsyncSession, account_id: int, target_id: int) -> Follow | None:
    return await session.scalar(select(Follow).where(
        Follow.account_id == account_id, Follow.target_account_id == target_id))


async def request_of(session: AsyncSession, account_id: int, target_id: int) -> FollowRequest | None:
    return await session.scalar(select(FollowRequest).where(
        FollowRequest.account_id == account_id, FollowRequest.target_account_id == target_id))


async def mute_of(session: AsyncSession, account_id: int, target_id: int) -> Mute | None:
    return await session.scalar(select(Mute).where(
        Mute.account_id == account_id, Mute.target_account_id == target_id))


async def block_between(session: AsyncSession, a: int, b: int) -> bool:
    """Whether either of the two accounts blocks the other."""
    found = await session.scalar(select(Block.id).where(or_(
        and_(Block.account_id == a, Block.target_account_id == b),
        and_(Block.account_id == b, Block.target_account_id == a))).limit(1))
    return found is not None


async def is_blocking(session: AsyncSession, account_id: int, target_id: int) -> bool:
    """Whether `account_id` blocks `target_id` (one direction only)."""
    found = await session.scalar(select(Block.id).where(
        Block.account_id == account_id, Block.target_account_id == target_id).limit(1))
    return found is not None


async def blockers_among(session: AsyncSession, account_id: int, others: Iterable[int]) -> set[int]:
    """Which of `others` block `account_id` or are blocked by it (one query)."""
    wanted = set(others)
    if not wanted:
        return set()
    rows = await session.execute(select(Block.account_id, Block.target_account_id).where(or_(
        and_(Block.account_id == account_id, Block.target_account_id.in_(wanted)),
        and_(Block.target_account_id == account_id, Block.account_id.in_(wanted)))))
    return {target if owner == account_id else owner for owner, target in rows}


async def notification_muters_among(session: AsyncSession, sender_id: int,
                                    recipients: Iterable[int]) -> set[int]:
    """Which of `recipients` mute `sender_id` with notifications hidden, now (one query)."""
    wanted = set(recipients)
    if not wanted:
        return set()
    now = clock.utcnow_naive()
    return set(await session.scalars(select(Mute.account_id).where(
        Mute.target_account_id == sender_id, Mute.account_id.in_(wanted), Mute.hide_notifications.is_(True),
        or_(Mute.expires_at.is_(None), Mute.expires_at > now))))


async def notifying_follower_ids(session: AsyncSession, account_id: int) -> list[int]:
    """Followers of `account_id` who asked to be notified of its new statuses (suspended ones left out)."""
    return list(await session.scalars(
        select(Follow.account_id).join(Account, Account.id == Follow.account_id)
        .where(Follow.target_account_id == account_id, Follow.notify.is_(True),
               Account.suspended_at.is_(None))))


async def pending_request_count(session: AsyncSession, account_id: int) -> int:
    """How many follow requests wait for `account_id` to answer."""
    return int(await session.scalar(select(func.count()).select_from(FollowRequest).where(
        FollowRequest.target_account_id == account_id)) or 0)


# --- writes ----------------------------------------------------------------------------------------

async def add_follow(session: AsyncSession, *, id: int, account_id: int, target_id: int, show_reblogs: bool,
                     notify: bool, now: datetime) -> bool:
    """Insert a follow; False if the pair already existed (nothing changed)."""
    return await insert_ignore(session, Follow, [dict(
        id=id, account_id=account_id, target_account_id=target_id, show_reblogs=show_reblogs, notify=notify,
        created_at=now)]) == 1


async def add_request(session: AsyncSession, *, id: int, account_id: int, target_id: int, show_reblogs: bool,
                      notify: bool, now: datetime) -> bool:
    return await insert_ignore(session, FollowRequest, [dict(
        id=id, account_id=account_id, target_account_id=target_id, show_reblogs=show_reblogs, notify=notify,
        created_at=now)]) == 1


async def add_block(session: AsyncSession, *, id: int, account_id: int, target_id: int,
                    now: datetime) -> bool:
    return await insert_ignore(session, Block, [dict(
        id=id, account_id=account_id, target_account_id=target_id, created_at=now)]) == 1


async def add_mute(session: AsyncSession, *, id: int, account_id: int, target_id: int,
                   hide_notifications: bool, expires_at: datetime | None, now: datetime) -> bool:
    return await insert_ignore(session, Mute, [dict(
        id=id, account_id=account_id, target_account_id=target_id, hide_notifications=hide_notifications,
        expires_at=expires_at, created_at=now)]) == 1


async def save_note(session: AsyncSession, *, account_id: int, target_id: int, comment: str,
                    now: datetime, new_id: int) -> None:
    """Keep `comment` as the account's note on the target; an empty comment removes the note."""
    if not comment:
        await _delete_pair(session, AccountNote, account_id, target_id)
        return
    updated = await session.execute(update(AccountNote).where(
        AccountNote.account_id == account_id, AccountNote.target_account_id == target_id
    ).values(comment=comment, updated_at=now))
    if (updated.rowcount or 0) == 0:
        inserted = await insert_ignore(session, AccountNote, [dict(
            id=new_id, account_id=account_id, target_account_id=target_id, comment=comment, created_at=now,
            updated_at=now)])
        if inserted == 0:  # a concurrent first note won the insert: this later one replaces it
            await session.execute(update(AccountNote).where(
                AccountNote.account_id == account_id, AccountNote.target_account_id == target_id
            ).values(comment=comment, updated_at=now))


async def _delete_pair(session: AsyncSession, model: type, account_id: int, target_id: int) -> bool:
    result = await session.execute(delete(model).where(
        model.account_id == account_id, model.target_account_id == target_id))
    return (result.rowcount or 0) > 0


async def remove_follow(session: AsyncSession, account_id: int, target_id: int) -> bool:
    """Delete the follow; True if there was one."""
    return await _delete_pair(session, Follow, account_id, target_id)


async def remove_request(session: AsyncSession, account_id: int, target_id: int) -> bool:
    return await _delete_pair(session, FollowRequest, account_id, target_id)


async def remove_block(session: AsyncSession, account_id: int, target_id: int) -> bool:
    return await _delete_pair(session, Block, account_id, target_id)


async def remove_mute(session: AsyncSession, account_id: int, target_id: int) -> bool:
    return await _delete_pair(session, Mute, account_id, target_id)


async def shift_follow_counts(session: AsyncSession, follower_id: int, followed_id: int, delta: int) -> None:
    """Move the cached counters of one follow edge by `delta` (+1 on follow, -1 on unfollow)."""
    await session.execute(update(Account).where(Account.id == follower_id)
                          .values(following_count=Account.following_count + delta))
    await session.execute(update(Account).where(Account.id == followed_id)
                          .values(followers_count=Account.followers_count + delta))


# --- relationships, batched ------------------------------------------------------------------------

async def relationship_rows(session: AsyncSession, viewer_id: int,
                            target_ids: Sequence[int]) -> dict[str, Any]:
    """Everything a page of Relationship entities needs, in five queries whatever the page size:
    follows and requests both ways, blocks both ways, the viewer's live mutes, the viewer's own notes
    (never anyone else's)."""
    ids = list(set(target_ids))
    follows = (await session.execute(select(Follow).where(or_(
        and_(Follow.account_id == viewer_id, Follow.target_account_id.in_(ids)),
        and_(Follow.target_account_id == viewer_id, Follow.account_id.in_(ids)))))).scalars().all()
    requests = (await session.execute(select(FollowRequest).where(or_(
        and_(FollowRequest.account_id == viewer_id, FollowRequest.target_account_id.in_(ids)),
        and_(FollowRequest.target_account_id == viewer_id, FollowRequest.account_id.in_(ids))))
    )).scalars().all()
    blocks = (await session.execute(select(Block.account_id, Block.target_account_id).where(or_(
        and_(Block.account_id == viewer_id, Block.target_account_id.in_(ids)),
        and_(Block.target_account_id == viewer_id, Block.account_id.in_(ids)))))).all()
    now = clock.utcnow_naive()
    mutes = (await session.execute(select(Mute).where(
        Mute.account_id == viewer_id, Mute.target_account_id.in_(ids),
        or_(Mute.expires_at.is_(None), Mute.expires_at > now)))).scalars().all()
    notes = (await session.execute(select(AccountNote.target_account_id, AccountNote.comment).where(
        AccountNote.account_id == viewer_id, AccountNote.target_account_id.in_(ids)))).all()
    return {
        "following": {f.target_account_id: f for f in follows if f.account_id == viewer_id},
        "followed_by": {f.account_id for f in follows if f.target_account_id == viewer_id},
        "requested": {r.target_account_id: r for r in requests if r.account_id == viewer_id},
        "requested_by": {r.account_id for r in requests if r.target_account_id == viewer_id},
        "blocking": {t for o, t in blocks if o == viewer_id},
        "blocked_by": {o for o, t in blocks if t == viewer_id},
        "muting": {m.target_account_id: m for m in mutes},
        "notes": {target: comment for target, comment in notes},
    }


# --- lists, paginated by the row id ----------------------------------------------------------------

def followers_page_query(account_id: int) -> Select:
    """(Follow.id, follower Account) for `account_id`'s followers, suspended accounts left out."""
    return (select(Follow.id, Account).join(Account, Account.id == Follow.account_id)
            .where(Follow.target_account_id == account_id, Account.suspended_at.is_(None)))


def following_page_query(account_id: int) -> Select:
    return (select(Follow.id, Account).join(Account, Account.id == Follow.target_account_id)
            .where(Follow.account_id == account_id, Account.suspended_at.is_(None)))


def endorsed_page_query(account_id: int) -> Select:
    """(Follow.id, endorsed Account) for the accounts `account_id` features on its profile."""
    return following_page_query(account_id).where(Follow.endorsed_at.is_not(None))


async def set_endorsed(session: AsyncSession, account_id: int, target_id: int, at: datetime | None) -> bool:
    """Endorse (`at`) or stop endorsing (None) a followed account; False when there is no such follow."""
    result = await session.execute(update(Follow).where(Follow.account_id == account_id,
                                                        Follow.target_account_id == target_id)
                                   .values(endorsed_at=at).execution_options(synchronize_session=False))
    return (result.rowcount or 0) > 0


def requests_page_query(account_id: int) -> Select:
    """(FollowRequest.id, requester Account) for requests waiting on `account_id`."""
    return (select(FollowRequest.id, Account).join(Account, Account.id == FollowRequest.account_id)
            .where(FollowRequest.target_account_id == account_id, Account.suspended_at.is_(None)))


def blocks_page_query(account_id: int) -> Select:
    return (select(Block.id, Account).join(Account, Account.id == Block.target_account_id)
            .where(Block.account_id == account_id))


def mutes_page_query(account_id: int) -> Select:
    """(Mute.id, Mute, muted Account) for the live mutes of `account_id`."""
    now = clock.utcnow_naive()
    return (select(Mute.id, Mute, Account).join(Account, Account.id == Mute.target_account_id)
            .where(Mute.account_id == account_id, or_(Mute.expires_at.is_(None), Mute.expires_at > now)))


async def familiar_follower_pairs(session: AsyncSession, viewer_id: int,
                                  target_ids: Sequence[int]) -> list[tuple[int, Account]]:
    """(target id, account) for accounts the viewer follows that follow each target (one query)."""
    theirs = Follow.__table__.alias("theirs")
    mine = Follow.__table__.alias("mine")
    rows = await session.execute(
        select(theirs.c.target_account_id, Account)
        .join(mine, and_(mine.c.target_account_id == theirs.c.account_id, mine.c.account_id == viewer_id))
        .join(Account, Account.id == theirs.c.account_id)
        .where(theirs.c.target_account_id.in_(list(set(target_ids))), Account.suspended_at.is_(None))
        .order_by(theirs.c.id.desc()))
    return [(target, account) for target, account in rows]


# --- many viewers at once (the streaming API decides for every listener of an event together) ----------

async def follows_from_among(session: AsyncSession, followers: Iterable[int],
                             targets: Iterable[int]) -> list[tuple[int, int, bool]]:
    """(follower, target, show_reblogs) for each follow from one of `followers` to one of `targets`."""
    who, whom = set(followers), set(targets)
    if not who or not whom:
        return []
    rows = await session.execute(select(Follow.account_id, Follow.target_account_id, Follow.show_reblogs).where(
        Follow.account_id.in_(who), Follow.target_account_id.in_(whom)))
    return [(a, t, bool(r)) for a, t, r in rows]


async def blocking_either_way_among(session: AsyncSession, accounts: Iterable[int],
                                    others: Iterable[int]) -> set[int]:
    """Which of `accounts` block, or are blocked by, any of `others` (one query)."""
    who, whom = set(accounts), set(others)
    if not who or not whom:
        return set()
    rows = await session.execute(select(Block.account_id, Block.target_account_id).where(or_(
        and_(Block.account_id.in_(who), Block.target_account_id.in_(whom)),
        and_(Block.target_account_id.in_(who), Block.account_id.in_(whom)))))
    found = set()
    for owner, target in rows:
        if owner in who and target in whom:
            found.add(owner)
        if target in who and owner in whom:
            found.add(target)
    return found


async def muting_among(session: AsyncSession, accounts: Iterable[int], targets: Iterable[int]) -> set[int]:
    """Which of `accounts` mute any of `targets` now (one query)."""
    who, whom = set(accounts), set(targets)
    if not who or not whom:
        return set()
    now = clock.utcnow_naive()
    return set(await session.scalars(select(Mute.account_id).where(
        Mute.account_id.in_(who), Mute.target_account_id.in_(whom),
        or_(Mute.expires_at.is_(None), Mute.expires_at > now))))
