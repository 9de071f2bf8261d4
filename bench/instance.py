"""The benchmark's own reads of an instance's database, from outside the server as an operator would:
sqlite3 on the file, or asyncpg on PostgreSQL. Also making (and cleaning up after) a PostgreSQL database
and a Redis prefix for a run."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import make_url

# The benchmark drops and recreates its PostgreSQL database, so it only touches databases named so.
BENCH_DATABASE = re.compile(r"starling_bench\w*")


def _pg_dsn(url: str, database: str | None = None) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


async def _pg(dsn: str, sql: str, *args: Any) -> list:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetch(sql, *args)
    finally:
        await conn.close()


def recreate_postgres_database(url: str) -> None:
    """Drop and create the database `url` names (it must look like starling_bench…)."""
    name = make_url(url).database or ""
    if not BENCH_DATABASE.fullmatch(name):
        raise SystemExit(f"--database-url must name a database the benchmark may recreate (starling_bench…), "
                         f"not {name!r}")
    dsn = _pg_dsn(url, "postgres")
    asyncio.run(_pg(dsn, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    asyncio.run(_pg(dsn, f'CREATE DATABASE "{name}"'))


def forget_redis_prefix(redis_url: str, prefix: str) -> None:
    """Delete the run's keys (only those under its prefix: the Redis may be shared)."""
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        batch = []
        for key in client.scan_iter(match=prefix + "*", count=1000):
            batch.append(key)
            if len(batch) >= 1000:
                client.delete(*batch)
                batch.clear()
        if batch:
            client.delete(*batch)
    finally:
        client.close()


@dataclass
class FanOut:
    deliveries: int  # feed inserts: one per follower of each post's author, plus the author's own
    seconds: float  # from the first post's creation to the last fan-out's end

    @property
    def per_second(self) -> float:
        return self.deliveries / self.seconds if self.seconds > 0 else float("nan")


class InstanceDatabase:
    """Queries on the jobs, statuses and accounts tables of one instance."""

    def __init__(self, database_url: str):
        self.url = database_url
        self.postgres = database_url.startswith("postgresql")

    def _rows(self, sqlite_sql: str, pg_sql: str, *args: Any) -> list[tuple]:
        if self.postgres:
            return [tuple(row) for row in asyncio.run(_pg(_pg_dsn(self.url), pg_sql, *args))]
        conn = sqlite3.connect(Path(make_url(self.url).database), timeout=30)
        try:
            return conn.execute(sqlite_sql, args).fetchall()
        finally:
            conn.close()

    def newest_job(self) -> int:
        return self._rows("SELECT coalesce(max(id), 0) FROM jobs", "SELECT coalesce(max(id), 0) FROM jobs")[0][0]

    def settled(self, since_id: int, expect: int) -> bool:
        """At least `expect` status.created jobs newer than `since_id` are done, and nothing is pending."""
        done = self._rows(
            "SELECT count(*) FROM jobs WHERE kind = 'status.created' AND state = 'done' AND id > ?",
            "SELECT count(*) FROM jobs WHERE kind = 'status.created' AND state = 'done' AND id > $1",
            since_id)[0][0]
        left = self._rows("SELECT count(*) FROM jobs WHERE state IN ('queued', 'running')",
                          "SELECT count(*) FROM jobs WHERE state IN ('queued', 'running')")[0][0]
        return done >= expect and left == 0

    def delivery_seconds(self, since_id: int) -> list[float]:
        """For each status.created job since `since_id`: seconds from the status's creation to the job's end."""
        rows = self._rows(
            "SELECT (julianday(j.finished_at) - julianday(s.created_at)) * 86400.0 FROM jobs j "
            "JOIN statuses s ON s.id = json_extract(j.payload, '$.status_id') "
            "WHERE j.kind = 'status.created' AND j.state = 'done' AND j.id > ?",
            "SELECT extract(epoch FROM j.finished_at - s.created_at)::float8 FROM jobs j "
            "JOIN statuses s ON s.id = (j.payload ->> 'status_id')::bigint "
            "WHERE j.kind = 'status.created' AND j.state = 'done' AND j.id > $1",
            since_id)
        return sorted(r[0] for r in rows if r[0] is not None)

    def fan_out(self, since_id: int) -> FanOut:
        """Feed inserts made by the status.created jobs since `since_id`, and the time they took."""
        rows = self._rows(
            "SELECT sum(a.followers_count + 1), "
            "(julianday(max(j.finished_at)) - julianday(min(s.created_at))) * 86400.0 FROM jobs j "
            "JOIN statuses s ON s.id = json_extract(j.payload, '$.status_id') "
            "JOIN accounts a ON a.id = s.account_id "
            "WHERE j.kind = 'status.created' AND j.state = 'done' AND j.id > ?",
            "SELECT sum(a.followers_count + 1), extract(epoch FROM max(j.finished_at) - min(s.created_at))::float8 "
            "FROM jobs j JOIN statuses s ON s.id = (j.payload ->> 'status_id')::bigint "
            "JOIN accounts a ON a.id = s.account_id "
            "WHERE j.kind = 'status.created' AND j.state = 'done' AND j.id > $1",
            since_id)
        deliveries, seconds = rows[0]
        return FanOut(int(deliveries or 0), float(seconds or 0.0))

    def followers_count(self, account_id: int) -> int:
        return self._rows("SELECT followers_count FROM accounts WHERE id = ?",
                          "SELECT followers_count FROM accounts WHERE id = $1", account_id)[0][0]
