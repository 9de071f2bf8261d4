"""The job outbox: retries with backoff, dead letters, orphaned jobs after a crash."""

from datetime import timedelta

from sqlalchemy import select

from starling import clock
from starling.infra import jobs
from starling.infra.jobs import Job

calls: list[dict] = []


@jobs.handler("test.flaky")
async def _flaky(session, payload):
    calls.append(payload)
    if payload.get("fail"):
        raise RuntimeError("boom")


async def _job(ctx, job_id):
    async with ctx.db.read() as session:
        return await session.scalar(select(Job).where(Job.id == job_id))


async def test_a_failing_job_backs_off_then_goes_dead_and_can_be_retried(ctx):
    async with ctx.db.write() as session:
        job = jobs.enqueue(session, "test.flaky", {"fail": True})
    await jobs.drain(ctx.db)
    first = await _job(ctx, job.id)
    assert first.state == jobs.QUEUED and first.attempts == 1 and "boom" in first.last_error
    assert first.run_at > clock.utcnow_naive()  # backed off, not retried at once
    start = clock.now()
    for attempt in range(2, jobs.MAX_ATTEMPTS + 1):
        clock.set_now(start + timedelta(hours=attempt))
        await jobs.drain(ctx.db)
    dead = await _job(ctx, job.id)
    assert dead.state == jobs.DEAD and dead.attempts == jobs.MAX_ATTEMPTS
    assert await jobs.retry_dead(ctx.db) == 1
    assert (await _job(ctx, job.id)).state == jobs.QUEUED


async def test_the_new_leader_requeues_jobs_a_dead_worker_left_running(ctx):
    async with ctx.db.write() as session:
        job = jobs.enqueue(session, "test.flaky", {"fail": False})
    claimed = await jobs.claim(ctx.db, 10)  # a worker claims it, then "dies"
    assert [j.id for j in claimed] == [job.id]
    assert await jobs.drain(ctx.db) == 0  # its lease still holds it
    assert await jobs.release_orphans(ctx.db) == 1
    assert await jobs.drain(ctx.db) == 1
    assert (await _job(ctx, job.id)).state == jobs.DONE
