"""Scale-out as an operator runs it: two `starling serve` API processes (one of them with --workers 2)
and two `starling worker --concurrency 2` processes against one PostgreSQL database (and one Redis when
STARLING_TEST_REDIS_URL is set). Posts made through either API process are visible through the other,
every job runs exactly once (done on its first attempt, no duplicate notification), and home feeds
fill no matter which process took the post."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from sqlalchemy import func, select

from starling.config import Settings
from starling.context import AppContext
from starling.infra.jobs import Job
from tests.faults import REDIS_URL, WorkerProcess, requires_shared_postgres, throwaway_database, wait_for
from tests.live import SECRET_KEY, LiveServer, free_port, run_cli, server_env
from tests.postgres import own_redis_prefix

pytestmark = [pytest.mark.slow, requires_shared_postgres]

USERS = 4
POSTS_EACH = 5


def token_for(server: LiveServer, app: dict, username: str, password: str) -> dict[str, str]:
    response = httpx.post(server.url("/oauth/token"), timeout=30, data={
        "grant_type": "password", "client_id": app["client_id"], "client_secret": app["client_secret"],
        "username": username, "password": password, "scope": "read write follow"})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def job_summary(settings: Settings) -> dict[str, int]:
    """How many jobs are in each state, by attempts ("done/1": done on the first attempt)."""
    ctx = AppContext.build(settings)
    try:
        async with ctx.db.read() as session:
            rows = (await session.execute(select(Job.state, Job.attempts, func.count()).group_by(Job.state,
                                                                                                 Job.attempts))).all()
        return {f"{state}/{attempts}": count for state, attempts, count in rows}
    finally:
        await ctx.close()


async def retried_jobs(settings: Settings) -> list[str]:
    """Kind and last error of every job that needed more than one attempt."""
    ctx = AppContext.build(settings)
    try:
        async with ctx.db.read() as session:
            jobs = (await session.scalars(select(Job).where(Job.attempts > 1))).all()
        return [f"{job.kind} ({job.state}, {job.attempts} attempts): {(job.last_error or '').strip()[-600:]}"
                for job in jobs]
    finally:
        await ctx.close()


async def clear_redis_prefix(url: str, prefix: str) -> None:
    from redis.asyncio import Redis

    client = Redis.from_url(url)
    try:
        async for key in client.scan_iter(match=f"{prefix}*", count=1000):
            await client.delete(key)
    finally:
        await client.aclose()


def test_two_api_processes_and_two_workers_share_one_database(tmp_path):
    prefix = own_redis_prefix()
    with throwaway_database("starling_scaleout") as url:
        extra = {"STARLING_DATABASE_URL": url, "STARLING_EMBEDDED_WORKER": "false"}
        if REDIS_URL:
            extra |= {"STARLING_REDIS_URL": REDIS_URL, "STARLING_REDIS_PREFIX": prefix}
        data = tmp_path / "data"
        env = server_env(data, "scale.test", extra=extra)
        run_cli(["migrate"], env)
        for i in range(USERS):
            run_cli(["user", "create", f"u{i}", "--email", f"u{i}@scale.test", "--password", "long enough pw"], env)
        servers = [LiveServer(data_dir=data, port=free_port(), domain="scale.test", workers=workers, extra_env=extra)
                   for workers in (2, 1)]
        workers = [WorkerProcess(env, tmp_path / f"worker{i}.log", concurrency=2) for i in range(2)]
        try:
            for process in (*servers, *workers):
                process.start()
            a, b = servers
            app = httpx.post(a.url("/api/v1/apps"), timeout=30, json={
                "client_name": "scale", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob", "scopes": "read write follow"}
            ).json()
            users = [token_for(servers[i % 2], app, f"u{i}", "long enough pw") for i in range(USERS)]
            ids = [httpx.get(a.url("/api/v1/accounts/verify_credentials"), headers=h).json()["id"] for h in users]

            # Everyone follows everyone, through alternating processes.
            for i, headers in enumerate(users):
                for j, target in enumerate(ids):
                    if i != j:
                        server = servers[(i + j) % 2]
                        followed = httpx.post(server.url(f"/api/v1/accounts/{target}/follow"), headers=headers)
                        assert followed.status_code == 200, followed.text

            # Posts through both processes at once, each mentioning the next user.
            def post(n: int) -> tuple[int, str]:
                author = n % USERS
                body = {"status": f"@u{(author + 1) % USERS} hello number {n}"}
                response = httpx.post(servers[n % 2].url("/api/v1/statuses"), headers=users[author], json=body,
                                      timeout=30)
                assert response.status_code == 200, response.text
                return n % 2, response.json()["id"]

            with ThreadPoolExecutor(max_workers=6) as pool:
                posted = list(pool.map(post, range(USERS * POSTS_EACH)))

            # Visible through the other process at once (the database is the one truth).
            for via, status_id in posted:
                other = servers[1 - via]
                assert httpx.get(other.url(f"/api/v1/statuses/{status_id}"), headers=users[0]).status_code == 200

            settings = Settings(data_dir=data, domain="scale.test", secret_key=SECRET_KEY, database_url=url,
                                _env_file=None)
            wait_for(lambda: not any(key.startswith("queued/") for key in asyncio.run(job_summary(settings))),
                     timeout=120, interval=0.25, what="the queue to empty")
            summary = asyncio.run(job_summary(settings))
            # Exactly once: each job done on its first attempt (a failed attempt rolls back, but one that fails
            # only because another worker ran beside it is a race to fix, not to retry away).
            assert set(summary) == {"done/1"}, (f"jobs ran more than once, failed or are left: {summary}\n"
                                                + "\n".join(asyncio.run(retried_jobs(settings))))

            every = {status_id for _via, status_id in posted}
            for i, headers in enumerate(users):
                for server in servers:
                    home = httpx.get(server.url("/api/v1/timelines/home?limit=40"), headers=headers).json()
                    assert {s["id"] for s in home} == every, f"u{i}'s home through {server.port}"
                    assert len(home) == len(every)
                mentions = httpx.get(servers[i % 2].url("/api/v1/notifications?types[]=mention&limit=40"),
                                     headers=headers).json()
                assert len(mentions) == POSTS_EACH, f"u{i} has {len(mentions)} mention notifications"
                follows = httpx.get(servers[i % 2].url("/api/v1/notifications?types[]=follow&limit=40"),
                                    headers=headers).json()
                assert len(follows) == USERS - 1
            assert all(worker.alive() for worker in workers), "a worker died"
        finally:
            for process in (*workers, *servers):
                process.stop()
            if REDIS_URL:
                asyncio.run(clear_redis_prefix(REDIS_URL, prefix))
