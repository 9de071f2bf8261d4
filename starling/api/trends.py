"""Trends: hashtags and statuses gaining attention now; links are not tracked (always empty)."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request

from starling import ids
from starling.api.deps import Ctx, OptionalAuth, ReadSession
from starling.api.entities.status import status_entities
from starling.api.entities.tag import tag_entity
from starling.api.responses import JSON
from starling.graph import repository as graph
from starling.posts import service as posts
from starling.search import trends

router = APIRouter()


def _limit_offset(request: Request, default: int) -> tuple[int, int]:
    """Mastodon's limit (default, at most twice the default) and offset (never negative)."""
    def number(name: str, fallback: int) -> int:
        raw = request.query_params.get(name, "")
        return abs(int(raw)) if ids.is_decimal(raw.lstrip("-")) and len(raw) < 10 else fallback

    return min(number("limit", default), default * 2), number("offset", 0)


def _with_offset_links(request: Request, response: JSON, *, limit: int, offset: int, count: int) -> JSON:
    base = f"{request.app.state.ctx.settings.base_url}{request.url.path}"
    links = []
    if count == limit and limit > 0:
        links.append(f'<{base}?{urlencode({"limit": limit, "offset": offset + limit})}>; rel="next"')
    if offset > limit:
        links.append(f'<{base}?{urlencode({"limit": limit, "offset": offset - limit})}>; rel="prev"')
    if links:
        response.headers["Link"] = ", ".join(links)
    return response


@router.get("/api/v1/trends")
@router.get("/api/v1/trends/tags")
async def trending_tags(request: Request, session: ReadSession, ctx: Ctx, auth: OptionalAuth) -> JSON:
    limit, offset = _limit_offset(request, 10)
    found = await trends.trending_tags(session, scope=ctx.db.url, limit=limit, offset=offset)
    signed_in = auth is not None and auth.account is not None
    response = JSON([tag_entity(ctx, tag, history, signed_in=signed_in) for tag, history in found])
    return _with_offset_links(request, response, limit=limit, offset=offset, count=len(found))


@router.get("/api/v1/trends/statuses")
async def trending_statuses(request: Request, session: ReadSession, ctx: Ctx, auth: OptionalAuth) -> JSON:
    limit, offset = _limit_offset(request, 20)
    viewer_id = auth.account.id if auth is not None and auth.account is not None else None
    ranked = await trends.trending_status_ids(session, scope=ctx.db.url, limit=limit, offset=offset)
    statuses = await posts.visible_statuses(session, ranked, viewer_id)
    if viewer_id is not None:
        hidden = await graph.blocked_either_way(session, viewer_id)
        hidden |= await graph.muted_ids(session, viewer_id)
        statuses = [s for s in statuses if s.account_id not in hidden]
    response = JSON(await status_entities(session, ctx, statuses, viewer_id))
    return _with_offset_links(request, response, limit=limit, offset=offset, count=len(ranked))


@router.get("/api/v1/trends/links")
async def trending_links(request: Request) -> JSON:
    return JSON([])
