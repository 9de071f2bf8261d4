"""The event bus behind the streaming API: domain code announces small facts ("status 42 is in feeds",
"notification 7 exists"), every API process hears them, and each decides what its own listeners get.

Nothing is announced that may still roll back. `publish(session, event)` ties the event to the caller's
transaction (a request, or a job batch with a savepoint per job); it reaches the bus only once that
transaction commits, and never when it, or the savepoint it was published in, rolls back.

Three ways across processes, chosen by Settings.streaming_bus ("auto": Redis when configured, else SQL):

- local: within one process only (after the commit, straight to the listeners);
- sql: a row in `stream_events`, written in the same transaction, so it becomes visible exactly when the
  change does. Every process that has listeners tails the table with one indexed query every
  `streaming_poll_seconds`. Sequence numbers are handed out at insert, so on PostgreSQL a row may
  commit after a higher one: a missing number is re-asked for a few seconds before it is given up
  (a rolled-back insert leaves a gap forever). A publishing process prunes rows older than the
  retention at most once per retention period, in a transaction of its own;
- redis: after the commit, PUBLISH on `<redis_prefix>stream`; each process keeps one subscription.
  Redis pub/sub keeps nothing, like the bus itself: a listener that is away misses what was said.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import DateTime, Index, Text, delete, event, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, Session, SessionTransaction, mapped_column

from starling import clock
from starling.infra.db import Base, BigId, Database

log = logging.getLogger("starling.pubsub")

Listener = Callable[[list[dict[str, Any]]], Awaitable[None]]

LOCAL, SQL, REDIS = "local", "sql", "redis"
GAP_SECONDS = 10.0  # how long a missing sequence number is waited for (sql)
BATCH = 500  # rows read per poll (sql)


class StreamEvent(Base):
    """An announced event, kept for a short while so other processes can read it (the sql bus)."""

    __tablename__ = "stream_events"
    __table_args__ = {"sqlite_autoincrement": True}  # numbers are never reused, even after a prune

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    body: Mapped[str] = mapped_column(Text)


Index("ix_stream_events_created_at", StreamEvent.created_at)


class Bus:
    """One process's end of the bus: publishes for its sessions and feeds its listeners."""

    def __init__(self, mode: str, *, redis: Any = None, channel: str = "starling:stream",
                 poll_seconds: float = 0.2, retention_seconds: float = 120.0):
        if mode not in (LOCAL, SQL, REDIS):
            raise ValueError(f"unknown streaming bus {mode!r}")
        if mode == REDIS and redis is None:
            raise ValueError("the redis streaming bus needs STARLING_REDIS_URL")
        self.mode = mode
        self.redis = redis
        self.channel = channel
        self.poll_seconds = poll_seconds
        self.retention = timedelta(seconds=retention_seconds)
        self.db: Database | None = None
        self._listeners: list[Listener] = []
        self._task: asyncio.Task | None = None
        self._ready = asyncio.Event()
        self._background: set[asyncio.Task] = set()
        self._next_prune = 0.0

    def attach(self, db: Database) -> None:
        self.db = db

    # --- publishing ------------------------------------------------------------------------------------

    def publish(self, session: AsyncSession | Session, event: dict[str, Any]) -> None:
        """Announce `event` (a small JSON-able dict) when the session's transaction commits."""
        sync = session.sync_session if isinstance(session, AsyncSession) else session
        if self.mode == SQL:
            sync.add(StreamEvent(created_at=clock.utcnow_naive(), body=orjson.dumps(event).decode()))
            if time.monotonic() >= self._next_prune:  # at most once a retention period, per process
                self._next_prune = time.monotonic() + self.retention.total_seconds()
                self._spawn(self.prune())
            return
        chain = []
        tx: SessionTransaction | None = sync.get_nested_transaction() or sync.get_transaction()
        while tx is not None:
            chain.append(tx)
            tx = tx.parent
        sync.info.setdefault(_PENDING, []).append((tuple(chain), event))
        sync.info[_BUS] = self

    async def send_committed(self, events: list[dict[str, Any]]) -> None:
        """Hand events whose transaction has committed to the bus (local and redis)."""
        if self.mode == REDIS:
            try:
                async with self.redis.pipeline(transaction=False) as pipe:
                    for item in events:
                        pipe.publish(self.channel, orjson.dumps(item))
                    await pipe.execute()
            except Exception as exc:  # Redis is a bus, not a store: say so and carry on
                log.warning("could not publish %d stream events to Redis: %s", len(events), exc)
            return
        await self._deliver(events)

    async def prune(self) -> int:
        """Delete sql-bus rows older than the retention; returns how many went."""
        if self.db is None:
            return 0
        cutoff = clock.utcnow_naive() - self.retention
        try:
            async with self.db.write() as session:
                result = await session.execute(delete(StreamEvent).where(StreamEvent.created_at < cutoff))
                return result.rowcount or 0
        except Exception as exc:
            log.warning("pruning stream events failed: %s", exc)
            return 0

    # --- listening -------------------------------------------------------------------------------------

    def listen(self, listener: Listener) -> None:
        """Call `listener` with each batch of events heard from now on (starts the receiver on first use)."""
        self._listeners.append(listener)
        if self._task is None and self.mode != LOCAL:
            self._ready = asyncio.Event()
            receive = self._tail_sql if self.mode == SQL else self._subscribe_redis
            self._task = asyncio.get_running_loop().create_task(receive())

    async def ready(self, timeout: float = 5.0) -> None:
        """Wait (at most `timeout` seconds) until the receiver hears everything published from now on: the
        table's position is read, or Redis has confirmed the subscription. A client told "connected"
        only after this misses nothing posted after it."""
        if self.mode == LOCAL or self._ready.is_set():
            return
        try:
            await asyncio.wait_for(self._ready.wait(), timeout)
        except TimeoutError:
            log.warning("the %s stream bus is not receiving yet", self.mode)

    def unlisten(self, listener: Listener) -> None:
        """Stop calling `listener`; with nobody left, stop receiving (a process without listeners reads
        nothing)."""
        if listener in self._listeners:
            self._listeners.remove(listener)
        if not self._listeners and self._task is not None:
            self._task.cancel()
            self._task = None

    async def _deliver(self, events: list[dict[str, Any]]) -> None:
        for listener in list(self._listeners):
            try:
                await listener(events)
            except Exception:
                log.exception("a stream listener failed")

    async def _tail_sql(self) -> None:
        assert self.db is not None
        cursor: int | None = None
        gaps: dict[int, float] = {}  # sequence number -> give up at (monotonic)
        while True:
            try:
                async with self.db.read() as session:
                    if cursor is None:
                        cursor = await session.scalar(select(func.max(StreamEvent.id))) or 0
                        self._ready.set()
                    now = time.monotonic()
                    gaps = {n: until for n, until in gaps.items() if until > now}
                    wanted = StreamEvent.id > cursor
                    if gaps:
                        wanted = or_(wanted, StreamEvent.id.in_(list(gaps)))
                    rows = (await session.execute(select(StreamEvent.id, StreamEvent.body).where(wanted)
                                                  .order_by(StreamEvent.id).limit(BATCH))).all()
                events = []
                for number, body in rows:
                    if number in gaps:
                        del gaps[number]
                    elif number > cursor:
                        gaps.update((missing, now + GAP_SECONDS) for missing in range(cursor + 1, number))
                        cursor = number
                    events.append(orjson.loads(body))
                if events:
                    await self._deliver(events)
                if len(rows) == BATCH:
                    continue
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("reading stream events failed: %s", exc)
                await asyncio.sleep(1.0)  # the database is away: ask less often until it is back
            await asyncio.sleep(self.poll_seconds)

    async def _subscribe_redis(self) -> None:
        while True:
            pubsub = self.redis.pubsub()
            try:
                await pubsub.subscribe(self.channel)
                while True:
                    message = await pubsub.get_message(timeout=1.0)
                    if message is None:
                        continue
                    if message["type"] == "subscribe":
                        self._ready.set()
                    elif message["type"] == "message":
                        await self._deliver([orjson.loads(message["data"])])
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("Redis stream subscription lost (%s); resubscribing", exc)
                await asyncio.sleep(1.0)
            finally:
                try:
                    await pubsub.aclose()
                except Exception:
                    pass

    def _spawn(self, coro: Awaitable[Any]) -> None:
        try:
            task = asyncio.get_running_loop().create_task(coro)
        except RuntimeError:  # no loop (a synchronous caller): nobody to deliver to in this process
            coro.close()
            return
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def close(self) -> None:
        self._listeners.clear()
        tasks = [t for t in (self._task, *self._background) if t is not None]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=5)
        self._task = None


# --- tying events to transactions (local and redis) --------------------------------------------------

_PENDING = "pubsub.pending"
_BUS = "pubsub.bus"
_COMMITTED = "pubsub.committed_savepoints"


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if _PENDING not in session.info:
        return
    if session.in_nested_transaction():
        session.info.setdefault(_COMMITTED, set()).add(session.get_nested_transaction())
        return
    pending = session.info.pop(_PENDING)
    bus: Bus = session.info.pop(_BUS)
    session.info.pop(_COMMITTED, None)
    bus._spawn(bus.send_committed([item for _, item in pending]))


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    pending = session.info.get(_PENDING)
    if not pending:
        return
    if transaction.parent is None:  # the outermost transaction ended without committing: a rollback
        session.info.pop(_PENDING, None)
        session.info.pop(_COMMITTED, None)
        return
    if transaction.nested and transaction not in session.info.get(_COMMITTED, ()):
        session.info[_PENDING] = [(chain, item) for chain, item in pending if transaction not in chain]


def publish(session: AsyncSession | Session, event: dict[str, Any]) -> None:
    """Announce `event` once the session's transaction commits (the bus is the one in session.info;
    without one, as in a bare script, nothing is announced)."""
    bus = session.info.get("pubsub")
    if bus is not None:
        bus.publish(session, event)


def build(settings: Any, redis: Any) -> Bus:
    """The bus the settings ask for ("auto": Redis when configured, else the SQL table)."""
    mode = settings.streaming_bus
    if mode == "auto":
        mode = REDIS if redis is not None else SQL
    return Bus(mode, redis=redis, channel=f"{settings.redis_prefix}stream",
               poll_seconds=settings.streaming_poll_seconds, retention_seconds=settings.streaming_retention_seconds)
