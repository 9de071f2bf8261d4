"""Fan-out throughput: one post by an author with N followers, from commit to the last follower's feed.

    python -m bench.fanout --followers 100000 --backend redis --database postgres
    python -m bench.fanout --followers 100000 --backend sqlite

`--backend` is where feeds live: `sqlite` means the SQL `home_feed` table (on whichever database runs),
`redis` the Redis sorted sets (REDIS_URL, default the machine's Redis, under a throwaway prefix that is
deleted afterwards). `--database` is `sqlite` (a temporary file) or `postgres` (a scratch database
created on PG_URL and dropped afterwards). The fan-out threshold is raised above N so the post is
pushed to every follower, as a worker would: the post's job runs in one process with `jobs.drain`.
With Redis every follower's feed exists first (all of them read home), the most work fan-out can have.
Prints feed inserts per second and time to every feed for each run; decides nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import create_async_engine

from starling.app import load_job_handlers
from starling.config import Settings
from starling.context import AppContext
from starling.infra import jobs
from starling.migrate import upgrade
from starling.models import Account, Follow, HomeFeedEntry
from starling.posts import service as posts
from starling.timelines.redis_feeds import BUILT, RedisFeeds

PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432"
REDIS_URL = "redis://127.0.0.1:6379/0"
CHUNK = 5_000


def _account(account_id: int, now: datetime) -> dict:
    return dict(id=account_id, username=f"f{account_id}", username_lower=f"f{account_id}", display_name="",
                note="", note_html="", fields=[], email=f"f{account_id}@bench.invalid", password_hash="x",
                role="user", approved=True, confirmed_at=now, created_at=now, locale="en",
                default_privacy="public", followers_count=0, following_count=1, statuses_count=0)


async def _fill(ctx: AppContext, followers: int) -> int:
    """The author (ID 1) and `followers` accounts that follow it; returns the author's ID."""
    now = datetime.now(UTC).replace(tzinfo=None)
    author = _account(1, now) | {"username": "author", "username_lower": "author", "followers_count": followers,
                                 "following_count": 0}
    async with ctx.db.write() as session:
        await session.execute(insert(Account.__table__), [author])
        for start in range(2, followers + 2, CHUNK):
            ids = range(start, min(start + CHUNK, followers + 2))
            await session.execute(insert(Account.__table__), [_account(i, now) for i in ids])
            await session.execute(insert(Follow.__table__), [
                dict(id=i, account_id=i, target_account_id=1, show_reblogs=True, notify=False, created_at=now)
                for i in ids])
    async with ctx.db.write() as session:  # fresh statistics, as a long-running instance would have
        await session.execute(text("ANALYZE"))
    return 1


async def _start_feeds(ctx: AppContext, followers: int) -> None:
    """Every follower's feed built (empty), as if all of them read home: fan-out skips missing feeds."""
    feeds = RedisFeeds(ctx.redis, ctx.settings)
    for start in range(1, followers + 2, CHUNK):
        async with ctx.redis.pipeline(transaction=False) as pipe:
            for account_id in range(start, min(start + CHUNK, followers + 2)):
                pipe.zadd(feeds.key(account_id), {BUILT: 0})  # what an empty build leaves
                pipe.expire(feeds.key(account_id), ctx.settings.feed_ttl_seconds)
            await pipe.execute()


async def _feeds_holding(ctx: AppContext, status_id: int, followers: int) -> int:
    """How many feeds (the author's included) hold the status: the check that every feed got it."""
    if ctx.redis is None:
        async with ctx.db.read() as session:
            return await session.scalar(select(func.count()).select_from(HomeFeedEntry)
                                        .where(HomeFeedEntry.status_id == status_id)) or 0
    member = f"{status_id}:1"
    found = 0
    for start in range(1, followers + 2, CHUNK):
        async with ctx.redis.pipeline(transaction=False) as pipe:
            for account_id in range(start, min(start + CHUNK, followers + 2)):
                pipe.zscore(f"{ctx.settings.redis_prefix}feed:{account_id}", member)
            found += sum(score is not None for score in await pipe.execute())
    return found


def _settings(args: argparse.Namespace, database_url: str, data_dir: Path) -> Settings:
    """The instance's settings for one benchmark, its database migrated."""
    settings = Settings(data_dir=data_dir, database_url=database_url, domain="bench.local",
                        secret_key="b" * 48, embedded_worker=False, sqlite_synchronous="NORMAL",
                        redis_url=args.redis_url if args.backend == "redis" else "",
                        redis_prefix=f"bench-fanout-{uuid.uuid4().hex[:8]}:",
                        fanout_threshold=args.followers + 1, fanout_batch=args.batch, _env_file=None)
    data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.resolved_database_url)
    return settings


async def _run(args: argparse.Namespace, settings: Settings) -> None:
    prefix = settings.redis_prefix
    load_job_handlers()
    ctx = AppContext.build(settings)
    try:
        started = time.perf_counter()
        author = await _fill(ctx, args.followers)
        if ctx.redis is not None:
            await _start_feeds(ctx, args.followers)
        print(f"filled {args.followers:,} followers in {time.perf_counter() - started:.1f}s "
              f"(feeds: {args.backend}, database: {args.database}, batch {args.batch})")
        for run in range(1, args.runs + 1):
            async with ctx.db.write() as session:
                status = await posts.create_status(session, settings, account_id=author, text=f"run {run}")
            started = time.perf_counter()
            await jobs.drain(ctx.db)
            elapsed = time.perf_counter() - started
            holding = await _feeds_holding(ctx, status.id, args.followers)
            print(f"run {run}: {holding:,} feeds in {elapsed:.2f}s to every feed, "
                  f"{holding / elapsed:,.0f} feed inserts/s"
                  + ("" if holding == args.followers + 1 else f"  (MISSING {args.followers + 1 - holding})"))
    finally:
        if ctx.redis is not None:
            doomed = [k async for k in ctx.redis.scan_iter(match=prefix + "*", count=5_000)]
            for start in range(0, len(doomed), 1_000):
                await ctx.redis.delete(*doomed[start:start + 1_000])
        await ctx.close()


async def _scratch_database(action: str, name: str) -> None:
    engine = create_async_engine(f"{PG_URL}/postgres", isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(f'{action} DATABASE "{name}"'))
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.fanout", description=__doc__.splitlines()[0])
    parser.add_argument("--followers", type=int, default=100_000)
    parser.add_argument("--backend", choices=("sqlite", "redis"), default="redis", help="where feeds live")
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--redis-url", default=REDIS_URL)
    parser.add_argument("--batch", type=int, default=1_000, help="followers per fan-out batch")
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="starling-fanout-") as tmp:
        if args.database == "sqlite":
            asyncio.run(_run(args, _settings(args, "", Path(tmp))))
            return
        name = f"bench_fanout_{uuid.uuid4().hex[:8]}"
        asyncio.run(_scratch_database("CREATE", name))
        try:
            asyncio.run(_run(args, _settings(args, f"{PG_URL}/{name}", Path(tmp))))
        finally:
            asyncio.run(_scratch_database("DROP", name))


if __name__ == "__main__":
    main()
