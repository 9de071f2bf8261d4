"""The Mastodon Status entity, hydrated for a whole page at once."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from starling.context import AppContext
from starling.posts.models import Status


async def status_entities(session: AsyncSession, ctx: AppContext, statuses: list[Status],
                          viewer_id: int | None) -> list[dict]:
    """Entities for `statuses` in order, built with one query per table for the whole page."""
    raise NotImplementedError("being built by the posts work")
