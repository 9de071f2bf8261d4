"""Timelines' own background work: a fan-out that Redis could not take when the status's job ran."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from starling.infra import jobs
from starling.timelines import service as timelines


@jobs.handler(timelines.FAN_OUT_AGAIN)
async def fan_out_again(session: AsyncSession, payload: dict[str, Any]) -> None:
    """Fan a status out to feeds in Redis; fails (and is retried with backoff) while Redis is down."""
    await timelines.fan_out(session, int(payload["status_id"]), defer_on_outage=False)
