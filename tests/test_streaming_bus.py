"""The SQL event bus (infra.pubsub) on both backends: events are heard once committed, in commit order
on SQLite, never when rolled back; on PostgreSQL a row that commits after a higher-numbered one is still
heard; old rows are pruned."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from starling import clock
from starling.infra import pubsub
from starling.infra.pubsub import StreamEvent
from tests.postgres import requires_postgres

RECEIVE_TIMEOUT = 20.0


async def listening(db) -> tuple[pubsub.Bus, asyncio.Queue]:
    bus = pubsub.Bus(pubsub.SQL, poll_seconds=0.05)
    bus.attach(db)
    heard: asyncio.Queue = asyncio.Queue()

    async def listener(batch):
        for item in batch:
            heard.put_nowait(item["n"])

    bus.listen(listener)
    await bus.ready()
    return bus, heard


async def hear(heard: asyncio.Queue) -> int:
    return await asyncio.wait_for(heard.get(), RECEIVE_TIMEOUT)


async def _commit_order_and_rollbacks(db) -> None:
    bus, heard = await listening(db)
    try:
        async with db.write() as session:
            bus.publish(session, {"n": 1})
        with pytest.raises(RuntimeError):
            async with db.write() as session:
                bus.publish(session, {"n": 2})
                await session.flush()
                raise RuntimeError("roll back")
        async with db.write() as session:
            try:
                async with session.begin_nested():
                    bus.publish(session, {"n": 3})
                    raise RuntimeError("roll back the savepoint")
            except RuntimeError:
                pass
            bus.publish(session, {"n": 4})
        assert [await hear(heard), await hear(heard)] == [1, 4]
    finally:
        await bus.close()


async def test_sql_bus_on_sqlite(ctx):
    await _commit_order_and_rollbacks(ctx.db)


@requires_postgres
async def test_sql_bus_on_postgresql(pg_db):
    await _commit_order_and_rollbacks(pg_db)


@requires_postgres
async def test_a_row_committed_after_a_higher_one_is_still_heard(pg_db):
    bus, heard = await listening(pg_db)
    try:
        async with pg_db.write() as slow:
            bus.publish(slow, {"n": 1})
            await slow.flush()  # takes the lower sequence number now, commits last
            async with pg_db.write() as quick:
                bus.publish(quick, {"n": 2})
            assert await hear(heard) == 2
        assert await hear(heard) == 1
    finally:
        await bus.close()


async def test_old_rows_are_pruned(ctx):
    bus = pubsub.Bus(pubsub.SQL, retention_seconds=60)
    bus.attach(ctx.db)
    clock.set_now(datetime.now(UTC) - timedelta(minutes=10))
    try:
        async with ctx.db.write() as session:
            bus.publish(session, {"n": "old"})
    finally:
        clock.set_now(None)
    async with ctx.db.write() as session:
        bus.publish(session, {"n": "new"})
    await bus.prune()  # (publishing may have started one already: either way, the old row goes)
    async with ctx.db.read() as session:
        assert list(await session.scalars(select(StreamEvent.body))) == ['{"n":"new"}']
    await bus.close()


async def _after_commit_only(db) -> None:
    """The in-process bus (and Redis, which hands over at the same point): heard after the commit, never
    for a rolled-back transaction or savepoint."""
    bus = pubsub.Bus(pubsub.LOCAL)
    heard: asyncio.Queue = asyncio.Queue()

    async def listener(batch):
        for item in batch:
            heard.put_nowait(item["n"])

    bus.listen(listener)
    with pytest.raises(RuntimeError):
        async with db.write() as session:
            bus.publish(session, {"n": 1})
            raise RuntimeError("roll back")
    async with db.write() as session:
        try:
            async with session.begin_nested():
                bus.publish(session, {"n": 2})
                raise RuntimeError("roll back the savepoint")
        except RuntimeError:
            pass
        try:
            async with session.begin_nested():  # a job's savepoint, failing after an inner one committed
                async with session.begin_nested():
                    bus.publish(session, {"n": 5})
                raise RuntimeError("roll back the outer savepoint")
        except RuntimeError:
            pass
        async with session.begin_nested():
            bus.publish(session, {"n": 3})
        bus.publish(session, {"n": 4})
        await session.flush()
        assert heard.empty()
    assert [await hear(heard), await hear(heard)] == [3, 4]
    await bus.close()


async def test_local_bus_on_sqlite(ctx):
    await _after_commit_only(ctx.db)


@requires_postgres
async def test_local_bus_on_postgresql(pg_db):
    await _after_commit_only(pg_db)
