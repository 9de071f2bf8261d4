"""The Mastodon Notification entity, hydrated for a whole page at once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from starling import clock
from starling.api.entities.account import account_entity
from starling.api.entities.filter import annotate
from starling.api.entities.moderation import account_warning_entity, report_entity
from starling.api.entities.status import status_entities
from starling.context import AppContext
from starling.notifications.service import (
    GROUPED_TYPES,
    REPORT_TYPE,
    NotificationPage,
    NotificationView,
    group_key,
    report_id_of,
)
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
            "group_key": group_key(n, GROUPED_TYPES),
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


SAMPLE_ACCOUNTS = 8  # as Mastodon: the newest senders a group names


@dataclass
class GroupedPage:
    """Mastodon's GroupedNotificationsResults, with the bounds of the notifications it covers."""

    results: dict
    first_id: int | None
    last_id: int | None


async def grouped_notifications(session: AsyncSession, ctx: AppContext, page: NotificationPage, viewer_id: int,
                                *, limit: int, grouped_types: Sequence[str], oldest_first: bool = False
                                ) -> GroupedPage:
    """Group one page of notifications (newest first) into at most `limit` groups. The groups cover an
    unbroken run of notifications: when a further group would not fit, the run ends before it (at its
    newest end when paging back up, `oldest_first`), and the bounds say where the next page starts."""
    views = page.items
    notes = {str(v.notification.id): v.notification for v in views}
    entities = await notification_entities(session, ctx, views, viewer_id)
    walk = list(reversed(entities)) if oldest_first else entities
    groups: dict[str, list[dict]] = {}
    first_id, last_id = page.first_id, page.last_id
    for index, entity in enumerate(walk):
        key = group_key(notes[entity["id"]], grouped_types)
        if key not in groups and len(groups) >= limit:
            kept = walk[:index]
            if oldest_first:
                first_id = max(int(e["id"]) for e in kept)
            else:
                last_id = min(int(e["id"]) for e in kept)
            break
        groups.setdefault(key, []).append(entity)
    accounts: dict[str, dict] = {}
    statuses: dict[str, dict] = {}
    out = []
    for key, members in groups.items():
        members.sort(key=lambda e: int(e["id"]), reverse=True)
        newest = members[0]
        senders = list(dict.fromkeys(e["account"]["id"] for e in members))[:SAMPLE_ACCOUNTS]
        for e in members:
            if e["account"]["id"] in senders:
                accounts.setdefault(e["account"]["id"], e["account"])
        group = {"group_key": key, "notifications_count": len(members), "type": newest["type"],
                 "most_recent_notification_id": newest["id"], "page_min_id": members[-1]["id"],
                 "page_max_id": newest["id"], "latest_page_notification_at": newest["created_at"],
                 "sample_account_ids": senders, "status_id": None}
        if "status" in newest:
            group["status_id"] = newest["status"]["id"]
            statuses.setdefault(newest["status"]["id"], newest["status"])
        for extra in ("report", "moderation_warning"):
            if extra in newest:
                group[extra] = newest[extra]
        out.append(group)
    out.sort(key=lambda g: int(g["most_recent_notification_id"]), reverse=True)
    return GroupedPage({"accounts": list(accounts.values()), "statuses": list(statuses.values()),
                        "notification_groups": out}, first_id, last_id)
