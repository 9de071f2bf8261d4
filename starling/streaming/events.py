"""What domain code announces for the streaming API: small facts, not rendered entities. Each process
turns them into entities for its own listeners, as each listener may see them (see streaming.hub).
Every function here ties the announcement to the caller's transaction (infra.pubsub.publish)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from starling.infra import pubsub

STATUS, DELETE, NOTIFICATION = "status", "delete", "notification"


def status_delivered(session: AsyncSession, status_id: int, *, edited: bool = False) -> None:
    """A status (or boost) is in its readers' feeds now, or was edited: `update` / `status.update`."""
    pubsub.publish(session, {"kind": STATUS, "id": status_id, "edited": edited})


def statuses_deleted(session: AsyncSession, status_ids: Iterable[int], *, author_id: int,
                     visibility: int, audience: Iterable[int]) -> None:
    """Statuses are gone: `delete`. The rows are, too, so the event carries who may have seen them:
    their author's followers are found at delivery; `audience` adds boosters and mentioned accounts."""
    pubsub.publish(session, {"kind": DELETE, "ids": list(status_ids), "author": author_id,
                             "visibility": visibility, "audience": sorted(set(audience))})


def notifications_created(session: AsyncSession, rows: Iterable[tuple[int, int]]) -> None:
    """Notifications were written ((notification id, recipient id) pairs; ones skipped as duplicates are
    simply not found at delivery)."""
    items = [[n, recipient] for n, recipient in rows]
    if items:
        pubsub.publish(session, {"kind": NOTIFICATION, "items": items})
