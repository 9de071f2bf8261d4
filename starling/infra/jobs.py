"""The durable job table (a transactional outbox) and the worker that drains it.

A service enqueues a job in the same transaction as the change that needs it, so a crash between
"post saved" and "fan-out done" loses nothing. Handlers are idempotent: a job may run again after a
crash, and must then change nothing it already changed. Each handler runs in its own transaction,
and the job is marked done in that same transaction.
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

from sqlalchemy import JSON, DateTime, Index, Integer, String, Text, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from starling import clock, ids
from starling.infra.db import Base, BigId, Database
from starling.infra.models_common import created_at_column

log = logging.getLogger("starling.jobs")

QUEUED, RUNNING, DONE, DEAD = "queued", "running", "done", "dead"
MAX_ATTEMPTS = 8
LEASE = timedelta(minutes=5)

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
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)
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


async def claim(db: Database, limit: int) -> list[Job]:
    """Take up to `limit` runnable jobs (queued and due, or running with an expired lease)."""
    now = clock.utcnow_naive()
    async with db.write() as session:
        rows = (await session.scalars(
            select(Job)
            .where(or_(
                (Job.state == QUEUED) & (Job.run_at <= now),
                (Job.state == RUNNING) & (Job.locked_until < now),
            ))
            .order_by(Job.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )).all()
        for job in rows:
            job.state = RUNNING
            job.attempts += 1
            job.locked_until = now + LEASE
        return list(rows)


async def run_one(db: Database, job: Job) -> bool:
    """Run one claimed job; True when it finished."""
    fn = _handlers.get(job.kind)
    try:
        if fn is None:
            raise LookupError(f"no handler for job kind {job.kind!r}")
        async with db.write() as session:
            await fn(session, job.payload)
            await session.execute(update(Job).where(Job.id == job.id)
                                  .values(state=DONE, finished_at=clock.utcnow_naive(), locked_until=None))
        return True
    except Exception:
        error = traceback.format_exc(limit=5)
        log.warning("job %s (%s) failed on attempt %s: %s", job.id, job.kind, job.attempts, error.splitlines()[-1])
        dead = job.attempts >= MAX_ATTEMPTS
        async with db.write() as session:
            await session.execute(update(Job).where(Job.id == job.id).values(
                state=DEAD if dead else QUEUED, last_error=error, locked_until=None,
                run_at=clock.utcnow_naive() + backoff(job.attempts)))
        return False


async def drain(db: Database, *, limit: int = 100) -> int:
    """Run every job that is due now, until none is left. For tests, the CLI and benchmarks."""
    total = 0
    while True:
        batch = await claim(db, limit)
        if not batch:
            return total
        for job in batch:
            await run_one(db, job)
            total += 1


async def retry_dead(db: Database, job_id: int | None = None) -> int:
    """Put dead jobs (one, or all) back in the queue."""
    async with db.write() as session:
        stmt = update(Job).where(Job.state == DEAD)
        if job_id is not None:
            stmt = stmt.where(Job.id == job_id)
        result = await session.execute(stmt.values(state=QUEUED, attempts=0, run_at=clock.utcnow_naive()))
        return result.rowcount or 0


async def _run_batch(db: Database, batch: list[Job], concurrency: int) -> None:
    """Run claimed jobs, at most `concurrency` at a time."""
    sem = asyncio.Semaphore(max(concurrency, 1))

    async def run(job: Job) -> None:
        async with sem:
            await run_one(db, job)

    await asyncio.gather(*(run(job) for job in batch))


async def work_forever(db: Database, stop: asyncio.Event, *, concurrency: int = 1, idle: float = 0.1) -> None:
    """Claim and run jobs until `stop` is set. Polls at `idle` seconds when there is nothing to do;
    a job enqueued in this process wakes it at once."""
    global _wakeup
    _wakeup = asyncio.Event()
    while not stop.is_set():
        try:
            batch = await claim(db, max(concurrency, 1) * 4)
        except Exception:
            log.exception("claiming jobs failed; retrying")
            batch = []
        if batch:
            await _run_batch(db, batch, concurrency)
            continue
        _wakeup.clear()
        try:
            await asyncio.wait_for(_wakeup.wait(), timeout=idle)
        except TimeoutError:
            pass


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


async def release_orphans(db: Database) -> int:
    """Requeue every job marked running. Only safe for the holder of the leader lock: no other worker
    can be running them, so they were left by a worker that died (without waiting out their lease)."""
    async with db.write() as session:
        result = await session.execute(update(Job).where(Job.state == RUNNING)
                                       .values(state=QUEUED, locked_until=None, run_at=clock.utcnow_naive()))
        return result.rowcount or 0


async def embedded_worker(db: Database, stop: asyncio.Event, lock: LeaderLock | None,
                          *, concurrency: int = 1) -> None:
    """The worker inside `serve`: waits for the leader lock (when one is given), then works."""
    while not stop.is_set():
        if lock is None or lock.try_acquire():
            try:
                if lock is not None:
                    await release_orphans(db)
                await work_forever(db, stop, concurrency=concurrency)
            finally:
                if lock is not None:
                    lock.release()
            return
        try:
            await asyncio.wait_for(stop.wait(), timeout=2.0)
        except TimeoutError:
            pass
