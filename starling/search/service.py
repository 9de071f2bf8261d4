"""Search over accounts, hashtags and status text."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from starling.posts.models import Status


async def index_status(session: AsyncSession, status: Status) -> None:
    """Add (or refresh) a status in the full-text index."""
    raise NotImplementedError("being built by the search work")


async def unindex_status(session: AsyncSession, status_id: int) -> None:
    """Drop a status from the full-text index."""
    raise NotImplementedError("being built by the search work")
