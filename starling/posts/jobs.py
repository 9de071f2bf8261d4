"""Background work after a status is created, edited or deleted. Every handler is idempotent: the
services it calls add nothing twice and remove nothing that is gone."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from starling.conversations import service as conversations
from starling.infra import jobs
from starling.notifications import service as notifications
from starling.posts import repository
from starling.safety import scoring
from starling.search import service as search
from starling.streaming import events as stream_events
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
    await conversations.add_status(session, status)
    if status.reblog_of_id is None:
        await search.index_status(session, status)
        await notifications.notify_new_status(session, status)
    stream_events.status_delivered(session, status.id)


@jobs.handler("status.edited")
async def status_edited(session: AsyncSession, payload: dict[str, Any]) -> None:
    """Reindex an edited status and tell those who boosted it."""
    status = await repository.by_id(session, payload["status_id"])
    if status is None:
        return
    await search.index_status(session, status)
    await notifications.notify_status_edited(session, status)
    stream_events.status_delivered(session, status.id, edited=True)


@jobs.handler("status.deleted")
async def status_deleted(session: AsyncSession, payload: dict[str, Any]) -> None:
    """Take a deleted status and its boosts out of every feed and out of search."""
    status_ids = [payload["status_id"], *payload.get("boost_ids", ())]
    # The rows are gone: the authors (in the payload since the Redis feed store needs them) find the feeds.
    author_ids = payload.get("author_ids") or [None] * len(status_ids)
    for status_id, author_id in zip(status_ids, author_ids, strict=True):
        await timelines.remove_from_feeds(session, status_id, author_id=author_id)
    await search.unindex_status(session, payload["status_id"])
    await conversations.status_removed(session, payload["status_id"])
