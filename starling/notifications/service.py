"""Notifications: created idempotently, filtered by blocks and mutes, listed and dismissed."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from starling.posts.models import Status


async def notify(session: AsyncSession, *, recipient_id: int, from_id: int, type: str,
                 status_id: int | None = None) -> None:
    """Create one notification unless it exists, is to oneself, or the recipient blocks/mutes the sender."""
    raise NotImplementedError("being built by the notifications work")


async def notify_new_status(session: AsyncSession, status: Status) -> None:
    """Mentions in a new status, and `status` notifications to followers who asked for them."""
    raise NotImplementedError("being built by the notifications work")


async def notify_status_edited(session: AsyncSession, status: Status) -> None:
    """`update` notifications to everyone who boosted an edited status."""
    raise NotImplementedError("being built by the notifications work")
