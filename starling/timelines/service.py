"""Home feeds (fan-out on write, hybrid merge at read), lists and the other timelines."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession


async def fan_out(session: AsyncSession, status_id: int) -> None:
    """Put a new status into the home feed of its author and of every follower below the threshold."""
    raise NotImplementedError("being built by the timelines work")


async def remove_from_feeds(session: AsyncSession, status_id: int) -> None:
    """Take a deleted status out of every home feed."""
    raise NotImplementedError("being built by the timelines work")


async def merge_account_into_feed(session: AsyncSession, account_id: int, target_id: int) -> None:
    """After `account_id` follows `target_id`, add the target's recent statuses to the follower's feed."""
    raise NotImplementedError("being built by the timelines work")


async def unmerge_account_from_feed(session: AsyncSession, account_id: int, target_id: int) -> None:
    """After an unfollow or a block, take the target's statuses out of the account's feed."""
    raise NotImplementedError("being built by the timelines work")
