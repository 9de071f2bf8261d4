"""Who may see, boost and pin a status: pure rules over facts loaded in bulk by the service."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Protocol

from starling.posts.models import DIRECT, PRIVATE, PUBLIC, UNLISTED

MAX_PINS = 5


class StatusFacts(Protocol):
    id: int
    account_id: int
    visibility: int
    reblog_of_id: int | None
    quarantined: bool  # held back by the spam scorer or a moderator: its author alone sees it


@dataclass(frozen=True)
class Viewer:
    """What the rules need to know about whoever is looking (id None: logged out)."""

    id: int | None
    following: frozenset[int] = field(default_factory=frozenset)
    blocked: frozenset[int] = field(default_factory=frozenset)  # blocks in either direction
    mentioned_in: frozenset[int] = field(default_factory=frozenset)  # status ids that mention the viewer


def _may_see_one(status: StatusFacts, viewer: Viewer, suspended: Collection[int],
                 limited: Collection[int]) -> bool:
    author = status.account_id
    if author in suspended:
        return False
    if viewer.id is not None and viewer.id == author:
        return True
    if status.quarantined or author in viewer.blocked:
        return False
    # A limited account (moderation) is seen by its followers and by those it mentions, nobody else.
    if author in limited and author not in viewer.following and status.id not in viewer.mentioned_in:
        return False
    if status.visibility in (PUBLIC, UNLISTED):
        return True
    if viewer.id is None:
        return False
    if status.id in viewer.mentioned_in:
        return True
    return status.visibility == PRIVATE and author in viewer.following


def may_see(status: StatusFacts, original: StatusFacts | None, viewer: Viewer,
            suspended: Collection[int], limited: Collection[int] = ()) -> bool:
    """Whether `viewer` may see `status`; for a boost, `original` is the boosted status (None if gone).
    `limited`: authors a moderator limited (`viewer.following` and `mentioned_in` must cover theirs)."""
    if not _may_see_one(status, viewer, suspended, limited):
        return False
    if status.reblog_of_id is None:
        return True
    return original is not None and _may_see_one(original, viewer, suspended, limited)


def may_boost(status: StatusFacts, account_id: int) -> bool:
    """Public and unlisted posts may be boosted by anyone who sees them; private ones only by their
    author; direct ones never. `status` is the original, not a boost."""
    if status.visibility == DIRECT:
        return False
    return status.visibility != PRIVATE or status.account_id == account_id


def boost_visibility(original: StatusFacts, requested: int) -> int:
    """A boost of a private post stays private; otherwise the booster chooses."""
    return original.visibility if original.visibility in (PRIVATE, DIRECT) else requested


def pin_refusal(status: StatusFacts, account_id: int, pinned_count: int) -> str | None:
    """Why `account_id` may not pin `status`, or None when it may."""
    if status.reblog_of_id is not None:
        return "Validation failed: Reblogs cannot be pinned"
    if status.account_id != account_id:
        return "Validation failed: Only your own posts can be pinned"
    if status.visibility not in (PUBLIC, UNLISTED):
        return "Validation failed: Private and direct posts cannot be pinned"
    if pinned_count >= MAX_PINS:
        return f"Validation failed: You cannot pin more than {MAX_PINS} posts"
    return None
