"""Background work after a status is created, edited or deleted. Every handler is idempotent: the
services it calls add nothing twice and remove nothing that is gone."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from starling.infra import jobs
from starling.notifications import service as notifications
from starling.posts import repository
from starling.safety import scoring
from starling.search import service as search
from starling.timelines import service as timelines


@jobs.handler("status.created")
async def status_created(session: AsyncSession, payload: dict[str, Any]) -> None:
    """Fan a new status or boost out to home feeds; index and announce original posts."""
    status = await repository.by_id(session, payload["status_id"])
    if status is None:  # deleted before this ran; its own job cleans up
        return
    if await scoring.screen_before_fan_out(session, session.info["settings"], status):
        return  # quarantined: only its author sees it, so nobody else's feed or search gets it
    await timelines.fan_out(session, status.id)
    if status.reblog_of_id is None:
        await search.index_status(session, status)
        await notifications.notify_new_status(session, status)


@jobs.handler("status.edited")
async def status_edited(session: AsyncSession, payload: dict[str, Any]) -> None:
    """Reindex an edited status and tell those who boosted it."""
    status = await repository.by_id(session, payload["status_id"])
    if status is None:
        return
    await search.index_status(session, status)
    await notifications.notify_status_edited(session, status)


@jobs.handler("status.deleted")
async def status_deleted(session: AsyncSession, payload: dict[str, Any]) -> None:
    """Take a deleted status and its boosts out of every feed and out of search."""
    for status_id in (payload["status_id"], *payload.get("boost_ids", ())):
        await timelines.remove_from_feeds(session, status_id)
    await search.unindex_status(session, payload["status_id"])
