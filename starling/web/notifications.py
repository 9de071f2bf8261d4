"""The notifications page: newest first, all or mentions only, older ones by max_id; opening the first
page marks everything on it read (the unread badge in the navigation counts past that marker). Follow
requests can be answered from here; one notification or all of them can be dismissed."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from starling import ids
from starling.api.deps import Ctx, ReadSession, WriteSession
from starling.api.pagination import Page
from starling.context import AppContext
from starling.errors import NotFound
from starling.graph import service as graph
from starling.notifications import service as notifications
from starling.safety import moderation
from starling.web import feed
from starling.web.deps import CsrfForm, Viewer
from starling.web.pages import fragment, is_htmx, page, redirect, web_router
from starling.web.people import avatar_url

router = web_router()

PAGE_SIZE = 30
FILTERS = {"all": (), "mentions": ("mention",)}
VERBS = {"mention": "mentioned you", "status": "posted", "reblog": "boosted your post",
         "follow": "followed you", "follow_request": "asked to follow you", "favourite": "favourited your post",
         "poll": "ran a poll that has ended", "update": "edited a post you boosted",
         "admin.sign_up": "signed up", "admin.report": "filed a report",
         "moderation_warning": "received a notice from the moderators"}


def _id(raw: int) -> int:
    if raw >= 2**63:
        raise NotFound()
    return raw


async def _items(session, ctx: AppContext, viewer_id: int, views) -> list[dict]:
    """Notifications as the template shows them, their statuses hydrated in one batch."""
    statuses = [v.status for v in views if v.status is not None]
    cards = {card["id"]: card for card in await feed.cards(session, ctx, statuses, viewer_id, "notifications")}
    views = [v for v in views if v.status is None or str(v.status.id) in cards]  # a `hide` filter matched
    report_ids = {v.notification.id: notifications.report_id_of(v.notification.dedupe_key)
                  for v in views if v.notification.type == notifications.REPORT_TYPE}
    reports = await moderation.reports_for_notices(session, viewer_id,
                                                   [r for r in report_ids.values() if r is not None])
    # A report notice whose report is gone, or whose reader no longer moderates, is left out.
    views = [v for v in views if v.notification.id not in report_ids or report_ids[v.notification.id] in reports]
    return [{"id": v.notification.id, "type": v.notification.type, "verb": VERBS.get(v.notification.type, ""),
             "created_at": v.notification.created_at, "account": v.account, "avatar": avatar_url(ctx, v.account),
             "status": cards.get(str(v.status.id)) if v.status is not None else None,
             "report": reports.get(report_ids.get(v.notification.id) or 0)}
            for v in views]


@router.get("/notifications")
async def index(request: Request, ctx: Ctx, session: ReadSession, viewer: Viewer) -> Response:
    show = request.query_params.get("show", "all")
    if show not in FILTERS:
        show = "all"
    max_id = ids.parse_id(request.query_params.get("max_id"))
    found = await notifications.list_notifications(session, viewer.id, Page(max_id=max_id, limit=PAGE_SIZE),
                                                   types=FILTERS[show])
    if show == "all" and max_id is None and found.first_id is not None:
        # Read now (only from the full list: the mentions tab leaves the rest unread). The badge
        # rendered with this page already counts from here.
        async with ctx.db.write() as writing:
            await notifications.mark_read(writing, viewer.id, found.first_id)
    items = await _items(session, ctx, viewer.id, found.items)
    next_url = f"/notifications?show={show}&max_id={found.last_id}" if found.full else None
    if is_htmx(request) and max_id is not None:
        return await fragment(request, "notifications/_items.html", items=items, next_url=next_url)
    return await page(request, "notifications/index.html", items=items, next_url=next_url, show=show)


@router.post("/notifications/clear")
async def clear(session: WriteSession, viewer: Viewer, form: CsrfForm) -> Response:
    await notifications.clear(session, viewer.id)
    return redirect("/notifications")


@router.post("/notifications/{notification_id:int}/dismiss")
async def dismiss(request: Request, notification_id: int, session: WriteSession, viewer: Viewer,
                  form: CsrfForm) -> Response:
    await notifications.dismiss(session, viewer.id, _id(notification_id))
    if is_htmx(request):
        return Response(status_code=200)  # htmx swaps the notification out for nothing
    return redirect("/notifications")


@router.post("/notifications/requests/{account_id:int}/{decision}")
async def answer_request(account_id: int, decision: str, session: WriteSession, viewer: Viewer,
                         form: CsrfForm) -> Response:
    """Accept or reject a follow request from the notification it made."""
    if decision == "authorize":
        await graph.authorize_request(session, viewer.id, _id(account_id))
    elif decision == "reject":
        await graph.reject_request(session, viewer.id, _id(account_id))
    else:
        raise NotFound()
    return redirect("/notifications")
