"""Every query on media attachments."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from starling.infra.direct import Query
from starling.media.models import MediaAttachment


async def by_id(session: AsyncSession, media_id: int) -> MediaAttachment | None:
    return await session.get(MediaAttachment, media_id)


async def by_ids(session: AsyncSession, media_ids: Iterable[int]) -> dict[int, MediaAttachment]:
    wanted = set(media_ids)
    if not wanted:
        return {}
    rows = await session.scalars(select(MediaAttachment).where(MediaAttachment.id.in_(wanted)))
    return {m.id: m for m in rows}


async def of_statuses(session: AsyncSession, status_ids: Iterable[int]) -> dict[int, list[MediaAttachment]]:
    """Each status's attachments in the order they were posted (one query for the whole page)."""
    wanted = set(status_ids)
    if not wanted:
        return {}
    found: dict[int, list[MediaAttachment]] = {}
    rows = await session.scalars(select(MediaAttachment).where(MediaAttachment.status_id.in_(wanted))
                                 .order_by(MediaAttachment.status_id, MediaAttachment.position,
                                           MediaAttachment.id))
    for media in rows:
        found.setdefault(media.status_id, []).append(media)
    return found


async def release(session: AsyncSession, status_id: int, keep: Iterable[int]) -> None:
    """Detach from `status_id` every attachment not in `keep` (they can be attached again later)."""
    await session.execute(update(MediaAttachment)
                          .where(MediaAttachment.status_id == status_id,
                                 MediaAttachment.id.not_in(set(keep)))
                          .values(status_id=None, position=0)
                          .execution_options(synchronize_session=False))


async def delete_of_status(session: AsyncSession, status_id: int) -> list[tuple[str, str]]:
    """Delete the attachments of `status_id`; returns each one's (file, preview) keys."""
    rows = await session.execute(delete(MediaAttachment).where(MediaAttachment.status_id == status_id)
                                 .returning(MediaAttachment.file_key, MediaAttachment.preview_key)
                                 .execution_options(synchronize_session=False))
    return [(file_key, preview_key) for file_key, preview_key in rows]


# The attachments of a page of statuses, for direct reads (see infra.direct): what the entity shows.
OF_STATUSES = Query(
    select(MediaAttachment.status_id, MediaAttachment.id, MediaAttachment.type, MediaAttachment.file_key,
           MediaAttachment.preview_key, MediaAttachment.width, MediaAttachment.height,
           MediaAttachment.preview_width, MediaAttachment.preview_height, MediaAttachment.focus_x,
           MediaAttachment.focus_y, MediaAttachment.description, MediaAttachment.blurhash)
    .where(MediaAttachment.status_id.in_(bindparam("ids", expanding=True)))
    .order_by(MediaAttachment.status_id, MediaAttachment.position, MediaAttachment.id))
