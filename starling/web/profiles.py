"""Profiles: the header (avatar, bio, counts), the follow / unfollow / request / block / mute buttons,
tabs for posts, posts and replies, and media, and the followers and following lists."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from starling.accounts import service as accounts
from starling.accounts.models import Account
from starling.api.deps import Ctx, ReadSession, WriteSession
from starling.api.entities.account import account_entity
from starling.api.pagination import Page
from starling.errors import NotFound
from starling.graph import service as graph
from starling.timelines import service as timelines
from starling.web import feed
from starling.web.deps import CsrfForm, OptionalViewer, Viewer, safe_next
from starling.web.pages import fragment, is_htmx, page, redirect, web_router

router = web_router()

TABS = {"": ("Posts", {"exclude_replies": True}), "with_replies": ("Posts and replies", {}),
        "media": ("Media", {"only_media": True})}
ACCOUNTS_PAGE = 40


async def _account(session, settings, username: str) -> Account:
    account = await accounts.lookup(session, settings, username)
    if account is None or not account.approved:
        raise NotFound()
    return account


async def _header(request: Request, session, account: Account, viewer: Account | None) -> dict:
    ctx = request.app.state.ctx
    relationship = None
    if viewer is not None and viewer.id != account.id:
        relationship = await graph.relationship(session, viewer.id, account.id)
    return {"profile": account_entity(ctx, account), "relationship": relationship,
            "is_self": viewer is not None and viewer.id == account.id}


async def _posts(request: Request, ctx, session, viewer: Account | None, username: str, tab: str) -> Response:
    account = await _account(session, ctx.settings, username)
    label, options = TABS[tab]
    viewer_id = viewer.id if viewer else None
    found = await timelines.account_statuses(session, account.id, viewer_id, feed.window(request), **options)
    items = await feed.cards(session, ctx, found.statuses, viewer_id, "account")
    header = await _header(request, session, account, viewer)
    return await feed.timeline_response(
        request, "profile.html", items, feed.older_url(request, found.last_id), tab=tab, tab_label=label,
        tabs=TABS, feed_label=f"{label} by @{account.username}", empty_text="No posts here yet.", **header)


@router.get("/@{username}")
async def profile(username: str, request: Request, ctx: Ctx, session: ReadSession, viewer: OptionalViewer):
    return await _posts(request, ctx, session, viewer, username, "")


@router.get("/@{username}/with_replies")
async def with_replies(username: str, request: Request, ctx: Ctx, session: ReadSession, viewer: OptionalViewer):
    return await _posts(request, ctx, session, viewer, username, "with_replies")


@router.get("/@{username}/media")
async def media_tab(username: str, request: Request, ctx: Ctx, session: ReadSession, viewer: OptionalViewer):
    return await _posts(request, ctx, session, viewer, username, "media")


async def _network(request: Request, ctx, session, viewer, username: str, which: str) -> Response:
    account = await _account(session, ctx.settings, username)
    viewer_id = viewer.id if viewer else None
    window = feed.window(request, ACCOUNTS_PAGE)
    pick = graph.followers if which == "followers" else graph.following
    rows = await pick(session, account.id, viewer_id, Page(max_id=window.max_id, limit=ACCOUNTS_PAGE))
    people = [account_entity(ctx, other) for _, other in rows]
    next_url = feed.older_url(request, rows[-1][0]) if len(rows) == ACCOUNTS_PAGE else None
    if is_htmx(request) and request.query_params.get("max_id"):
        return await fragment(request, "_account_items.html", people=people, next_url=next_url)
    header = await _header(request, session, account, viewer)
    return await page(request, "network.html", which=which, people=people, next_url=next_url, **header)


@router.get("/@{username}/followers")
async def followers(username: str, request: Request, ctx: Ctx, session: ReadSession, viewer: OptionalViewer):
    return await _network(request, ctx, session, viewer, username, "followers")


@router.get("/@{username}/following")
async def following(username: str, request: Request, ctx: Ctx, session: ReadSession, viewer: OptionalViewer):
    return await _network(request, ctx, session, viewer, username, "following")


async def _follow(session, viewer_id: int, target_id: int) -> None:
    await graph.follow(session, viewer_id, target_id)


async def _mute(session, viewer_id: int, target_id: int) -> None:
    await graph.mute(session, viewer_id, target_id)


RELATIONSHIP_ACTIONS = {
    "follow": _follow, "unfollow": graph.unfollow, "block": graph.block, "unblock": graph.unblock,
    "mute": _mute, "unmute": graph.unmute,
}


@router.post("/@{username}/{action}")
async def relate(username: str, action: str, request: Request, ctx: Ctx, session: WriteSession, viewer: Viewer,
                 form: CsrfForm) -> Response:
    operation = RELATIONSHIP_ACTIONS.get(action)
    if operation is None:
        raise NotFound()
    account = await _account(session, ctx.settings, username)
    await operation(session, viewer.id, account.id)
    if is_htmx(request):
        header = await _header(request, session, account, viewer)
        return await fragment(request, "_relationship.html", **header)
    return redirect(safe_next(form.str("next", max_length=2_000), f"/@{account.username}"))
