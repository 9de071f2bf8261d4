"""Every query on follows, follow requests, blocks and mutes."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from starling import clock
from starling.graph.models import Block, Follow, Mute


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
    return list(await session.scalars(select(Follow.account_id).where(Follow.target_account_id == account_id)))
