"""Sign-in back-off: failed sign-ins are counted per login and per address in growing windows (by
default 20 an hour and 50 a day per login, 100 an hour and 300 a day per address), so a guesser who
keeps failing is locked out for longer and longer: minutes by the database throttle, then the rest of
the hour, then the rest of the day. Counted in the shared counters; a success counts nothing."""

from __future__ import annotations

import time

from sqlalchemy.ext.asyncio import AsyncSession

from starling.config import Settings
from starling.errors import RateLimited
from starling.safety import counters
from starling.safety.ratelimit import parse_limit

MESSAGE = "Too many failed sign-in attempts; try again later"


def _tiers(spec: str) -> list[tuple[int, int]]:
    return [tier for tier in (parse_limit(part) for part in spec.split(",")) if tier]


def _keys(settings: Settings, ip_key: str, login_key: str, now: int) -> list[tuple[str, int, int, int]]:
    """(counter key, limit, window end, ttl) for every tier that applies."""
    keys = []
    for who, ident, spec in (("login", login_key, settings.login_backoff_per_account),
                             ("ip", ip_key, settings.login_backoff_per_ip)):
        if not ident:
            continue
        for limit, period in _tiers(spec):
            window = now // period
            keys.append((f"{settings.redis_prefix}lf:{who}:{period}:{ident}:{window}", limit,
                         (window + 1) * period, period + 5))
    return keys


async def check(session: AsyncSession, settings: Settings, *, ip_key: str, login_key: str) -> None:
    """Raise RateLimited while this login or address has failed too often in any tier's window."""
    now = int(time.time())
    keys = _keys(settings, ip_key, login_key, now)
    if not keys:
        return
    failed = await counters.for_session(session).peek([key for key, _, _, _ in keys])
    waits = [reset - now for (_, limit, reset, _), count in zip(keys, failed, strict=True) if count >= limit]
    if waits:
        raise RateLimited(MESSAGE, retry_after=max(1, max(waits)))


async def failed(session: AsyncSession, settings: Settings, *, ip_key: str, login_key: str) -> None:
    """Count one failed sign-in in every tier."""
    keys = _keys(settings, ip_key, login_key, int(time.time()))
    if keys:
        await counters.for_session(session).increment([(key, 1, ttl) for key, _, _, ttl in keys])
