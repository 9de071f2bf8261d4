"""Mastodon's notification routes: list, show, dismiss, clear, and the unread count."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from starling import ids
from starling.api.accounts_graph import me, path_id
from starling.api.deps import Auth, Ctx, ReadSession, WriteSession, scoped
from starling.api.entities.notification import notification_entities
from starling.api.pagination import page_params, set_link_header
from starling.api.params import Params, body_params, query_params
from starling.api.responses import JSON
from starling.errors import NotFound
from starling.notifications import service as notifications

router = APIRouter()

ReadNotifications = Annotated[Auth, Depends(scoped("read:notifications"))]
WriteNotifications = Annotated[Auth, Depends(scoped("write:notifications"))]
NO_ACCOUNT = -1  # an account_id filter that names no valid account matches nothing


def _filters(params: Params) -> dict:
    raw_account = params.get("account_id")
    from_account = None
    if raw_account not in (None, ""):
        from_account = ids.parse_id(raw_account if isinstance(raw_account, str | int) else None) or NO_ACCOUNT
    return {"types": params.list("types"), "exclude_types": params.list("exclude_types"),
            "from_account_id": from_account}


@router.get("/api/v1/notifications")
async def list_notifications(request: Request, session: ReadSession, ctx: Ctx,
                             auth: ReadNotifications) -> JSON:
    page = await notifications.list_notifications(session, me(auth), page_params(request, 40, 80),
                                                  **_filters(query_params(request)))
    response = JSON(await notification_entities(session, ctx, page.items, me(auth)))
    set_link_header(request, response, page.first_id, page.last_id)
    return response


@router.get("/api/v1/notifications/unread_count")
async def unread_count(request: Request, session: ReadSession, auth: ReadNotifications) -> JSON:
    params = query_params(request)
    limit = max(1, min(params.int("limit", 100) or 100, 1000))
    count = await notifications.unread_count(session, me(auth), limit=limit, **_filters(params))
    return JSON({"count": count})


@router.get("/api/v1/notifications/{notification_id:int}")
async def show(notification_id: int, session: ReadSession, ctx: Ctx, auth: ReadNotifications) -> JSON:
    view = await notifications.get_notification(session, me(auth), path_id(notification_id))
    return JSON((await notification_entities(session, ctx, [view], me(auth)))[0])


@router.post("/api/v1/notifications/clear")
async def clear(session: WriteSession, auth: WriteNotifications) -> JSON:
    await notifications.clear(session, me(auth))
    return JSON({})


@router.post("/api/v1/notifications/{notification_id:int}/dismiss")
async def dismiss(notification_id: int, session: WriteSession, auth: WriteNotifications) -> JSON:
    await notifications.dismiss(session, me(auth), path_id(notification_id))
    return JSON({})


@router.post("/api/v1/notifications/dismiss")
async def dismiss_legacy(request: Request, session: WriteSession, auth: WriteNotifications) -> JSON:
    """The pre-3.0 form, with the ID as a parameter; old clients still send it."""
    raw = (await body_params(request)).get("id")
    notification_id = ids.parse_id(raw if isinstance(raw, str | int) else None)
    if notification_id is None:
        raise NotFound()
    await notifications.dismiss(session, me(auth), notification_id)
    return JSON({})
