"""Bookmarks and favourites: the posts one saved or liked, newest first (by when they were saved), with
infinite scroll. Only the owner ever sees them."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from starling.api.deps import Ctx, ReadSession
from starling.timelines import service as timelines
from starling.web import feed
from starling.web.deps import Viewer
from starling.web.pages import web_router

router = web_router()


@router.get("/bookmarks")
async def bookmarks(request: Request, ctx: Ctx, session: ReadSession, viewer: Viewer) -> Response:
    found = await timelines.bookmarked_statuses(session, viewer.id, feed.window(request))
    items = await feed.cards(session, ctx, found.statuses, viewer.id)
    return await feed.timeline_response(
        request, "timeline.html", items, feed.older_url(request, found.last_id), heading="Bookmarks",
        feed_label="Bookmarked posts", empty_text="No bookmarks yet. Bookmark a post to find it here later.")


@router.get("/favourites")
async def favourites(request: Request, ctx: Ctx, session: ReadSession, viewer: Viewer) -> Response:
    found = await timelines.favourited_statuses(session, viewer.id, feed.window(request))
    items = await feed.cards(session, ctx, found.statuses, viewer.id)
    return await feed.timeline_response(
        request, "timeline.html", items, feed.older_url(request, found.last_id), heading="Favourites",
        feed_label="Favourited posts", empty_text="No favourites yet. Posts you favourite are listed here.")
