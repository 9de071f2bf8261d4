"""Using Redis as a cache without ever depending on it.

Every Redis call in Starling goes through `guard(redis)`: a Redis that stops answering costs one short
timeout (infra.redis sets 0.25 s), then a circuit opens and for `OPEN_SECONDS` every caller is told at
once that Redis is unavailable, so it takes its SQL path without waiting. The first call after that
period tries Redis again. Callers catch `RedisUnavailable` and answer from SQL.

`forget_after_commit(session, *keys)` deletes cached entries once the session's transaction has
committed, before the response goes out: deleting them before the commit would let a concurrent reader
put the old value back from the database before the change is visible there.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from redis import exceptions as redis_errors
from redis.asyncio import Redis
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.util import await_only

log = logging.getLogger("starling.cache")

OPEN_SECONDS = 5.0
FAILURES = (redis_errors.RedisError, OSError, asyncio.TimeoutError)


class RedisUnavailable(Exception):
    """Redis did not answer (or failed recently and the circuit is open): use the SQL path."""


class Circuit:
    """Open for a while after a failure: callers skip Redis instead of each paying the timeout."""

    def __init__(self, open_seconds: float = OPEN_SECONDS):
        self.open_seconds = open_seconds
        self.open_until = 0.0
        self.failures = 0

    def allows(self) -> bool:
        return time.monotonic() >= self.open_until

    def trip(self) -> None:
        self.failures += 1
        self.open_until = time.monotonic() + self.open_seconds

    def reset(self) -> None:
        self.open_until = 0.0


_circuits: weakref.WeakKeyDictionary[Redis, Circuit] = weakref.WeakKeyDictionary()


def circuit(redis: Redis) -> Circuit:
    """The circuit of one client (one per process and Redis URL)."""
    found = _circuits.get(redis)
    if found is None:
        found = _circuits[redis] = Circuit()
    return found


def usable(redis: Redis | None) -> bool:
    """Whether to try Redis now: configured, and its circuit is not open."""
    return redis is not None and circuit(redis).allows()


@asynccontextmanager
async def guard(redis: Redis | None) -> AsyncIterator[Redis]:
    """`async with guard(redis) as r:` runs Redis calls, turning any Redis failure (and an open circuit,
    or no Redis at all) into RedisUnavailable and opening the circuit on a failure."""
    if redis is None:
        raise RedisUnavailable("Redis is not configured")
    state = circuit(redis)
    if not state.allows():
        raise RedisUnavailable("Redis failed recently; not retrying yet")
    try:
        yield redis
    except FAILURES as exc:
        state.trip()
        log.warning("Redis unavailable (%s: %s); using SQL for %ss", type(exc).__name__, exc, state.open_seconds)
        raise RedisUnavailable(str(exc)) from exc


def key(settings: Any, *parts: object) -> str:
    """A Redis key under the instance prefix: key(settings, "feed", 42) -> "starling:feed:42"."""
    return settings.redis_prefix + ":".join(str(p) for p in parts)


def redis_of(session: AsyncSession) -> Redis | None:
    """The Redis client every session of the instance carries (None without Redis)."""
    return session.info.get("redis")


async def forget(redis: Redis | None, keys: list[str]) -> None:
    """Delete cached entries now; a Redis that is down has nothing to forget (and fills again only from
    SQL), so failures are ignored."""
    if not keys or not usable(redis):
        return
    try:
        async with guard(redis) as r:
            await r.delete(*keys)
    except RedisUnavailable:
        pass


_PENDING = "cache_forget"


def forget_after_commit(session: AsyncSession, *keys: str) -> None:
    """Delete these cached entries when the session's transaction commits (see the module's note)."""
    if redis_of(session) is None or not keys:
        return
    pending: set[str] | None = session.info.get(_PENDING)
    if pending is None:
        pending = session.info[_PENDING] = set()
        event.listen(session.sync_session, "after_commit", _after_commit, once=True)
        event.listen(session.sync_session, "after_rollback", _after_rollback, once=True)
    pending.update(keys)


def _after_commit(sync_session: Any) -> None:
    keys = sync_session.info.pop(_PENDING, None)
    _drop_listener(sync_session, "after_rollback", _after_rollback)
    if keys:
        # Commit runs inside SQLAlchemy's greenlet bridge, so the async delete can be awaited here. The
        # data is committed already: nothing here may fail the caller (a sync commit outside the bridge
        # leaves the entries to expire).
        try:
            await_only(forget(sync_session.info.get("redis"), sorted(keys)))
        except Exception:
            log.exception("could not forget %s cached entries after commit", len(keys))


def _after_rollback(sync_session: Any) -> None:
    if sync_session.info.pop(_PENDING, None) is not None:
        _drop_listener(sync_session, "after_commit", _after_commit)


def _drop_listener(sync_session: Any, name: str, fn: Any) -> None:
    if event.contains(sync_session, name, fn):
        event.remove(sync_session, name, fn)


# --- shared entity cache keys (filled by api.entities.hydration) ------------------------------------------

def status_key(settings: Any, status_id: int) -> str:
    """A status's rendered, reader-independent content."""
    return key(settings, "status", status_id)


def account_key(settings: Any, account_id: int) -> str:
    """An account's rendered entity."""
    return key(settings, "account", account_id)


def forget_statuses(session: AsyncSession, *status_ids: int) -> None:
    """After this transaction commits, no process reads these statuses' content from Redis."""
    settings = session.info.get("settings")
    if settings is not None:
        forget_after_commit(session, *(status_key(settings, s) for s in status_ids))


def forget_accounts(session: AsyncSession, *account_ids: int) -> None:
    """After this transaction commits, no process reads these accounts' entities from Redis."""
    settings = session.info.get("settings")
    if settings is not None:
        forget_after_commit(session, *(account_key(settings, a) for a in account_ids))
