"""Home, Local and Explore: the timelines, with the compose box, new posts arriving by polling, and
infinite scroll by max_id."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from starling.accounts import instance as instance_settings
from starling.api.deps import Ctx, ReadSession
from starling.api.pagination import Page
from starling.graph import repository as graph
from starling.notifications import service as notifications
from starling.posts import service as posts
from starling.search import trends
from starling.timelines import service as timelines
from starling.web import feed
from starling.web.deps import OptionalViewer, Viewer
from starling.web.pages import UNREAD_LIMIT, fragment, web_router

router = web_router()

NEW_POSTS_LIMIT = 40
EXPLORE_STATUSES = 20
EXPLORE_TAGS = 10


async def compose_context(request: Request, session, viewer) -> dict:
    """What `_compose.html` needs."""
    options = await instance_settings.get_instance_settings(session, request.app.state.ctx.settings)
    return {"max_characters": options.max_characters, "default_visibility": viewer.default_privacy}


@router.get("/home")
async def home(request: Request, ctx: Ctx, session: ReadSession, viewer: Viewer) -> Response:
    items, first_id, last_id = await feed.home_cards(ctx, viewer.id, feed.window(request))
    poll_url = f"/home/new?since_id={first_id or 0}"
    return await feed.timeline_response(
        request, "timeline.html", items, feed.older_url(request, last_id), heading="Home", compose=True,
        poll_url=poll_url, feed_label="Home timeline",
        empty_text="Your home timeline is empty. Follow people to see their posts here.",
        **await compose_context(request, session, viewer))


@router.get("/home/new")
async def home_new(request: Request, ctx: Ctx, session: ReadSession, viewer: Viewer, since_id: int = 0) -> Response:
    """Posts newer than `since_id`, placed above the feed, the poller that asks again later, and the
    navigation's unread badge brought up to date."""
    items, first_id, _ = await feed.home_cards(ctx, viewer.id, Page(since_id=since_id, limit=NEW_POSTS_LIMIT))
    newest = first_id if first_id is not None else since_id
    unread = await notifications.unread_count(session, viewer.id, limit=UNREAD_LIMIT)
    await feed.read_cap(request, len(items))
    return await fragment(request, "_new_posts.html", items=items, poll_url=f"/home/new?since_id={newest}",
                          unread_notifications=unread)


@router.get("/local")
async def local(request: Request, ctx: Ctx, session: ReadSession, viewer: Viewer) -> Response:
    found = await timelines.public_timeline(session, viewer.id, feed.window(request), local=True)
    items = await feed.cards(session, ctx, found.statuses, viewer.id, "public")
    return await feed.timeline_response(
        request, "timeline.html", items, feed.older_url(request, found.last_id), heading="Local",
        subheading=f"Public posts on {ctx.settings.domain}", compose=True, feed_label="Local timeline",
        **await compose_context(request, session, viewer))


@router.get("/explore")
async def explore(request: Request, ctx: Ctx, session: ReadSession, viewer: OptionalViewer) -> Response:
    viewer_id = viewer.id if viewer else None
    ranked = await trends.trending_status_ids(session, scope=ctx.db.url, limit=EXPLORE_STATUSES)
    statuses = await posts.visible_statuses(session, ranked, viewer_id)
    if viewer_id is not None:
        hidden = await graph.blocked_either_way(session, viewer_id) | await graph.muted_ids(session, viewer_id)
        statuses = [s for s in statuses if s.account_id not in hidden]
    items = await feed.cards(session, ctx, statuses, viewer_id, "public")
    tags = [{"name": tag.name, "uses": sum(d.uses for d in history)}
            for tag, history in await trends.trending_tags(session, scope=ctx.db.url, limit=EXPLORE_TAGS)]
    return await feed.timeline_response(
        request, "timeline.html", items, None, heading="Explore", subheading="Trending now", sidebar=True,
        trending_tags=tags, feed_label="Trending posts", empty_text="Nothing is trending yet.", hide_end=True)
