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


FLUSH_SECONDS = 1.0
# A rate-limit counter is counted in batches while it stays within this share of its limit, exactly
# (one round trip per request) beyond it.
BATCH_SHARE = 0.25
TALLY_MEMORY = 100_000


class Tally:
    """One process's view of the shared counters, with its own additions batched: added locally and
    sent to the store in one round trip every FLUSH_SECONDS (by whichever request comes after that), the
    store answering with the shared totals. What a process reads is the last shared total it saw plus
    what it added since, so a process always sees its own counts at once and other processes' at most
    about a second late.

    `add` takes a batch limit per counter: while every counter of a call stays within its batch limit
    the call is counted locally; otherwise the call goes to the store at once with everything pending for
    its counters (exact, as without batching). docs/safety.md gives the bound this puts on overshoot."""

    def __init__(self, counters: Counters, flush_seconds: float = FLUSH_SECONDS):
        self.counters = counters
        self.flush_seconds = flush_seconds
        self.pending: dict[str, list[int]] = {}  # key -> [cost not yet sent, ttl]
        self.sending: dict[str, int] = {}  # key -> cost of a flush in flight
        self.shared: dict[str, tuple[int, float]] = {}  # key -> (total the store last gave, monotonic when)
        self._flush_due = time.monotonic() + flush_seconds

    def _local(self, key: str) -> int:
        return self.sending.get(key, 0) + (self.pending[key][0] if key in self.pending else 0)

    def estimate(self, key: str) -> int:
        """The shared total last seen plus what this process added since."""
        seen = self.shared.get(key)
        return (seen[0] if seen is not None else 0) + self._local(key)

    def _saw(self, key: str, total: int, now: float) -> None:
        if len(self.shared) >= TALLY_MEMORY:
            self.shared.clear()
        self.shared[key] = (total, now)

    async def add(self, items: Sequence[tuple[str, int, int, int]]) -> list[int]:
        """Add (key, cost, ttl seconds, batch limit) to each counter; the totals as this process knows
        them (exact for a call that went to the store)."""
        if all(self.estimate(key) + cost <= batch for key, cost, _, batch in items):
            for key, cost, ttl, _ in items:
                entry = self.pending.setdefault(key, [0, ttl])
                entry[0] += cost
            totals = [self.estimate(key) for key, _, _, _ in items]
            await self.flush_if_due()
            return totals
        sent = []
        for key, cost, ttl, _ in items:
            held = self.pending.pop(key, None)
            sent.append((key, cost + (held[0] if held else 0), ttl))
        try:
            counts = await self.counters.increment(sent)
        except BaseException:
            self._hold(sent, [cost for _, cost, _, _ in items])
            raise
        now = time.monotonic()
        for (key, _, _), count in zip(sent, counts, strict=True):
            self._saw(key, count, now)
        return [count + self._local(key) for (key, _, _), count in zip(sent, counts, strict=True)]

    def _hold(self, sent: Sequence[tuple[str, int, int]], not_counted: Sequence[int]) -> None:
        """Put costs that did not reach the store back into pending (less `not_counted`: the current
        request's, which is refused or failed rather than counted)."""
        for (key, cost, ttl), own in zip(sent, not_counted, strict=True):
            if cost - own > 0:
                entry = self.pending.setdefault(key, [0, ttl])
                entry[0] += cost - own

    async def peek(self, key: str) -> int:
        """The total as this process knows it; read from the store when last seen over a flush ago."""
        seen = self.shared.get(key)
        now = time.monotonic()
        if seen is None or now - seen[1] > self.flush_seconds:
            (total,) = await self.counters.peek([key])
            self._saw(key, total, now)
        await self.flush_if_due()
        return self.estimate(key)

    async def flush_if_due(self) -> None:
        if time.monotonic() >= self._flush_due:
            await self.flush()

    async def flush(self) -> None:
        """Send every pending addition in one round trip and keep the totals the store answers with."""
        self._flush_due = time.monotonic() + self.flush_seconds
        if not self.pending or self.sending:
            return
        batch, self.pending = self.pending, {}
        items = [(key, cost, ttl) for key, (cost, ttl) in batch.items()]
        self.sending = {key: cost for key, cost, _ in items}
        try:
            counts = await self.counters.increment(items)
        except Exception as exc:  # the store failed: keep the counts for the next flush
            log.warning("counters: flush failed (%s); keeping %d pending", exc, len(items))
            self._hold(items, [0] * len(items))
            return
        finally:
            self.sending = {}
        now = time.monotonic()
        for (key, _, _), count in zip(items, counts, strict=True):
            self._saw(key, count, now)
        if len(self.shared) > TALLY_MEMORY // 2:
            self.shared = {k: v for k, v in self.shared.items() if now - v[1] < 3600}


def tally_for(ctx) -> Tally:
    """The instance's batched view of its counters, one per process (see Tally)."""
    counters = for_context(ctx)
    tally = ctx.extras.get("safety.tally")
    if tally is None or tally.counters is not counters:
        tally = ctx.extras["safety.tally"] = Tally(counters)
    return tally


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
