"""Trends over a sliding window: hashtags by how many accounts used them each day, statuses by their
recent boosts and favourites, both decaying with age. Rankings do not depend on who reads them, so
they are computed once and kept in this process for a short while."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import distinct, func, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from starling import clock, ids
from starling.accounts.models import Account
from starling.posts.models import PUBLIC, Favourite, Status, StatusTag, Tag

WINDOW_DAYS = 7
DECAY_PER_DAY = 0.5  # a use a day old counts half as much as one today
CACHE_SECONDS = 120
RANKED_MAX = 200
DAY_MS = 86_400_000
_ID_PER_DAY = DAY_MS << 16  # IDs carry milliseconds in their high bits

_cache: dict[tuple, tuple[float, Any]] = {}


def clear_cache() -> None:
    """Forget every cached ranking (tests, or an operator who wants fresh trends now)."""
    _cache.clear()


async def _cached(key: tuple, compute: Callable[[], Awaitable[Any]], use_cache: bool) -> Any:
    now = time.monotonic()
    hit = _cache.get(key)
    if use_cache and hit is not None and hit[0] > now:
        return hit[1]
    value = await compute()
    _cache[key] = (now + CACHE_SECONDS, value)
    return value


def _today() -> int:
    return int(clock.now().timestamp() * 1000) // DAY_MS


@dataclass(frozen=True)
class DayUse:
    day: int  # Unix time of the day's start (UTC)
    uses: int
    accounts: int


async def tag_histories(session: AsyncSession, tag_ids: Collection[int],
                        days: int = WINDOW_DAYS) -> dict[int, list[DayUse]]:
    """Per tag, the last `days` days (newest first): public statuses using it and distinct accounts."""
    today = _today()
    first = today - days + 1
    counts: dict[tuple[int, int], tuple[int, int]] = {}
    if tag_ids:
        day = (Status.id // _ID_PER_DAY).label("day")
        rows = await session.execute(
            select(StatusTag.tag_id, day, func.count(Status.id), func.count(distinct(Status.account_id)))
            .join(Status, Status.id == StatusTag.status_id)
            .where(StatusTag.tag_id.in_(set(tag_ids)), Status.id >= first * _ID_PER_DAY,
                   Status.visibility == PUBLIC, Status.reblog_of_id.is_(None))
            .group_by(StatusTag.tag_id, day))
        counts = {(tag_id, d): (uses, accounts) for tag_id, d, uses, accounts in rows}
    return {tag_id: [DayUse(d * 86_400, *counts.get((tag_id, d), (0, 0)))
                     for d in range(today, first - 1, -1)]
            for tag_id in tag_ids}


async def _rank_tags(session: AsyncSession) -> list[int]:
    today = _today()
    first = today - WINDOW_DAYS + 1
    day = (Status.id // _ID_PER_DAY).label("day")
    rows = await session.execute(
        select(StatusTag.tag_id, day, func.count(distinct(Status.account_id)))
        .join(Status, Status.id == StatusTag.status_id)
        .join(Account, Account.id == Status.account_id)
        .where(Status.id >= first * _ID_PER_DAY, Status.visibility == PUBLIC, Status.reblog_of_id.is_(None),
               Account.suspended_at.is_(None), Account.discoverable.is_(True),
               # Quarantined spam and limited accounts must not push a hashtag into trends.
               Status.quarantined.is_(False), Account.silenced_at.is_(None))
        .group_by(StatusTag.tag_id, day))
    scores: dict[int, float] = defaultdict(float)
    for tag_id, d, accounts in rows:
        scores[tag_id] += accounts * DECAY_PER_DAY ** max(today - d, 0)
    return sorted(scores, key=lambda t: (-scores[t], -t))[:RANKED_MAX]


async def _rank_statuses(session: AsyncSession) -> list[int]:
    now = clock.now()
    since = now - timedelta(days=WINDOW_DAYS)
    floor = ids.id_floor(since)
    interactions = union_all(
        select(Status.reblog_of_id.label("status_id"))
        .where(Status.reblog_of_id.is_not(None), Status.id >= floor),
        select(Favourite.status_id.label("status_id")).where(Favourite.created_at >= clock.to_naive(since)),
    ).subquery()
    rows = await session.execute(
        select(Status.id, func.count())
        .join(interactions, interactions.c.status_id == Status.id)
        .join(Account, Account.id == Status.account_id)
        .where(Status.id >= floor, Status.visibility == PUBLIC, Status.reblog_of_id.is_(None),
               Account.suspended_at.is_(None), Account.discoverable.is_(True))
        .group_by(Status.id))
    now_ms = int(now.timestamp() * 1000)
    scores = {sid: count * DECAY_PER_DAY ** max((now_ms - (sid >> 16)) / DAY_MS, 0) for sid, count in rows}
    return sorted(scores, key=lambda s: (-scores[s], -s))[:RANKED_MAX]


async def trending_tags(session: AsyncSession, *, scope: str, limit: int, offset: int = 0,
                        use_cache: bool = True) -> list[tuple[Tag, list[DayUse]]]:
    """A slice of the trending hashtags with their history. `scope` names the database the ranking
    belongs to (the cache key)."""
    ranked = await _cached(("tags", scope, _today()), lambda: _rank_tags(session), use_cache)
    wanted = ranked[offset:offset + limit]
    if not wanted:
        return []
    tags = {t.id: t for t in await session.scalars(select(Tag).where(Tag.id.in_(wanted)))}
    histories = await tag_histories(session, list(tags))
    return [(tags[t], histories[t]) for t in wanted if t in tags]


async def trending_status_ids(session: AsyncSession, *, scope: str, limit: int, offset: int = 0,
                              use_cache: bool = True) -> list[int]:
    """A slice of the trending statuses' IDs, best first."""
    ranked = await _cached(("statuses", scope, _today()), lambda: _rank_statuses(session), use_cache)
    return ranked[offset:offset + limit]
