"""Hashtag pages: the public posts carrying a tag, newest first, with infinite scroll."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from starling.api.deps import Ctx, ReadSession
from starling.errors import NotFound
from starling.search import service as search
from starling.search.trends import tag_histories
from starling.timelines import service as timelines
from starling.web import feed
from starling.web.deps import OptionalViewer
from starling.web.pages import web_router

router = web_router()


@router.get("/tags/{name}")
async def tag_page(name: str, request: Request, ctx: Ctx, session: ReadSession, viewer: OptionalViewer) -> Response:
    normalized = search.normalize_tag(name)
    if normalized is None:
        raise NotFound("There is no such hashtag")
    viewer_id = viewer.id if viewer else None
    found = await timelines.tag_timeline(session, viewer_id, feed.window(request), normalized)
    items = await feed.cards(session, ctx, found.statuses, viewer_id, "public")
    tag = await search.tag_named(session, normalized)
    week = sum(day.uses for day in (await tag_histories(session, [tag.id]))[tag.id]) if tag is not None else 0
    people = "post" if week == 1 else "posts"
    return await feed.timeline_response(
        request, "timeline.html", items, feed.older_url(request, found.last_id), heading=f"#{normalized}",
        subheading=f"{week} {people} in the last 7 days", feed_label=f"Posts tagged #{normalized}",
        empty_text=f"No public posts tagged #{normalized} yet.")
