"""The background work behind posting, editing and deleting: each job runs to completion, and running
it again changes nothing."""

from __future__ import annotations

from sqlalchemy import select

from starling import ids
from starling.graph.models import Follow
from starling.infra import jobs
from starling.infra.jobs import Job
from starling.notifications.models import Notification
from starling.timelines.feed_store import feed_store


async def feed_of(ctx, account_id: int) -> set[int]:
    async with ctx.db.read() as session:
        return set(await feed_store(session).entries(account_id))


async def test_post_boost_edit_delete_jobs_run_clean_and_twice(client, cast, ctx, drain):
    async with ctx.db.write() as session:
        session.add(Follow(id=ids.new_id(), account_id=cast.bob.id, target_account_id=cast.alice.id))
        session.add(Follow(id=ids.new_id(), account_id=cast.carol.id, target_account_id=cast.bob.id))
    status = (await client.post("/api/v1/statuses", headers=cast.alice.headers,
                                json={"status": "hello @eve"})).json()
    boost = (await client.post(f"/api/v1/statuses/{status['id']}/reblog", headers=cast.bob.headers)).json()
    await client.put(f"/api/v1/statuses/{status['id']}", headers=cast.alice.headers,
                     json={"status": "edited @eve"})
    await drain()
    async with ctx.db.read() as session:
        states = {(job.kind, job.state) for job in await session.scalars(select(Job))}
        kinds = set(await session.scalars(select(Notification.type)))
    assert all(state == jobs.DONE for _, state in states), states
    assert {"status.created", "status.edited"} <= {kind for kind, _ in states}
    assert {"mention", "reblog", "update"} <= kinds
    assert int(status["id"]) in await feed_of(ctx, cast.bob.id)
    assert int(boost["id"]) in await feed_of(ctx, cast.carol.id)

    # A job that runs again (after a crash, say) changes nothing.
    async with ctx.db.write() as session:
        for job in await session.scalars(select(Job)):
            job.state, job.run_at = jobs.QUEUED, job.created_at
    await drain()
    async with ctx.db.read() as session:
        assert {job.state for job in await session.scalars(select(Job))} == {jobs.DONE}
    assert int(status["id"]) in await feed_of(ctx, cast.bob.id)

    await client.delete(f"/api/v1/statuses/{status['id']}", headers=cast.alice.headers)
    await drain()
    assert int(status["id"]) not in await feed_of(ctx, cast.bob.id)
    assert int(boost["id"]) not in await feed_of(ctx, cast.carol.id)
    async with ctx.db.read() as session:
        assert {job.state for job in await session.scalars(select(Job))} == {jobs.DONE}
