"""Counters every process of the instance shares: rate-limit windows, daily read caps, single-use claims.

Redis holds them when it is configured (one Lua call per request: every key incremented and given its
expiry in one round trip). Otherwise, or while Redis does not answer, a small SQLite file beside the
database holds them: its own file and its own lock (never the main database's writer lock), WAL with
synchronous=OFF, because a lost counter after a power cut costs nothing. A request costs one upsert
statement there (tens of microseconds; docs/safety.md has the measurement).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger("starling.safety")

# KEYS: the counters; ARGV: cost and time-to-live for each, in turn. Returns the new counts.
_INCREMENT = """
local out = {}
for i, key in ipairs(KEYS) do
  local cost = tonumber(ARGV[2 * i - 1])
  local n = redis.call('INCRBY', key, cost)
  if n == cost then redis.call('EXPIRE', key, ARGV[2 * i]) end
  out[i] = n
end
return out
"""
REDIS_RETRY_SECONDS = 5.0
SWEEP_SECONDS = 60.0


class LocalCounters:
    """Counters in a SQLite file that every process on this machine opens (one connection each)."""

    def __init__(self, path: Path):
        self.path = path
        self._conn: sqlite3.Connection | None = None
        self._pid = 0
        self._next_sweep = 0.0

    def _connection(self) -> sqlite3.Connection:
        # One connection per process: a forked worker must not share its parent's.
        if self._conn is None or self._pid != os.getpid():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=2.0)
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = OFF")
            conn.execute("CREATE TABLE IF NOT EXISTS counters (key TEXT PRIMARY KEY, n INTEGER NOT NULL, "
                         "expires REAL NOT NULL) WITHOUT ROWID")
            self._conn, self._pid = conn, os.getpid()
        return self._conn

    def increment(self, items: Sequence[tuple[str, int, int]]) -> list[int]:
        """Add each cost to its key (created with its time-to-live); the new counts, in order. One
        statement, so one implicit transaction, whatever the number of keys."""
        conn = self._connection()
        now = time.time()
        merged: dict[str, list] = {}
        for key, cost, ttl in items:
            if key in merged:
                merged[key][1] += cost
            else:
                merged[key] = [key, cost, now + ttl]
        rows = conn.execute(
            "INSERT INTO counters (key, n, expires) VALUES " + ",".join(["(?, ?, ?)"] * len(merged))
            + " ON CONFLICT (key) DO UPDATE SET n = n + excluded.n RETURNING key, n",
            [value for row in merged.values() for value in row]).fetchall()
        counts = dict(rows)
        if now >= self._next_sweep:
            self._next_sweep = now + SWEEP_SECONDS
            conn.execute("DELETE FROM counters WHERE expires < ?", (now,))
        return [counts[key] for key, _, _ in items]

    def peek(self, keys: Sequence[str]) -> list[int]:
        conn = self._connection()
        now = time.time()
        out = []
        for key in keys:
            row = conn.execute("SELECT n FROM counters WHERE key = ? AND expires >= ?", (key, now)).fetchone()
            out.append(row[0] if row else 0)
        return out

    def claim(self, key: str, ttl: int) -> bool:
        """True the first time `key` is claimed within its time-to-live, False after."""
        conn = self._connection()
        now = time.time()
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute("DELETE FROM counters WHERE key = ? AND expires < ?", (key, now))
            cursor = conn.execute("INSERT OR IGNORE INTO counters (key, n, expires) VALUES (?, 1, ?)",
                                  (key, now + ttl))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return cursor.rowcount == 1

    def close(self) -> None:
        if self._conn is not None and self._pid == os.getpid():
            self._conn.close()
        self._conn = None


class Counters:
    """Redis when it is configured and answering, the local file otherwise. A Redis that stops
    answering is logged and skipped for a few seconds (limits keep holding, per machine, meanwhile)."""

    def __init__(self, redis: Redis | None, local: LocalCounters):
        self.redis = redis
        self.local = local
        self._script = redis.register_script(_INCREMENT) if redis is not None else None
        self._redis_down_until = 0.0
        self.fallbacks = 0

    def _redis_usable(self) -> bool:
        return self.redis is not None and time.monotonic() >= self._redis_down_until

    def _redis_failed(self, exc: Exception) -> None:
        self.fallbacks += 1
        self._redis_down_until = time.monotonic() + REDIS_RETRY_SECONDS
        log.warning("rate-limit counters: Redis failed (%s); counting locally for %.0f s", exc,
                    REDIS_RETRY_SECONDS)

    async def increment(self, items: Sequence[tuple[str, int, int]]) -> list[int]:
        """Add (key, cost, ttl seconds) to each counter; returns the new counts."""
        if not items:
            return []
        if self._redis_usable():
            args = [value for _, cost, ttl in items for value in (cost, ttl)]
            try:
                return [int(n) for n in await self._script(keys=[k for k, _, _ in items], args=args)]
            except (RedisError, OSError) as exc:
                self._redis_failed(exc)
        return self.local.increment(items)

    async def peek(self, keys: Sequence[str]) -> list[int]:
        """The current counts, 0 for keys that do not exist."""
        if self._redis_usable():
            try:
                return [int(v or 0) for v in await self.redis.mget(list(keys))]
            except (RedisError, OSError) as exc:
                self._redis_failed(exc)
        return self.local.peek(keys)

    async def claim(self, key: str, ttl: int) -> bool:
        """True for the first caller to claim `key` within `ttl` seconds, on every process."""
        if self._redis_usable():
            try:
                return bool(await self.redis.set(key, 1, ex=ttl, nx=True))
            except (RedisError, OSError) as exc:
                self._redis_failed(exc)
        return self.local.claim(key, ttl)


_by_session_info: dict[tuple[str, int], Counters] = {}


def for_session(session) -> Counters:
    """The counters for service code that has a session (whose info carries settings and Redis)."""
    settings, redis = session.info["settings"], session.info.get("redis")
    key = (str(settings.data_dir), id(redis))
    found = _by_session_info.get(key)
    if found is None or found.redis is not redis:
        if len(_by_session_info) > 32:
            _by_session_info.pop(next(iter(_by_session_info)))
        found = _by_session_info[key] = Counters(redis, LocalCounters(settings.data_dir / "counters.sqlite3"))
    return found


def for_context(ctx) -> Counters:
    """The instance's counters, built once per AppContext."""
    counters = ctx.extras.get("safety.counters")
    if counters is None:
        counters = Counters(ctx.redis, LocalCounters(ctx.settings.data_dir / "counters.sqlite3"))
        ctx.extras["safety.counters"] = counters
    return counters
