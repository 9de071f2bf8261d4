"""Feed jobs the graph enqueues: merge a newly followed account into a home feed, or take one out.

Both re-check the graph when they run, so a job that runs late (after an unfollow undid the follow,
or a new follow undid the unfollow) does not act on a stale decision. The timelines functions they
call are idempotent, so a retried job changes nothing twice.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from starling.graph import repository
from starling.graph.service import FEED_MERGE, FEED_UNMERGE
from starling.infra import jobs
from starling.timelines import service as timelines


@jobs.handler(FEED_MERGE)
async def feed_merge(session: AsyncSession, payload: dict[str, Any]) -> None:
    account_id, target_id = int(payload["account_id"]), int(payload["target_id"])
    if await repository.follow_of(session, account_id, target_id) is None:
        return
    await timelines.merge_account_into_feed(session, account_id, target_id)


@jobs.handler(FEED_UNMERGE)
async def feed_unmerge(session: AsyncSession, payload: dict[str, Any]) -> None:
    account_id, target_id = int(payload["account_id"]), int(payload["target_id"])
    if await repository.follow_of(session, account_id, target_id) is not None:
        return
    await timelines.unmerge_account_from_feed(session, account_id, target_id)
