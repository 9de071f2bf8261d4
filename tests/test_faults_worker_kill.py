"""A `starling worker` is killed with SIGKILL in the middle of fanning one post out to 10,000 followers,
several times, and started again: in the end every follower's home feed holds the post exactly once, the
job is done (not dead), and nothing else was left behind.

Followers are bulk-inserted rows, not 10,000 API calls. The fan-out threshold is raised so the author is
fanned out on write, and the fan-out batch is made small so the work is many statements long. With the
SQL feed store the whole fan-out is one transaction, so from outside "in the middle" is seen as the
worker's INSERT into home_feed waiting on a row the test holds (PostgreSQL) or the SQLite write lock held
for the job, while the committed feed holds none of it yet; a store that commits batch by batch shows some
but not all entries, and that counts as "in the middle" too.

The test makes "the middle" certain rather than a moment to catch: before each start it stops the fan-out
at the middle follower's feed row, so the worker runs its first half of the batches and then waits there,
inside its transaction, until the kill. On PostgreSQL the test inserts that row itself in a transaction
it keeps open (the worker's INSERT waits on it); on SQLite a trigger on that one row keeps the insert
busy counting a cross join that never ends in time (SQLite has no row lock to hold).

Runs on a throwaway database on the shared PostgreSQL server when STARLING_TEST_DATABASE_URL is set, and
on SQLite always."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from contextlib import contextmanager

import asyncpg
import pytest
from sqlalchemy import func, insert, select, text, update

from starling import ids
from starling.accounts import service as accounts
from starling.accounts.models import Account
from starling.config import Settings
from starling.context import AppContext
from starling.graph.models import Follow
from starling.infra.jobs import Job
from starling.posts import service as posts
from starling.timelines.models import HomeFeedEntry
from tests.faults import PG_URL, WorkerProcess, throwaway_database, wait_for
from tests.live import SECRET_KEY, run_cli, server_env

pytestmark = pytest.mark.slow

FOLLOWERS = 10_000
KILLS = 3
WORKER_ENV = {"STARLING_FANOUT_THRESHOLD": str(FOLLOWERS * 2), "STARLING_FANOUT_BATCH": "100"}


@contextmanager
def database(kind: str):
    """The database URL for a backend ("" = the SQLite file in the data dir)."""
    if kind == "sqlite":
        yield ""
        return
    if not PG_URL.startswith("postgresql"):
        pytest.skip("STARLING_TEST_DATABASE_URL does not name a PostgreSQL database")
    with throwaway_database("starling_kill") as url:
        yield url


def settings_for(data_dir, url: str) -> Settings:
    return Settings(data_dir=data_dir, domain="kill.test", secret_key=SECRET_KEY, database_url=url, redis_url="",
                    embedded_worker=False, _env_file=None)


async def seed(settings: Settings) -> tuple[int, int, int]:
    """An author with FOLLOWERS followers (bulk rows) and one new post whose fan-out job is queued.
    Returns (author id, status id, job id)."""
    ctx = AppContext.build(settings)
    try:
        async with ctx.db.write() as session:
            author = await accounts.create_account(session, settings, username="popular", email="p@kill.test",
                                                   password="long enough pw")
            follower_ids = [ids.new_id() for _ in range(FOLLOWERS)]
            for start in range(0, FOLLOWERS, 1000):
                chunk = follower_ids[start:start + 1000]
                await session.execute(insert(Account), [
                    {"id": fid, "username": f"f{start + i}", "username_lower": f"f{start + i}"}
                    for i, fid in enumerate(chunk)])
                await session.execute(insert(Follow), [
                    {"id": ids.new_id(), "account_id": fid, "target_account_id": author.id} for fid in chunk])
            await session.execute(update(Account).where(Account.id == author.id).values(followers_count=FOLLOWERS))
        async with ctx.db.write() as session:
            status = await posts.create_status(session, settings, account_id=author.id, text="to all of you")
        async with ctx.db.read() as session:
            job_id = await session.scalar(select(Job.id).where(Job.kind == "status.created"))
        return author.id, status.id, job_id
    finally:
        await ctx.close()


class Observer:
    """Reads the database from outside the worker: committed feed entries, the job's state, and whether
    the worker is inside the fan-out right now."""

    def __init__(self, settings: Settings, status_id: int, job_id: int):
        self.settings, self.status_id, self.job_id = settings, status_id, job_id
        self.is_sqlite = settings.is_sqlite
        self.sqlite_path = settings.data_dir / "starling.sqlite3"

    async def counts(self) -> tuple[int, str]:
        ctx = AppContext.build(self.settings)
        try:
            async with ctx.db.read() as session:
                entries = await session.scalar(select(func.count()).select_from(HomeFeedEntry)
                                               .where(HomeFeedEntry.status_id == self.status_id))
                state = await session.scalar(select(Job.state).where(Job.id == self.job_id))
            return entries, state
        finally:
            await ctx.close()

    async def fanning_out(self) -> bool:
        """The worker's fan-out INSERT waits on the held row (PostgreSQL) / it holds the write lock (SQLite)."""
        if self.is_sqlite:
            return self._sqlite_write_lock_held()
        ctx = AppContext.build(self.settings)
        try:
            async with ctx.db.read() as session:
                running = await session.scalar(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND query ILIKE 'INSERT INTO home_feed%' "
                    "AND state = 'active' AND wait_event_type = 'Lock'"))
            return bool(running)
        finally:
            await ctx.close()

    def _sqlite_write_lock_held(self) -> bool:
        # The idle worker takes the lock for a moment every poll; the fan-out holds it throughout. Held at
        # three probes in a row, 30 ms apart, while the job is queued, means the fan-out.
        for _ in range(3):
            db = sqlite3.connect(self.sqlite_path, timeout=0)
            try:
                db.execute("BEGIN IMMEDIATE")
                db.rollback()
                return False
            except sqlite3.OperationalError:
                pass
            finally:
                db.close()
            time.sleep(0.03)
        return True

    def in_the_middle(self) -> tuple[int, str] | None:
        """(committed entries, job state) if the fan-out is under way and not finished, else None."""
        fanning = asyncio.run(self.fanning_out())
        entries, state = asyncio.run(self.counts())
        if state == "queued" and (fanning or 0 < entries < FOLLOWERS + 1):
            return entries, state
        return None


def middle_follower(rows: list) -> int:
    return sorted(rows)[FOLLOWERS // 2]


class StalledFeedRow:
    """SQLite only: a trigger that makes inserting the post's feed row for the middle follower run a
    count over follows x follows x follows (10^12 rows), so the worker stops there, write lock held,
    until it is killed. Dropped on the way out, with no worker running."""

    def __init__(self, path, author_id: int, status_id: int):
        self.path, self.author_id, self.status_id = path, author_id, status_id

    def _run(self, sql: str, args=()) -> list:
        db = sqlite3.connect(self.path, timeout=30)
        try:
            with db:
                return db.execute(sql, args).fetchall()
        finally:
            db.close()

    def __enter__(self) -> StalledFeedRow:
        middle = middle_follower([r for (r,) in self._run(
            "SELECT account_id FROM follows WHERE target_account_id = ?", (self.author_id,))])
        self._run(f"CREATE TRIGGER test_stall_fan_out AFTER INSERT ON home_feed "
                  f"WHEN NEW.account_id = {int(middle)} AND NEW.status_id = {int(self.status_id)} BEGIN "
                  f"SELECT count(*) FROM follows a, follows b, follows c; END")
        return self

    def __exit__(self, *exc) -> None:
        self._run("DROP TRIGGER IF EXISTS test_stall_fan_out")


class HeldFeedRow:
    """PostgreSQL only: the post's home_feed row for the middle follower, inserted in a transaction this
    test keeps open. The worker's INSERT of the batch holding that follower waits on it (the same primary
    key), halfway through the fan-out, until the worker is killed and the hold is rolled back."""

    def __init__(self, url: str, author_id: int, status_id: int):
        self.dsn = url.replace("postgresql+asyncpg://", "postgresql://", 1)
        self.author_id, self.status_id = author_id, status_id
        self.runner: asyncio.Runner | None = None
        self.conn = None

    def __enter__(self) -> HeldFeedRow:
        self.runner = asyncio.Runner()
        self.conn = self.runner.run(asyncpg.connect(self.dsn))
        self.runner.run(self._hold())
        return self

    async def _hold(self) -> None:
        middle = await self.conn.fetchval(
            "SELECT account_id FROM follows WHERE target_account_id = $1 ORDER BY account_id OFFSET $2 LIMIT 1",
            self.author_id, FOLLOWERS // 2)
        await self.conn.execute("BEGIN")
        await self.conn.execute("INSERT INTO home_feed (account_id, status_id, author_id) VALUES ($1, $2, $3)",
                                middle, self.status_id, self.author_id)

    def __exit__(self, *exc) -> None:
        try:
            self.runner.run(self.conn.execute("ROLLBACK"))
            self.runner.run(self.conn.close())
        finally:
            self.runner.close()


@pytest.mark.parametrize("backend", ["postgres", "sqlite"])
def test_sigkill_mid_fan_out_then_restart_delivers_exactly_once(tmp_path, backend):
    with database(backend) as url:
        data = tmp_path / "data"
        # The backend is this test's choice, whatever pass the suite runs in; no Redis, so the feed store is
        # the SQL table that the checks below read.
        env = server_env(data, "kill.test",
                         extra={**WORKER_ENV, "STARLING_DATABASE_URL": url, "STARLING_REDIS_URL": ""})
        run_cli(["migrate"], env)
        settings = settings_for(data, url)
        author_id, status_id, job_id = asyncio.run(seed(settings))
        observer = Observer(settings, status_id, job_id)

        worker = WorkerProcess(env, tmp_path / "worker.log")
        caught = []
        try:
            for _ in range(KILLS):
                stall = (HeldFeedRow(url, author_id, status_id) if url
                         else StalledFeedRow(observer.sqlite_path, author_id, status_id))
                with stall:
                    worker.start()
                    seen = wait_for(observer.in_the_middle, timeout=90, interval=0.02,
                                    what=f"the worker to be in the middle of the fan-out\n{worker.log_text()[-2000:]}")
                    worker.kill()
                caught.append(seen)
                entries, state = asyncio.run(observer.counts())
                assert state == "queued", "the job finished although the worker died inside it"
                assert entries < FOLLOWERS + 1
            worker.start()
            restarted = time.monotonic()
            wait_for(lambda: asyncio.run(observer.counts())[1] == "done", timeout=120, interval=0.25,
                     what=f"the fan-out job to finish after the restart\n{worker.log_text()[-2000:]}")
            finished = time.monotonic() - restarted
        finally:
            worker.stop()

        missing, doubled, total, job = asyncio.run(verify(settings, author_id, status_id, job_id))
        assert missing == 0, f"{missing} followers never got the post"
        assert doubled == 0, f"{doubled} feeds hold the post more than once"
        assert total == FOLLOWERS + 1  # every follower and the author
        assert job.state == "done" and job.attempts >= 1, (job.state, job.attempts, job.last_error)
        print(f"{backend}: killed the worker {len(caught)} times mid-fan-out (committed entries, job) {caught}; "
              f"after restart {total} feeds hold the post once each, {finished:.1f} s after the last start")


async def verify(settings: Settings, author_id: int, status_id: int, job_id: int):
    ctx = AppContext.build(settings)
    try:
        async with ctx.db.read() as session:
            followers = select(Follow.account_id).where(Follow.target_account_id == author_id)
            have = select(HomeFeedEntry.account_id).where(HomeFeedEntry.status_id == status_id)
            missing = await session.scalar(select(func.count()).select_from(
                followers.where(Follow.account_id.not_in(have)).subquery()))
            per_feed = (select(HomeFeedEntry.account_id).where(HomeFeedEntry.status_id == status_id)
                        .group_by(HomeFeedEntry.account_id).having(func.count() > 1))
            doubled = await session.scalar(select(func.count()).select_from(per_feed.subquery()))
            total = await session.scalar(select(func.count()).select_from(HomeFeedEntry)
                                         .where(HomeFeedEntry.status_id == status_id))
            job = await session.get(Job, job_id)
        return missing, doubled, total, job
    finally:
        await ctx.close()
