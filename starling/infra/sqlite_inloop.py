"""SQLite reads without a thread hop.

aiosqlite runs every call on a helper thread and wakes the event loop when it is done; for the small,
indexed reads a timeline page makes, that hand-off costs more than the query itself. In WAL mode a
reader never waits for a lock, so these connections run each call directly on the event loop's
thread and hand SQLAlchemy's asyncio adapter coroutines that are already finished. Writers keep
aiosqlite: they may wait on the busy timeout, and that wait must not stall the loop.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import sqlite3
from typing import Any

# Statements that may wait for a lock. In WAL mode a writer waits only to take the write lock, and
# BEGIN IMMEDIATE takes it up front; once it is held, the statements and COMMIT that follow do not wait.
WAITS = ("BEGIN IMMEDIATE",)


class WriterQueue:
    """Processes sharing one SQLite file take turns to write through an advisory file lock.

    SQLite's own busy handler polls with growing sleeps, so under contention a writer may starve for
    seconds while others get in between its naps. A blocked flock() wakes the moment the lock is free.
    Held from BEGIN IMMEDIATE to COMMIT or ROLLBACK."""

    def __init__(self, path: str):
        self.path = path
        self._fd: int | None = None
        self.held = False

    def acquire(self) -> None:
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        self.held = True

    def release(self) -> None:
        if self.held and self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self.held = False

    def close(self) -> None:
        self.release()
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class InLoopCursor:
    __slots__ = ("_cursor", "_queue")

    def __init__(self, cursor: sqlite3.Cursor, queue: WriterQueue | None = None):
        self._cursor = cursor
        self._queue = queue

    async def __aenter__(self) -> InLoopCursor:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    async def execute(self, operation: str, parameters: Any = ()) -> InLoopCursor:
        if operation.startswith(WAITS):
            # The one statement that may wait (for another process's write lock): off the loop, so other
            # requests go on meanwhile; in turn behind the other processes' writers when queued.
            await asyncio.to_thread(self._begin, operation, parameters or ())
        else:
            self._cursor.execute(operation, parameters if parameters is not None else ())
        return self

    def _begin(self, operation: str, parameters: Any) -> None:
        if self._queue is not None:
            self._queue.acquire()
        try:
            self._cursor.execute(operation, parameters)
        except BaseException:
            if self._queue is not None:
                self._queue.release()
            raise

    async def executemany(self, operation: str, seq_of_parameters: Any) -> InLoopCursor:
        self._cursor.executemany(operation, seq_of_parameters)
        return self

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list:
        return self._cursor.fetchmany(size if size is not None else self._cursor.arraysize)

    async def fetchall(self) -> list:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()


class InLoopConnection:
    """Looks like an aiosqlite connection to SQLAlchemy's adapter; calls sqlite3 directly."""

    __slots__ = ("_conn", "_queue")

    def __init__(self, conn: sqlite3.Connection, queue: WriterQueue | None = None):
        self._conn = conn
        self._queue = queue

    @property
    def _connection(self) -> sqlite3.Connection:
        # SQLAlchemy's adapter checks aiosqlite's private `_connection` to see whether it is open.
        return self._conn

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    def cursor(self) -> InLoopCursor:
        return InLoopCursor(self._conn.cursor(), self._queue)

    async def commit(self) -> None:
        try:
            self._conn.commit()
        finally:
            self._release()

    async def rollback(self) -> None:
        try:
            self._conn.rollback()
        finally:
            self._release()

    def _release(self) -> None:
        if self._queue is not None:
            self._queue.release()

    async def close(self) -> None:
        self.stop()

    def stop(self) -> None:
        try:
            self._conn.close()
        finally:
            if self._queue is not None:
                self._queue.close()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)


def creator(path: str, *, writer: bool = False):
    """An `async_creator` for create_async_engine: opens `path` in autocommit mode (we BEGIN ourselves).
    A writer's connections queue behind other processes' writers (WriterQueue on `path`.writers)."""

    async def connect() -> InLoopConnection:
        queue = WriterQueue(f"{path}.writers") if writer else None
        return InLoopConnection(sqlite3.connect(path, isolation_level=None, check_same_thread=False), queue)

    return connect
