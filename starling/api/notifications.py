"""Mastodon's notification routes: list, show, dismiss, clear, and the unread count; and the grouped
notifications of API v2 (what apps for Mastodon 4.3 and later read)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from starling import ids
from starling.api.accounts_graph import me, path_id
from starling.api.deps import Auth, Ctx, ReadSession, WriteSession, scoped
from starling.api.entities.account import account_entity
from starling.api.entities.notification import grouped_notifications, notification_entities
from starling.api.pagination import Page, page_params, set_link_header
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


def _unread_limit(params: Params) -> int:
    """How many unread notifications to count at most: 100 unless asked, never more than 1,000."""
    return max(1, min(params.int("limit", 100) or 100, 1000))


@router.get("/api/v1/notifications/unread_count")
async def unread_count(request: Request, session: ReadSession, auth: ReadNotifications) -> JSON:
    params = query_params(request)
    count = await notifications.unread_count(session, me(auth), limit=_unread_limit(params), **_filters(params))
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


# --- grouped notifications (v2) ---------------------------------------------------------------------

# Notifications read to build one page of groups, per group asked for: enough for the usual page, while
# a status with hundreds of favourites still costs one bounded read (its group continues on the next page).
ROWS_PER_GROUP = 3
MAX_ROWS = 200


def _grouped_types(params: Params) -> tuple[str, ...]:
    asked = params.list("grouped_types")
    if not asked:
        return notifications.GROUPED_TYPES
    return tuple(t for t in notifications.GROUPED_TYPES if t in asked)


@router.get("/api/v2/notifications")
async def list_grouped(request: Request, session: ReadSession, ctx: Ctx, auth: ReadNotifications) -> JSON:
    params = query_params(request)
    groups = page_params(request, 40, 80)
    rows = Page(max_id=groups.max_id, since_id=groups.since_id, min_id=groups.min_id,
                limit=min(groups.limit * ROWS_PER_GROUP, MAX_ROWS))
    page = await notifications.list_notifications(session, me(auth), rows, **_filters(params))
    grouped = await grouped_notifications(session, ctx, page, me(auth), limit=groups.limit,
                                          grouped_types=_grouped_types(params),
                                          oldest_first=groups.min_id is not None)
    response = JSON(grouped.results)
    set_link_header(request, response, grouped.first_id, grouped.last_id)
    return response


@router.get("/api/v2/notifications/unread_count")
async def unread_group_count(request: Request, session: ReadSession, auth: ReadNotifications) -> JSON:
    params = query_params(request)
    count = await notifications.unread_group_count(session, me(auth), limit=_unread_limit(params),
                                                   grouped_types=_grouped_types(params))
    return JSON({"count": count})


def _key(group_key: str) -> str:
    if len(group_key) > 64:
        raise NotFound()
    return group_key


@router.get("/api/v2/notifications/{group_key}")
async def show_group(group_key: str, session: ReadSession, ctx: Ctx, auth: ReadNotifications) -> JSON:
    views = await notifications.group_views(session, me(auth), _key(group_key))
    page = notifications.NotificationPage(views, views[0].notification.id, views[-1].notification.id)
    ungrouped = group_key.startswith(f"{notifications.UNGROUPED}-")
    grouped = await grouped_notifications(session, ctx, page, me(auth), limit=1,
                                          grouped_types=() if ungrouped else notifications.GROUPED_TYPES)
    if not grouped.results["notification_groups"]:
        raise NotFound()
    return JSON(grouped.results)


@router.get("/api/v2/notifications/{group_key}/accounts")
async def group_accounts(group_key: str, session: ReadSession, ctx: Ctx, auth: ReadNotifications) -> JSON:
    views = await notifications.group_views(session, me(auth), _key(group_key))
    senders = {v.account.id: v.account for v in views}
    return JSON([account_entity(ctx, account) for account in senders.values()])


@router.post("/api/v2/notifications/{group_key}/dismiss")
async def dismiss_group(group_key: str, session: WriteSession, auth: WriteNotifications) -> JSON:
    await notifications.dismiss_group(session, me(auth), _key(group_key))
    return JSON({})
