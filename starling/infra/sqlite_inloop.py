"""SQLite reads without a thread hop.

aiosqlite runs every call on a helper thread and wakes the event loop when it is done; for the small,
indexed reads a timeline page makes, that hand-off costs more than the query itself. In WAL mode a
reader never waits for a lock, so these connections run each call directly on the event loop's
thread and hand SQLAlchemy's asyncio adapter coroutines that are already finished. Writers keep
aiosqlite: they may wait on the busy timeout, and that wait must not stall the loop.
"""

from __future__ import annotations

import sqlite3
from typing import Any


class InLoopCursor:
    __slots__ = ("_cursor",)

    def __init__(self, cursor: sqlite3.Cursor):
        self._cursor = cursor

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
    """Looks like an aiosqlite connection to SQLAlchemy's adapter; calls sqlite3 directly."""

    __slots__ = ("_conn",)

    def __init__(self, conn: sqlite3.Connection):
        self._conn = conn

    @property
    def _connection(self) -> sqlite3.Connection:
        # SQLAlchemy's adapter checks aiosqlite's private `_connection` to see whether it is open.
        return self._conn

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    def cursor(self) -> InLoopCursor:
        return InLoopCursor(self._conn.cursor())

    async def commit(self) -> None:
        self._conn.commit()

    async def rollback(self) -> None:
        self._conn.rollback()

    async def close(self) -> None:
        self._conn.close()

    def stop(self) -> None:
        self._conn.close()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)


def creator(path: str):
    """An `async_creator` for create_async_engine: opens `path` in autocommit mode (we BEGIN ourselves)."""

    async def connect() -> InLoopConnection:
        return InLoopConnection(sqlite3.connect(path, isolation_level=None, check_same_thread=False))

    return connect
