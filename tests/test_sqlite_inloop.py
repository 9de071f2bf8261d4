"""The in-loop SQLite connection under a close that races a BEGIN IMMEDIATE still waiting for the lock.

SQLAlchemy closes a connection at once when the task using it is cancelled. BEGIN IMMEDIATE is the one
statement that runs on a helper thread, so the close could land while that thread was inside sqlite3
on the same handle, which crashed the test process (a segfault in CI)."""

import asyncio
import sqlite3
import threading

import pytest

from starling.infra import sqlite_inloop
from tests.postgres import sqlite_only

pytestmark = sqlite_only("the in-loop connection is SQLite's")


def _blocker(path) -> sqlite3.Connection:
    """Another connection holding the file's write lock until it commits."""
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    return other


def _write_lock_is_free(path) -> bool:
    probe = sqlite3.connect(path, isolation_level=None, timeout=0)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        probe.close()


async def _connection_waiting_to_begin(path):
    conn = await sqlite_inloop.creator(str(path), writer=True)()
    conn._conn.execute("PRAGMA busy_timeout = 30000")
    in_step = threading.Event()
    conn._conn.set_trace_callback(lambda sql: in_step.set() if sql.startswith("BEGIN") else None)
    cursor = conn.cursor()
    begin = asyncio.get_running_loop().run_in_executor(
        None, conn.begin, cursor._cursor, "BEGIN IMMEDIATE", ())
    assert await asyncio.to_thread(in_step.wait, 10), "BEGIN IMMEDIATE never started"
    return conn, begin


async def test_close_during_a_waiting_begin_is_left_to_the_begin(tmp_path):
    path = tmp_path / "race.db"
    sqlite3.connect(path).close()
    other = _blocker(path)
    conn, begin = await _connection_waiting_to_begin(path)

    conn.stop()  # what SQLAlchemy does when the awaiting task is cancelled
    other.execute("COMMIT")
    await asyncio.wait_for(begin, 10)  # the BEGIN ran on a connection still open, and succeeded

    with pytest.raises(sqlite3.ProgrammingError):
        conn._conn.execute("SELECT 1")  # then its thread closed the connection
    assert _write_lock_is_free(path), "closing the connection gives the write lock back"
    other.close()


async def test_a_begin_after_close_is_refused(tmp_path):
    path = tmp_path / "closed.db"
    sqlite3.connect(path).close()
    conn = await sqlite_inloop.creator(str(path), writer=True)()
    cursor = conn.cursor()
    await conn.close()

    with pytest.raises(sqlite3.ProgrammingError):
        await cursor.execute("BEGIN IMMEDIATE")
    assert _write_lock_is_free(path)


async def test_writers_queue_is_released_when_the_waiting_begin_is_closed(tmp_path):
    path = tmp_path / "queue.db"
    sqlite3.connect(path).close()
    other = _blocker(path)
    conn, begin = await _connection_waiting_to_begin(path)

    conn.stop()
    other.execute("COMMIT")
    await asyncio.wait_for(begin, 10)

    second = await sqlite_inloop.creator(str(path), writer=True)()
    try:  # a later writer in this process gets its turn: the first one's place in the queue was given up
        await asyncio.wait_for(second.cursor().execute("BEGIN IMMEDIATE"), 10)
        await second.rollback()
    finally:
        await second.close()
    other.close()
