"""The Mastodon Notification entity, hydrated for a whole page at once."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from starling import clock
from starling.api.entities.account import account_entity
from starling.api.entities.status import status_entities
from starling.context import AppContext
from starling.notifications.service import NotificationView


async def notification_entities(session: AsyncSession, ctx: AppContext, views: list[NotificationView],
                                viewer_id: int) -> list[dict]:
    """Entities for `views` in order; the statuses of the whole page are hydrated in one batch."""
    statuses = list({v.status.id: v.status for v in views if v.status is not None}.values())
    rendered = dict(zip([s.id for s in statuses], await status_entities(session, ctx, statuses, viewer_id),
                        strict=True)) if statuses else {}
    accounts: dict[int, dict] = {}
    out = []
    for view in views:
        n = view.notification
        if view.account.id not in accounts:
            accounts[view.account.id] = account_entity(ctx, view.account)
        entity = {
            "id": str(n.id),
            "type": n.type,
            "group_key": f"ungrouped-{n.id}",
            "created_at": clock.iso(n.created_at),
            "account": accounts[view.account.id],
        }
        if view.status is not None:
            entity["status"] = rendered[view.status.id]
        out.append(entity)
    return out
