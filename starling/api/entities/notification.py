"""The Mastodon Notification entity, hydrated for a whole page at once."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from starling import clock
from starling.api.entities.account import account_entity
from starling.api.entities.filter import annotate
from starling.api.entities.moderation import account_warning_entity, report_entity
from starling.api.entities.status import status_entities
from starling.context import AppContext
from starling.notifications.service import REPORT_TYPE, NotificationView, report_id_of
from starling.safety import filters, moderation


async def notification_entities(session: AsyncSession, ctx: AppContext, views: list[NotificationView],
                                viewer_id: int) -> list[dict]:
    """Entities for `views` in order; the statuses of the whole page are hydrated in one batch."""
    statuses = list({v.status.id: v.status for v in views if v.status is not None}.values())
    # The reader's keyword filters: `hide` drops the notification, `warn` marks its status.
    statuses, warned = await filters.apply(session, viewer_id, "notifications", statuses)
    rendered: dict[str, dict] = {}
    if statuses:
        rendered = {e["id"]: e for e in annotate(await status_entities(session, ctx, statuses, viewer_id), warned)}
    warning_ids = {view.notification.id: moderation.warning_id_of(view.notification.dedupe_key)
                   for view in views if view.notification.type == moderation.WARNING_TYPE}
    warnings = await moderation.warnings_for_ids(session, [w for w in warning_ids.values() if w is not None])
    report_ids = {view.notification.id: report_id_of(view.notification.dedupe_key)
                  for view in views if view.notification.type == REPORT_TYPE}
    reports = await moderation.reports_for_notices(session, viewer_id,
                                                   [r for r in report_ids.values() if r is not None])
    accounts: dict[int, dict] = {}
    out = []
    for view in views:
        n = view.notification
        status = rendered.get(str(view.status.id)) if view.status is not None else None
        if view.status is not None and status is None:
            continue  # the status could not be rendered for this reader: leave the entry out
        if view.account.id not in accounts:
            accounts[view.account.id] = account_entity(ctx, view.account)
        entity = {
            "id": str(n.id),
            "type": n.type,
            "group_key": f"ungrouped-{n.id}",
            "created_at": clock.iso(n.created_at),
            "account": accounts[view.account.id],
        }
        if status is not None:
            entity["status"] = status
        if n.id in warning_ids:
            warning = warnings.get(warning_ids[n.id] or 0)
            if warning is None:
                continue
            entity["moderation_warning"] = account_warning_entity(ctx, warning, view.account)
        if n.id in report_ids:
            found = reports.get(report_ids[n.id] or 0)
            if found is None:
                continue  # the report is gone, or the reader no longer moderates
            entity["report"] = report_entity(ctx, *found)
        out.append(entity)
    return out
