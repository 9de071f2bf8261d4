"""SQLite reads without a thread hop.

aiosqlite runs every call on a helper thread and wakes the event loop when it is done; for the small,
indexed reads a timeline page makes, that hand-off costs more than the query itself. In WAL mode a
reader never waits for a lock, so these connections run each call directly on the event loop's
thread and hand SQLAlchemy's asyncio adapter coroutines that are already finished. Writers use the
same connections, except that BEGIN IMMEDIATE, the one statement that may wait for another process's
write lock, goes to a helper thread so that the wait never stalls the loop.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import sqlite3
import threading
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
    __slots__ = ("_cursor", "_owner")

    def __init__(self, cursor: sqlite3.Cursor, owner: InLoopConnection):
        self._cursor = cursor
        self._owner = owner

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
            await asyncio.to_thread(self._owner.begin, self._cursor, operation, parameters or ())
        else:
            self._cursor.execute(operation, parameters if parameters is not None else ())
        return self

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
    """Looks like an aiosqlite connection to SQLAlchemy's adapter; calls sqlite3 directly.

    Only BEGIN IMMEDIATE leaves the loop's thread. If the awaiting task is cancelled meanwhile,
    SQLAlchemy closes the connection at once while that thread may still be inside sqlite3 on it, and
    closing a handle under a running statement crashes the process. So a close that arrives while a
    BEGIN is out is left to the BEGIN's thread, which closes the connection on its way out."""

    __slots__ = ("_conn", "_queue", "_state", "_begin_out", "_closing")

    def __init__(self, conn: sqlite3.Connection, queue: WriterQueue | None = None):
        self._conn = conn
        self._queue = queue
        self._state = threading.Lock()
        self._begin_out = False
        self._closing = False

    @property
    def _connection(self) -> sqlite3.Connection:
        # SQLAlchemy's adapter checks aiosqlite's private `_connection` to see whether it is open.
        return self._conn

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    def cursor(self) -> InLoopCursor:
        return InLoopCursor(self._conn.cursor(), self)

    def begin(self, cursor: sqlite3.Cursor, operation: str, parameters: Any) -> None:
        """Runs on a helper thread: waits for this process's turn to write, then takes the write lock."""
        with self._state:
            if self._closing:
                raise sqlite3.ProgrammingError("Cannot operate on a closed database.")
            self._begin_out = True
        try:
            if self._queue is not None:
                self._queue.acquire()
            try:
                cursor.execute(operation, parameters)
            except BaseException:
                self._release()
                raise
        finally:
            with self._state:
                self._begin_out = False
                close_now = self._closing
            if close_now:
                self._close_handles()

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
        with self._state:
            self._closing = True
            if self._begin_out:
                return  # the BEGIN's thread closes the connection when it is done with it
        self._close_handles()

    def _close_handles(self) -> None:
        try:
            self._conn.close()  # rolls back a transaction still open, and with it the write lock
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
