"""The durable job table (a transactional outbox) and the worker that drains it.

A service enqueues a job in the same transaction as the change that needs it, so a crash between
"post saved" and "fan-out done" loses nothing. Handlers are idempotent: a job may run again after a
crash, and must then change nothing it already changed. A worker runs a batch of jobs in one
transaction, each in its own savepoint, and marks each done or rescheduled in that same transaction.

On SQLite, where one writer runs at a time, a batch saves a durable commit per job. On PostgreSQL,
where several workers run side by side, a batch would hold every row its jobs touched until its end,
and two batches that met the same rows in a different order deadlocked (the spam scorer's account rows,
under a posting flood): there each job is its own transaction (POSTGRES_BATCH).
"""

from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import traceback
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, DateTime, Index, Integer, String, Text, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from starling import clock, ids
from starling.infra.db import Base, BigId, Database, unavailable
from starling.infra.models_common import created_at_column

log = logging.getLogger("starling.jobs")

QUEUED, DONE, DEAD = "queued", "done", "dead"
MAX_ATTEMPTS = 8
BATCH = 32  # jobs a worker runs, and commits, together (SQLite)
POSTGRES_BATCH = 1  # on PostgreSQL each job commits alone, holding its locks no longer than itself
OUTAGE_PAUSE = 5.0  # longest wait between tries while the database is unavailable

Handler = Callable[[AsyncSession, dict[str, Any]], Awaitable[None]]
_handlers: dict[str, Handler] = {}


class Job(Base):
    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(50))
    payload: Mapped[dict] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(10), default=QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    run_at: Mapped[datetime] = mapped_column(DateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)


Index("ix_jobs_state_run_at", Job.state, Job.run_at)


def handler(kind: str) -> Callable[[Handler], Handler]:
    """Register the function that runs jobs of `kind`."""

    def register(fn: Handler) -> Handler:
        _handlers[kind] = fn
        return fn

    return register


def enqueue(session: AsyncSession, kind: str, payload: dict[str, Any], *, delay: timedelta | None = None) -> Job:
    """Add a job to the caller's transaction; it runs only if that transaction commits."""
    now = clock.utcnow_naive()
    job = Job(id=ids.new_id(), kind=kind, payload=payload, state=QUEUED, attempts=0,
              run_at=now + delay if delay else now)
    session.add(job)
    _wake_local()
    return job


_wakeup: asyncio.Event | None = None


def _wake_local() -> None:
    if _wakeup is not None:
        _wakeup.set()


def backoff(attempts: int) -> timedelta:
    """Exponential: 2, 4, 8 … seconds, capped at an hour."""
    return timedelta(seconds=min(2 ** attempts, 3600))


# PostgreSQL's deadlock and serialization failures: the savepoint's rollback released what this job had
# locked, so the other transaction goes on and running the job again at once succeeds.
LOCK_CONFLICTS = frozenset({"40P01", "40001"})


def _summary(exc: BaseException) -> str:
    """One line for the log that names the real error: a database error's driver message, not
    SQLAlchemy's closing "Background on this error" line (the whole traceback is in jobs.last_error)."""
    cause = getattr(exc, "orig", None) or exc
    first = (str(cause).strip().splitlines() or [""])[0]
    return f"{cause.__class__.__name__}: {first}"[:500]


def _lock_conflict(exc: Exception) -> bool:
    return getattr(getattr(exc, "orig", None), "sqlstate", None) in LOCK_CONFLICTS


async def _run_in_savepoint(session, fn, payload) -> None:
    """Run one handler in a savepoint; two workers whose batches lock the same rows in opposite orders
    deadlock, and the one PostgreSQL picks reruns its job once, within the same attempt."""
    try:
        async with session.begin_nested():
            await fn(session, payload)
    except Exception as exc:
        if not _lock_conflict(exc):
            raise
        log.info("job rerun after a lock conflict: %s", exc.__class__.__name__)
        async with session.begin_nested():
            await fn(session, payload)


async def run_due(db: Database, limit: int = BATCH) -> int:
    """Run up to `limit` due jobs in one transaction and return how many it took.

    Each handler runs in its own savepoint, so a failing job rolls back alone and is rescheduled with
    backoff (dead after MAX_ATTEMPTS), while the batch commits once: one durable commit for many jobs
    instead of two or three for each. Until that commit the rows are held (FOR UPDATE SKIP LOCKED on
    PostgreSQL, the write lock on SQLite), so no other worker runs them; a crash rolls the whole batch
    back and it runs again, which idempotent handlers allow."""
    now = clock.utcnow_naive()
    async with db.write() as session:
        due = (await session.execute(
            select(Job.id, Job.kind, Job.payload, Job.attempts)
            .where(Job.state == QUEUED, Job.run_at <= now)
            .order_by(Job.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )).all()
        for job_id, kind, payload, attempts in due:
            attempts += 1
            try:
                fn = _handlers.get(kind)
                if fn is None:
                    raise LookupError(f"no handler for job kind {kind!r}")
                await _run_in_savepoint(session, fn, payload)
            except Exception as exc:
                if unavailable(exc):  # not the job's fault: the batch rolls back and runs when the database is back
                    raise
                error = traceback.format_exc(limit=5)
                log.warning("job %s (%s) failed on attempt %s: %s", job_id, kind, attempts, _summary(exc))
                await session.execute(update(Job).where(Job.id == job_id).values(
                    state=DEAD if attempts >= MAX_ATTEMPTS else QUEUED, attempts=attempts, last_error=error,
                    run_at=now + backoff(attempts)))
            else:
                await session.execute(update(Job).where(Job.id == job_id).values(
                    state=DONE, attempts=attempts, finished_at=clock.utcnow_naive()))
        return len(due)


async def drain(db: Database, *, limit: int = BATCH) -> int:
    """Run every job that is due now, until none is left. For tests, the CLI and benchmarks."""
    total = 0
    while count := await run_due(db, limit):
        total += count
    return total


async def retry_dead(db: Database, job_id: int | None = None) -> int:
    """Put dead jobs (one, or all) back in the queue."""
    async with db.write() as session:
        stmt = update(Job).where(Job.state == DEAD)
        if job_id is not None:
            stmt = stmt.where(Job.id == job_id)
        result = await session.execute(stmt.values(state=QUEUED, attempts=0, run_at=clock.utcnow_naive()))
        return result.rowcount or 0


async def work_forever(db: Database, stop: asyncio.Event, *, concurrency: int = 1, idle: float = 0.1) -> None:
    """Run due jobs until `stop` is set, in `concurrency` loops (useful on PostgreSQL, where batches run
    side by side; SQLite has one writer). Polls every `idle` seconds when there is nothing to do; a job
    enqueued in this process wakes it at once."""
    global _wakeup
    _wakeup = asyncio.Event()

    batch = BATCH if db.is_sqlite else POSTGRES_BATCH

    async def loop() -> None:
        pause = idle
        while not stop.is_set():
            try:
                worked = await run_due(db, batch)
                pause = idle
                if worked:
                    continue
            except Exception as exc:
                if not unavailable(exc):
                    log.exception("running jobs failed; retrying")
                    pause = idle
                else:  # while the database is away: one line in the log, and growing pauses between tries
                    if pause == idle:
                        log.warning("database unavailable; jobs wait until it is back: %s", exc)
                    pause = min(max(pause * 2, 0.5), OUTAGE_PAUSE)
            _wakeup.clear()
            try:
                await asyncio.wait_for(_wakeup.wait(), timeout=pause)
            except TimeoutError:
                pass

    await asyncio.gather(*(loop() for _ in range(max(concurrency, 1))))


class LeaderLock:
    """An advisory file lock: among processes sharing one data dir, exactly one holds it at a time.
    The OS releases it when its holder dies, so another process takes over."""

    def __init__(self, path: Path):
        self.path = path
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        if self._fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


async def embedded_worker(db: Database, stop: asyncio.Event, lock: LeaderLock | None,
                          *, concurrency: int = 1) -> None:
    """The worker inside `serve`: waits for the leader lock (when one is given), then works."""
    while not stop.is_set():
        if lock is None or lock.try_acquire():
            try:
                await work_forever(db, stop, concurrency=concurrency)
            finally:
                if lock is not None:
                    lock.release()
            return
        try:
            await asyncio.wait_for(stop.wait(), timeout=2.0)
        except TimeoutError:
            pass
