"""Notifications: created idempotently, filtered by blocks and mutes, listed and dismissed; and the
read-position markers clients keep for the home timeline and the notifications list.

Creation is idempotent through Notification.dedupe_key ("type:sender:status"), so a retried job or a
repeated request adds nothing. Who may be notified is decided when the row is written (blocks, mutes
with notifications hidden, suspended recipients) and again when it is read, because a block or a mute
made later hides what came before it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from starling import clock, ids
from starling.accounts import repository as accounts
from starling.accounts.models import Account
from starling.errors import NotFound, Unprocessable
from starling.graph import repository as graph
from starling.notifications import repository
from starling.notifications.models import Marker, Notification
from starling.posts import repository as posts
from starling.posts.models import PRIVATE, PUBLIC, UNLISTED, Status
from starling.streaming import events as stream_events

TYPES = ("mention", "status", "reblog", "follow", "follow_request", "favourite", "poll", "update",
         "admin.sign_up", "admin.report", "moderation_warning")
STATUS_TYPES = frozenset({"mention", "status", "reblog", "favourite", "poll", "update"})
MARKER_TIMELINES = ("home", "notifications")


def dedupe_key(type: str, from_id: int, status_id: int | None = None, extra: str = "") -> str:
    """The key that makes one event produce one notification."""
    key = f"{type}:{from_id}:{status_id or ''}"
    return f"{key}:{extra}" if extra else key


def _row(recipient_id: int, from_id: int, type: str, status_id: int | None, key: str, now) -> dict[str, Any]:
    return dict(id=ids.new_id(), account_id=recipient_id, from_account_id=from_id, type=type,
                status_id=status_id, dedupe_key=key, created_at=now)


async def _add(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Write notifications (duplicates skipped) and announce them to the streaming API."""
    await repository.add_many(session, rows)
    stream_events.notifications_created(session, [(row["id"], row["account_id"]) for row in rows])


async def _deliverable(session: AsyncSession, sender_id: int, recipients: Iterable[int],
                       conversation_id: int | None = None) -> list[int]:
    """Recipients who want to hear from `sender_id`: not the sender, no block either way, no mute that
    hides notifications, and (for an event in `conversation_id`) no mute of that conversation. Three
    queries at most for any number of recipients."""
    wanted = list(dict.fromkeys(r for r in recipients if r != sender_id))
    if not wanted:
        return []
    refused = await graph.blockers_among(session, sender_id, wanted)
    refused |= await graph.notification_muters_among(session, sender_id, wanted)
    if conversation_id is not None:
        refused |= await posts.conversation_muters_among(session, conversation_id, wanted)
    return [r for r in wanted if r not in refused]


async def notify(session: AsyncSession, *, recipient_id: int, from_id: int, type: str,
                 status_id: int | None = None, conversation_id: int | None = None) -> None:
    """Create one notification unless it exists, is to oneself, or the recipient blocks/mutes the sender
    or muted `conversation_id` (the conversation of the status it is about)."""
    if type not in TYPES:
        raise ValueError(f"unknown notification type {type!r}")
    if not await _deliverable(session, from_id, [recipient_id], conversation_id):
        return
    if await repository.is_suspended(session, recipient_id):
        return
    await _add(session, [_row(recipient_id, from_id, type, status_id, dedupe_key(type, from_id, status_id),
                              clock.utcnow_naive())])


async def notify_moderation(session: AsyncSession, *, recipient_id: int, from_id: int, key: str) -> None:
    """A moderation notice (`moderation_warning`, its warning named by `key`): delivered whatever the
    recipient blocks or mutes, since it concerns their own account."""
    await repository.add_many(session, [_row(recipient_id, from_id, "moderation_warning", None, key,
                                             clock.utcnow_naive())])


REPORT_TYPE = "admin.report"


def report_key(reporter_id: int, report_id: int) -> str:
    """The dedupe key of an `admin.report` notification; it ends with the report's id."""
    return dedupe_key(REPORT_TYPE, reporter_id, None, str(report_id))


def report_id_of(key: str) -> int | None:
    """The report an `admin.report` notification points to."""
    tail = key.rsplit(":", 1)[-1]
    return int(tail) if tail.isdigit() else None


async def notify_staff_of_report(session: AsyncSession, *, reporter_id: int, report_id: int,
                                 exclude: Iterable[int] = ()) -> int:
    """`admin.report` to every active moderator and admin but the reporter and those in `exclude` (the
    reported account): one insert for all of them, in the transaction that files the report. Blocks and
    mutes are not asked here (reading applies them, as for every notification). Returns how many."""
    left_out = {reporter_id, *exclude}
    now = clock.utcnow_naive()
    rows = [_row(staff_id, reporter_id, REPORT_TYPE, None, report_key(reporter_id, report_id), now)
            for staff_id in await repository.active_staff_ids(session) if staff_id not in left_out]
    if rows:
        await _add(session, rows)
    return len(rows)


async def withdraw(session: AsyncSession, *, recipient_id: int, from_id: int, type: str,
                   status_id: int | None = None) -> None:
    """Remove the notification an undone action created (unfollow, unfavourite, unboost...)."""
    await repository.delete_by_key(session, recipient_id, dedupe_key(type, from_id, status_id))


async def purge_from(session: AsyncSession, *, recipient_id: int, from_id: int) -> None:
    """Remove every notification `recipient_id` has from `from_id` (after a block)."""
    await repository.delete_from(session, recipient_id, from_id)


async def notify_new_status(session: AsyncSession, status: Status) -> None:
    """Mentions in a new status, and `status` notifications to followers who asked for them."""
    if status.reblog_of_id is not None:
        return  # a boost notifies its original's author through `reblog`, created by the boost itself
    author_id = status.account_id
    now = clock.utcnow_naive()
    mentioned = await repository.mentioned_account_ids(session, status.id)
    wanted: list[tuple[int, str]] = [(r, "mention") for r in mentioned]
    # Followers see public, unlisted and followers-only statuses; a reply to someone else is a
    # conversation, not news (Mastodon's rule for `status` notifications).
    newsworthy = status.visibility in (PUBLIC, UNLISTED, PRIVATE) and (
        status.in_reply_to_account_id is None or status.in_reply_to_account_id == author_id)
    if newsworthy:
        wanted += [(r, "status") for r in await graph.notifying_follower_ids(session, author_id)]
    allowed = set(await _deliverable(session, author_id, [r for r, _ in wanted], posts.conversation_of(status)))
    await _add(session, [_row(r, author_id, kind, status.id, dedupe_key(kind, author_id, status.id), now)
                         for r, kind in wanted if r in allowed])


async def notify_status_edited(session: AsyncSession, status: Status) -> None:
    """`update` notifications to everyone who boosted an edited status (one per edit)."""
    author_id = status.account_id
    edit = str(int((status.edited_at or clock.utcnow_naive()).timestamp() * 1000))
    recipients = await _deliverable(session, author_id, await repository.booster_ids(session, status.id),
                                    posts.conversation_of(status))
    now = clock.utcnow_naive()
    await _add(session, [_row(r, author_id, "update", status.id, dedupe_key("update", author_id, status.id, edit),
                              now) for r in recipients])


# --- reading ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class NotificationView:
    """A notification ready to render: its sender and, for status types, the status the reader may see."""

    notification: Notification
    account: Account
    status: Status | None


@dataclass(frozen=True)
class NotificationPage:
    items: list[NotificationView]
    # Bounds of the rows read, before the visibility filter, so pagination never skips or repeats.
    first_id: int | None
    last_id: int | None
    full: bool = False  # the page read as many rows as it asked for: older ones may follow


def _strings(values: Sequence[str]) -> list[str]:
    return [v for v in values if isinstance(v, str)]


async def _views(session: AsyncSession, rows: list[Notification], viewer_id: int) -> list[NotificationView]:
    """Attach senders and statuses in a fixed number of queries; drop what the viewer may no longer see."""
    status_ids = [n.status_id for n in rows if n.status_id is not None]
    visible: dict[int, Status] = {}
    if status_ids:
        # Imported here: posts' service may notify through this module, so the import must not be circular.
        from starling.posts import service as posts
        visible = {s.id: s for s in await posts.visible_statuses(session, list(dict.fromkeys(status_ids)),
                                                                 viewer_id)}
    senders = await accounts.by_ids(session, {n.from_account_id for n in rows})
    views = []
    for n in rows:
        sender = senders.get(n.from_account_id)
        if sender is None:
            continue
        if n.status_id is not None:
            status = visible.get(n.status_id)
            if status is None:
                continue
            views.append(NotificationView(n, sender, status))
        else:
            views.append(NotificationView(n, sender, None))
    return views


# --- grouped notifications (Mastodon's /api/v2/notifications) -----------------------------------------

GROUPED_TYPES = ("favourite", "follow", "reblog")  # what Mastodon groups unless asked otherwise
UNGROUPED = "ungrouped"
SECONDS_PER_DAY = 86_400
LAST_DAY = 2_932_895  # 9999-12-30: the day after it is the last a datetime holds; a later follow key names nothing


def group_key(notification: Notification, grouped_types: Iterable[str] = GROUPED_TYPES) -> str:
    """Mastodon's group key: favourites and boosts of one status group together, follows of one (UTC)
    day; every other notification, or any of a type not in `grouped_types`, is a group of its own."""
    kind = notification.type
    if kind in grouped_types:
        if kind in ("favourite", "reblog") and notification.status_id is not None:
            return f"{kind}-{notification.status_id}"
        if kind == "follow":
            day = int(notification.created_at.replace(tzinfo=UTC).timestamp()) // SECONDS_PER_DAY
            return f"follow-{day}"
    return f"{UNGROUPED}-{notification.id}"


def group_query(account_id: int, key: str):
    """The browsable notifications a group key names, or None for a key that names no group."""
    kind, _, tail = key.rpartition("-")
    value = ids.parse_id(tail)
    if value is None:
        return None
    stmt = repository.browsable_query(account_id)
    if kind == UNGROUPED:
        return stmt.where(Notification.id == value)
    if kind in ("favourite", "reblog"):
        return stmt.where(Notification.type == kind, Notification.status_id == value)
    if kind == "follow" and value <= LAST_DAY:
        start = datetime.fromtimestamp(value * SECONDS_PER_DAY, UTC).replace(tzinfo=None)
        return stmt.where(Notification.type == "follow", Notification.created_at >= start,
                          Notification.created_at < start + timedelta(days=1))
    return None


async def group_views(session: AsyncSession, account_id: int, key: str, limit: int = 80) -> list[NotificationView]:
    """The newest `limit` notifications of one of the account's groups that it may still see, newest first;
    NotFound when there are none (an unknown key, or one of somebody else's)."""
    stmt = group_query(account_id, key)
    if stmt is None:
        raise NotFound()
    rows = list((await session.scalars(stmt.order_by(Notification.id.desc()).limit(limit))).all())
    views = await _views(session, rows, account_id) if rows else []
    if not views:
        raise NotFound()
    return views


async def dismiss_group(session: AsyncSession, account_id: int, key: str) -> None:
    """Delete every notification of one of the account's groups; NotFound when it has none."""
    stmt = group_query(account_id, key)
    found = list(await session.scalars(stmt.with_only_columns(Notification.id))) if stmt is not None else []
    if not await repository.delete_ids(session, account_id, found):
        raise NotFound()


async def unread_group_count(session: AsyncSession, account_id: int, *, limit: int,
                             grouped_types: Iterable[str] = GROUPED_TYPES) -> int:
    """How many groups the shown notifications newer than the `notifications` marker make (the newest
    `limit` notifications are looked at)."""
    after = await repository.marker_position(session, account_id, "notifications")
    stmt = repository.browsable_query(account_id).where(Notification.id > after)
    rows = (await session.scalars(stmt.order_by(Notification.id.desc()).limit(limit))).all()
    grouped = tuple(grouped_types)
    return len({group_key(n, grouped) for n in rows})


async def list_notifications(session: AsyncSession, account_id: int, page: Any, *, types: Sequence[str] = (),
                             exclude_types: Sequence[str] = (), from_account_id: int | None = None
                             ) -> NotificationPage:
    """A page of `account_id`'s notifications, newest first (`page` is the API's Page)."""
    stmt = repository.browsable_query(account_id, types=_strings(types),
                                      exclude_types=_strings(exclude_types), from_account_id=from_account_id)
    rows = list((await session.scalars(page.apply(stmt, Notification.id))).all())
    rows = page.order(rows, key=lambda n: n.id)
    if not rows:
        return NotificationPage([], None, None)
    return NotificationPage(await _views(session, rows, account_id), rows[0].id, rows[-1].id,
                            full=len(rows) >= page.limit)


async def get_notification(session: AsyncSession, account_id: int, notification_id: int) -> NotificationView:
    """One of `account_id`'s notifications; 404 when it is not theirs or no longer shown."""
    stmt = repository.browsable_query(account_id).where(Notification.id == notification_id)
    row = await session.scalar(stmt)
    views = await _views(session, [row], account_id) if row is not None else []
    if not views:
        raise NotFound()
    return views[0]


async def dismiss(session: AsyncSession, account_id: int, notification_id: int) -> None:
    """Delete one notification; 404 when it is not the account's."""
    if not await repository.delete_one(session, account_id, notification_id):
        raise NotFound()


async def clear(session: AsyncSession, account_id: int) -> None:
    """Delete all of the account's notifications."""
    await repository.delete_all(session, account_id)


async def unread_count(session: AsyncSession, account_id: int, *, limit: int, types: Sequence[str] = (),
                       exclude_types: Sequence[str] = (), from_account_id: int | None = None) -> int:
    """Shown notifications newer than the `notifications` marker, counting at most `limit`."""
    after = await repository.marker_position(session, account_id, "notifications")
    stmt = repository.browsable_query(account_id, types=_strings(types),
                                      exclude_types=_strings(exclude_types), from_account_id=from_account_id)
    return await repository.count_newer(session, stmt, after, limit)


# --- markers ---------------------------------------------------------------------------------------

async def get_markers(session: AsyncSession, account_id: int, timelines: Iterable[str]) -> list[Marker]:
    """The account's markers for the named timelines (unknown names are ignored)."""
    return await repository.markers_of(session, account_id, [t for t in timelines if t in MARKER_TIMELINES])


async def save_markers(session: AsyncSession, account_id: int, positions: dict[str, int]) -> list[Marker]:
    """Move markers to new positions, bumping each one's version; returns the saved markers."""
    if not positions:
        raise Unprocessable("Validation failed: give home[last_read_id] or notifications[last_read_id]")
    now = clock.utcnow_naive()
    for timeline, last_read_id in positions.items():
        if timeline not in MARKER_TIMELINES:
            raise Unprocessable(f"Validation failed: unknown timeline {timeline}")
        await repository.save_marker(session, account_id, timeline, last_read_id, now)
    return await repository.markers_of(session, account_id, positions)


async def mark_read(session: AsyncSession, account_id: int, up_to_id: int) -> bool:
    """Move the `notifications` marker forward to `up_to_id` (never back: an app may have read further).
    Returns whether it moved."""
    if up_to_id <= await repository.marker_position(session, account_id, "notifications"):
        return False
    await repository.save_marker(session, account_id, "notifications", up_to_id, clock.utcnow_naive())
    return True
