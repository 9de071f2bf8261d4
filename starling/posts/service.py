"""Status operations: create, edit, delete, boost, favourite, bookmark, pin; who may see what."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from starling.posts.models import Status


async def visible_statuses(session: AsyncSession, status_ids: Sequence[int], viewer_id: int | None) -> list[Status]:
    """The statuses among `status_ids` that `viewer_id` may see, in the order given."""
    raise NotImplementedError("being built by the posts work")
