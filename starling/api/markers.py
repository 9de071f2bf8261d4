"""Mastodon's markers: where the reader stopped in the home timeline and in notifications."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from starling import clock, ids
from starling.api.accounts_graph import me
from starling.api.deps import Auth, ReadSession, WriteSession, scoped
from starling.api.params import body_params, query_params
from starling.api.responses import JSON
from starling.errors import Unprocessable
from starling.notifications import service as notifications
from starling.notifications.models import Marker

router = APIRouter()


def _markers(markers: list[Marker]) -> dict:
    return {m.timeline: {"last_read_id": str(m.last_read_id), "version": m.version,
                         "updated_at": clock.iso(m.updated_at)} for m in markers}


@router.get("/api/v1/markers")
async def get_markers(request: Request, session: ReadSession,
                      auth: Annotated[Auth, Depends(scoped("read:statuses"))]) -> JSON:
    timelines = [t for t in query_params(request).list("timeline") if isinstance(t, str)]
    return JSON(_markers(await notifications.get_markers(session, me(auth), timelines)))


@router.post("/api/v1/markers")
async def save_markers(request: Request, session: WriteSession,
                       auth: Annotated[Auth, Depends(scoped("write:statuses"))]) -> JSON:
    params = await body_params(request)
    positions: dict[str, int] = {}
    for timeline in notifications.MARKER_TIMELINES:
        raw = params.dict(timeline).get("last_read_id")
        if raw is None:
            continue
        last_read_id = ids.parse_id(raw) if isinstance(raw, str | int) and not isinstance(raw, bool) else None
        if last_read_id is None:
            raise Unprocessable(f"Validation failed: {timeline}[last_read_id] must be an ID")
        positions[timeline] = last_read_id
    return JSON(_markers(await notifications.save_markers(session, me(auth), positions)))
