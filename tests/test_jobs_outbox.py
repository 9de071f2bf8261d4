"""The job outbox: batches commit once, a failing job rolls back alone with backoff, dead letters can be
retried, and a batch a crash interrupts is run again."""

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from starling import clock, ids
from starling.infra import jobs
from starling.infra.jobs import Job
from starling.timelines.models import List

calls: list[dict] = []


@jobs.handler("test.write_then_maybe_fail")
async def _write_then_maybe_fail(session, payload):
    """Writes a row, then fails when asked: the row must vanish with the failure, not with the batch."""
    calls.append(payload)
    session.add(List(id=ids.new_id(), account_id=payload["account_id"], title=payload["title"]))
    await session.flush()
    if payload.get("fail"):
        raise RuntimeError("boom")


async def _job(ctx, job_id):
    async with ctx.db.read() as session:
        return await session.scalar(select(Job).where(Job.id == job_id))


async def _titles(ctx):
    async with ctx.db.read() as session:
        return set(await session.scalars(select(List.title)))


async def test_a_failing_job_rolls_back_alone_and_the_rest_of_the_batch_commits(ctx, cast):
    async with ctx.db.write() as session:
        good = jobs.enqueue(session, "test.write_then_maybe_fail", {"account_id": cast.alice.id, "title": "kept"})
        bad = jobs.enqueue(session, "test.write_then_maybe_fail",
                           {"account_id": cast.alice.id, "title": "undone", "fail": True})
    assert await jobs.run_due(ctx.db) == 2
    assert await _titles(ctx) == {"kept"}
    assert (await _job(ctx, good.id)).state == jobs.DONE
    failed = await _job(ctx, bad.id)
    assert failed.state == jobs.QUEUED and failed.attempts == 1 and "boom" in failed.last_error
    assert failed.run_at > clock.utcnow_naive()  # backed off, not retried at once


async def test_a_job_that_keeps_failing_goes_dead_and_can_be_retried(ctx, cast):
    async with ctx.db.write() as session:
        job = jobs.enqueue(session, "test.write_then_maybe_fail",
                           {"account_id": cast.alice.id, "title": "never", "fail": True})
    start = clock.now()
    for attempt in range(jobs.MAX_ATTEMPTS):
        clock.set_now(start + timedelta(hours=attempt + 1))
        await jobs.drain(ctx.db)
    dead = await _job(ctx, job.id)
    assert dead.state == jobs.DEAD and dead.attempts == jobs.MAX_ATTEMPTS
    assert await jobs.retry_dead(ctx.db) == 1
    assert (await _job(ctx, job.id)).state == jobs.QUEUED


@jobs.handler("test.cancelled_once")
async def _cancelled_once(session, payload):
    """Stands for the process being stopped mid-batch, the first time only."""
    if payload["key"] not in calls:
        calls.append(payload["key"])
        raise asyncio.CancelledError


async def test_a_batch_interrupted_before_its_commit_runs_again(ctx, cast):
    async with ctx.db.write() as session:
        first = jobs.enqueue(session, "test.write_then_maybe_fail", {"account_id": cast.alice.id, "title": "once"})
        jobs.enqueue(session, "test.cancelled_once", {"key": f"interrupt-{first.id}"})
    with pytest.raises(asyncio.CancelledError):
        await jobs.run_due(ctx.db)
    # The first job's work and its "done" went down with the batch: nothing half-written, still queued.
    assert await _titles(ctx) == set()
    assert (await _job(ctx, first.id)).state == jobs.QUEUED
    assert await jobs.drain(ctx.db) == 2
    assert await _titles(ctx) == {"once"}
    async with ctx.db.read() as session:
        assert await session.scalar(select(func.count()).select_from(List)) == 1
