"""Every query on notifications and markers (and the two reads of posts' tables that fan-out needs)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from starling.accounts.models import Account
from starling.graph import repository as graph
from starling.infra.db import insert_ignore
from starling.notifications.models import Marker, Notification
from starling.posts.models import Mention, Status


async def add_many(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> int:
    """Insert notification rows; a row whose (recipient, dedupe_key) exists is skipped."""
    return await insert_ignore(session, Notification, list(rows))


async def delete_by_key(session: AsyncSession, account_id: int, dedupe_key: str) -> int:
    result = await session.execute(delete(Notification).where(
        Notification.account_id == account_id, Notification.dedupe_key == dedupe_key))
    return result.rowcount or 0


async def delete_from(session: AsyncSession, account_id: int, from_account_id: int) -> int:
    result = await session.execute(delete(Notification).where(
        Notification.account_id == account_id, Notification.from_account_id == from_account_id))
    return result.rowcount or 0


async def delete_all(session: AsyncSession, account_id: int) -> int:
    result = await session.execute(delete(Notification).where(Notification.account_id == account_id))
    return result.rowcount or 0


async def delete_one(session: AsyncSession, account_id: int, notification_id: int) -> bool:
    result = await session.execute(delete(Notification).where(
        Notification.account_id == account_id, Notification.id == notification_id))
    return (result.rowcount or 0) > 0


async def delete_ids(session: AsyncSession, account_id: int, notification_ids: list[int]) -> int:
    if not notification_ids:
        return 0
    result = await session.execute(delete(Notification).where(
        Notification.account_id == account_id, Notification.id.in_(notification_ids)))
    return result.rowcount or 0


def browsable_query(account_id: int, *, types: Iterable[str] = (), exclude_types: Iterable[str] = (),
                    from_account_id: int | None = None) -> Select:
    """`account_id`'s notifications that may be shown: the sender is not suspended, not blocked
    either way, and not muted with notifications hidden. Filters by type and sender on request."""
    stmt = (select(Notification)
            .join(Account, Account.id == Notification.from_account_id)
            .where(Notification.account_id == account_id, Account.suspended_at.is_(None),
                   Notification.from_account_id.not_in(graph.blocked_either_way_query(account_id)),
                   Notification.from_account_id.not_in(graph.muting_notifications_query(account_id))))
    types, exclude_types = list(types), list(exclude_types)
    if types:
        stmt = stmt.where(Notification.type.in_(types))
    if exclude_types:
        stmt = stmt.where(Notification.type.not_in(exclude_types))
    if from_account_id is not None:
        stmt = stmt.where(Notification.from_account_id == from_account_id)
    return stmt


async def count_newer(session: AsyncSession, stmt: Select, after_id: int, limit: int) -> int:
    """How many rows of `stmt` have an id above `after_id`, counting at most `limit`."""
    capped = stmt.with_only_columns(Notification.id).where(Notification.id > after_id).limit(limit).subquery()
    return int(await session.scalar(select(func.count()).select_from(capped)) or 0)


async def mentioned_account_ids(session: AsyncSession, status_id: int) -> list[int]:
    """Accounts mentioned in a status, leaving out suspended ones."""
    return list(await session.scalars(
        select(Mention.account_id).join(Account, Account.id == Mention.account_id)
        .where(Mention.status_id == status_id, Account.suspended_at.is_(None))))


async def booster_ids(session: AsyncSession, status_id: int) -> list[int]:
    """Accounts that boosted a status, leaving out suspended ones."""
    return list(await session.scalars(
        select(Status.account_id).join(Account, Account.id == Status.account_id)
        .where(Status.reblog_of_id == status_id, Account.suspended_at.is_(None))))


STAFF_ROLES = ("admin", "moderator")


async def active_staff_ids(session: AsyncSession) -> list[int]:
    """Moderators and admins who may act now (not suspended or disabled, approved)."""
    return list(await session.scalars(
        select(Account.id).where(Account.role.in_(STAFF_ROLES), Account.suspended_at.is_(None),
                                 Account.disabled_at.is_(None), Account.approved.is_(True))))


async def is_suspended(session: AsyncSession, account_id: int) -> bool:
    suspended = await session.scalar(select(Account.suspended_at).where(Account.id == account_id))
    return suspended is not None


# --- markers ---------------------------------------------------------------------------------------

async def markers_of(session: AsyncSession, account_id: int, timelines: Iterable[str]) -> list[Marker]:
    wanted = list(set(timelines))
    if not wanted:
        return []
    # populate_existing: a marker saved by a bulk UPDATE in this session must be read back fresh.
    return list(await session.scalars(
        select(Marker).where(Marker.account_id == account_id, Marker.timeline.in_(wanted))
        .execution_options(populate_existing=True)))


async def marker_position(session: AsyncSession, account_id: int, timeline: str) -> int:
    value = await session.scalar(select(Marker.last_read_id).where(
        Marker.account_id == account_id, Marker.timeline == timeline))
    return int(value or 0)


async def save_marker(session: AsyncSession, account_id: int, timeline: str, last_read_id: int,
                      now: datetime) -> None:
    """Create the marker at version 0, or move it and bump its version (unchanged: nothing happens)."""
    created = await insert_ignore(session, Marker, [dict(
        account_id=account_id, timeline=timeline, last_read_id=last_read_id, version=0, updated_at=now)])
    if created:
        return
    await session.execute(
        update(Marker)
        .where(Marker.account_id == account_id, Marker.timeline == timeline,
               Marker.last_read_id != last_read_id)
        .values(last_read_id=last_read_id, version=Marker.version + 1, updated_at=now)
        .execution_options(synchronize_session=False))
