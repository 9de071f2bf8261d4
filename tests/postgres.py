"""The backend a test pass runs on, and throwaway PostgreSQL databases.

`make test` runs the whole suite once on SQLite and, when STARLING_TEST_DATABASE_URL and
STARLING_TEST_REDIS_URL are set, once more with STARLING_TEST_BACKEND=postgres: then every data dir a
test uses (the `settings` fixture's, each `tests.live` server's, anything given to `settings_for`) is
backed by a PostgreSQL database of its own, made with CREATE DATABASE … TEMPLATE from one database
migrated at the start of the session, and by a Redis key prefix of its own.

When the test that took them ends (module- or session-scoped fixtures: when the session ends), the
Redis keys are deleted and the database is emptied (all rows deleted, sequences restarted: a few ms)
and kept for the next test, which gets it under a new name (caches keyed by the URL never carry
over). Creating and dropping a database each cost a checkpoint: 35–50 ms on a quiet machine, up to
seconds on a busy one (a first version that did so per test took 10 minutes for the 606-cell
authorization matrix alone; reusing emptied databases, 3). One database per data dir, rather
than one truncated database per process, is what lets live servers, CLI subprocesses and
snapshot-and-restore fixtures work unchanged.

Also here: `pg_db` (an empty migrated PostgreSQL database as a `Database`, for the tests of dialect
branches that run in both passes), `requires_postgres`, and `sqlite_only(reason)` for the few tests that
are about SQLite itself.
"""

from __future__ import annotations

import asyncio
import io
import itertools
import os
import re
import secrets
import shutil
import threading
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from starling.config import Settings
from starling.infra.db import Database
from starling.migrate import upgrade

PG_URL = os.environ.get("STARLING_TEST_DATABASE_URL", "")
REDIS_URL = os.environ.get("STARLING_TEST_REDIS_URL", "")
BACKEND = os.environ.get("STARLING_TEST_BACKEND", "sqlite")
ON_POSTGRES = BACKEND == "postgres"
TEST_SECRET = "t" * 48

if BACKEND not in ("sqlite", "postgres"):
    raise pytest.UsageError(f"STARLING_TEST_BACKEND must be sqlite or postgres, not {BACKEND!r}")
if ON_POSTGRES and not PG_URL.startswith("postgresql"):
    raise pytest.UsageError("STARLING_TEST_BACKEND=postgres needs STARLING_TEST_DATABASE_URL "
                            "(e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/test)")

# Every pass of this run of `make test` (scripts/test_passes.py names them); a lone pytest is one pass.
PASSES = tuple(os.environ.get("STARLING_TEST_PASSES", BACKEND).split(","))


def elsewhere_in_this_run(backend: str) -> bool:
    """Whether a test that brings its own `backend`, whatever pass runs it (a throwaway PostgreSQL database
    or cluster, a SQLite file of its own), is run by another pass of this run: there it runs, and in this
    pass it would only repeat itself, at the same moment, on a machine both passes share."""
    return backend != BACKEND and backend in PASSES


def requires(condition: bool, missing: str, backend: str = "postgres") -> pytest.MarkDecorator:
    """Skip when `condition` does not hold (saying what is `missing`), and in the passes that are not
    `backend`'s when this run has one (see elsewhere_in_this_run)."""
    reason = f"runs in this run's {backend} pass" if condition else missing
    return pytest.mark.skipif(not condition or elsewhere_in_this_run(backend), reason=reason)


requires_postgres = requires(PG_URL.startswith("postgresql"),
                             "STARLING_TEST_DATABASE_URL does not name a PostgreSQL database")


def sqlite_only(reason: str) -> pytest.MarkDecorator:
    """Skip on the PostgreSQL pass: the test is about SQLite itself (its files, pragmas, locking)."""
    return pytest.mark.skipif(ON_POSTGRES, reason=f"SQLite-specific: {reason}")


def output_dir() -> Path:
    """Where a test writes reports: test-output/, or test-output/postgres/ on the PostgreSQL pass (the
    two passes run at once)."""
    root = Path(__file__).resolve().parent.parent / "test-output"
    return root / "postgres" if ON_POSTGRES else root


def describe() -> str:
    """One line naming what this pass runs on."""
    if not ON_POSTGRES:
        return "backend: SQLite (embedded default, no Redis)"
    pg = make_url(PG_URL).render_as_string(hide_password=True)
    return f"backend: PostgreSQL {pg} + Redis {REDIS_URL or '(none: STARLING_TEST_REDIS_URL is not set)'}"


class _AdminLoop:
    """asyncpg statements from sync or async code alike: they run on a thread with its own event loop,
    over connections kept open there (one to the server's maintenance database, one per test database)."""

    def __init__(self, base_dsn: str):
        self.base_dsn = base_dsn
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="pg-admin", daemon=True)
        self.thread.start()
        self.conns: dict[str | None, Any] = {}
        self.lock = threading.Lock()  # one statement at a time on each connection

    def run(self, coro: Coroutine) -> Any:
        with self.lock:
            return asyncio.run_coroutine_threadsafe(coro, self.loop).result()

    async def connection(self, database: str | None = None) -> Any:
        """An open connection to `database` (None: the maintenance database); FK triggers are off on
        the test databases' ones, so rows can be deleted and copied in any table order."""
        import asyncpg

        conn = self.conns.get(database)
        if conn is None or conn.is_closed():
            dsn = self.base_dsn if database is None else make_url(self.base_dsn).set(database=database)
            conn = await asyncpg.connect(str(dsn) if database is None else dsn.render_as_string(False))
            if database is not None:
                await conn.execute("SET session_replication_role = replica")
            self.conns[database] = conn
        return conn

    def execute(self, sql: str, database: str | None = None) -> Any:
        async def go() -> Any:
            return await (await self.connection(database)).execute(sql)
        return self.run(go())

    def fetch(self, sql: str, database: str | None = None) -> list:
        async def go() -> list:
            return await (await self.connection(database)).fetch(sql)
        return self.run(go())

    def disconnect(self, database: str) -> None:
        async def go() -> None:
            conn = self.conns.pop(database, None)
            if conn is not None:
                await conn.close()
        self.run(go())

    def close(self) -> None:
        async def go() -> None:
            for conn in self.conns.values():
                await conn.close()
            self.conns.clear()
        self.run(go())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


@dataclass
class Place:
    """What one data dir is backed by on the PostgreSQL pass."""

    data_dir: Path
    database: str
    url: str
    redis_prefix: str


class PostgresPass:
    """Per test process: the migrated template database, and test databases made from it.

    Making and dropping a database costs a checkpoint (from 50 ms to seconds when the machine is busy),
    so a test's databases are not dropped when it ends: their rows are deleted (a few ms) and they wait,
    empty, for the next test."""

    def __init__(self, base_url: str, redis_url: str):
        self.base = make_url(base_url).set(drivername="postgresql+asyncpg")
        self.redis_url = redis_url
        self.stem = f"starling_t{os.getpid()}"
        self.template = f"{self.stem}_template"
        self.admin = _AdminLoop(self.base.set(drivername="postgresql").render_as_string(hide_password=False))
        self.places: dict[Path, Place] = {}
        self.spare: list[str] = []
        self.counter = itertools.count(1)
        self.lock = threading.RLock()
        self.tables: list[str] = []
        self.sequences: list[str] = []
        self._redis: Any = None

    def url_of(self, database: str) -> str:
        return self.base.set(database=database).render_as_string(hide_password=False)

    def _prepare(self) -> None:
        """Drop what dead test processes left behind, then migrate this process's template once."""
        if self.tables:
            return
        for (name,) in self.admin.fetch("SELECT datname FROM pg_database WHERE datname LIKE 'starling_t%'"):
            found = re.fullmatch(r"starling_t(\d+)_\w+", name)
            if found and not _alive(int(found.group(1))):
                self.admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self._forget_dead_redis()
        self.admin.execute(f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)')
        self.admin.execute(f'CREATE DATABASE "{self.template}"')
        # Alembic runs its own event loop: off this thread, which may be inside a running one.
        with ThreadPoolExecutor(1) as pool:
            pool.submit(upgrade, self.url_of(self.template)).result()
        self.tables = [row[0] for row in self.admin.fetch(
            "SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename <> 'alembic_version' ORDER BY tablename", self.template)]
        self.sequences = [row[0] for row in self.admin.fetch(
            "SELECT quote_ident(sequencename) FROM pg_sequences WHERE schemaname = 'public'", self.template)]
        self.admin.disconnect(self.template)  # CREATE DATABASE … TEMPLATE needs it unused

    def place(self, data_dir: Path) -> Place:
        """The database and Redis prefix behind `data_dir`: an emptied one from an earlier test, or one
        made from the migrated template."""
        key = Path(data_dir).resolve()
        with self.lock:
            if key not in self.places:
                self._prepare()
                name = self._reuse(self.spare.pop()) if self.spare else self._create()
                prefix = f"starling-test:{os.getpid()}:{next(self.counter)}:"
                self.places[key] = Place(key, name, self.url_of(name), prefix)
            return self.places[key]

    def _reuse(self, spare: str) -> str:
        """An emptied database under a new name: a test's URL is never an earlier test's, since some
        process-level caches are keyed by the database URL (trends). Renaming is a catalog update."""
        name = f"{self.stem}_{next(self.counter)}"
        self.admin.disconnect(spare)
        self.admin.execute(f'ALTER DATABASE "{spare}" RENAME TO "{name}"')
        return name

    def _create(self) -> str:
        name = f"{self.stem}_{next(self.counter)}"
        self.admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}"')
        # A lost commit can only come from a crash of PostgreSQL itself, which no test does.
        self.admin.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
        return name

    def _empty(self, database: str) -> None:
        """Delete every row and restart every sequence: the database is as migrated again. A test that
        left a transaction holding locks gets a lock timeout here, and its database is dropped."""
        statements = ["SET lock_timeout = '5s'", *(f"DELETE FROM {table}" for table in self.tables),
                      *(f"ALTER SEQUENCE {seq} RESTART" for seq in self.sequences)]
        self.admin.execute(";\n".join(statements), database)

    def copy(self, source: Path, target: Path) -> Place:
        """Make `target`'s database hold exactly the rows of `source`'s, and empty its Redis prefix."""
        origin, place = self.place(source), self.place(target)
        self._empty(place.database)
        self.admin.run(self._copy_rows(origin.database, place.database))
        self.forget_redis(place.redis_prefix)
        return place

    async def _copy_rows(self, source: str, target: str) -> None:
        src, dst = await self.admin.connection(source), await self.admin.connection(target)
        for table in self.tables:
            buffer = io.BytesIO()
            # COPY of a whole table leaves out generated columns (statuses.search_vector), on both ends.
            await src.copy_from_table(table.strip('"'), output=buffer, format="binary")
            if buffer.tell() > _EMPTY_BINARY_COPY:
                buffer.seek(0)
                await dst.copy_to_table(table.strip('"'), source=buffer, format="binary")
        for seq in self.sequences:
            row = await src.fetchrow(f"SELECT last_value, is_called FROM {seq}")
            await dst.execute("SELECT setval($1, $2, $3)", seq, row["last_value"], row["is_called"])

    def release(self, keys: list[Path]) -> None:
        """Empty the databases and Redis prefixes behind these data dirs, for later tests."""
        for key in keys:
            with self.lock:
                place = self.places.pop(key, None)
            if place is None:
                continue
            self.forget_redis(place.redis_prefix)
            try:
                self._empty(place.database)
            except Exception:
                self.admin.disconnect(place.database)
                self.admin.execute(f'DROP DATABASE IF EXISTS "{place.database}" WITH (FORCE)')
                continue
            with self.lock:
                self.spare.append(place.database)

    def _forget_dead_redis(self) -> None:
        """Delete the keys that test processes which died mid-run left under their prefixes."""
        if not self.redis_url:
            return
        dead = set()
        for key in self._client().scan_iter(match="starling-test:*", count=1000):
            found = re.match(rb"starling-test:(\d+):", key)
            if found and not _alive(int(found.group(1))):
                dead.add(int(found.group(1)))
        for pid in dead:
            self.forget_redis(f"starling-test:{pid}:")

    def _client(self) -> Any:
        if self._redis is None:
            import redis

            self._redis = redis.Redis.from_url(self.redis_url)
        return self._redis

    def forget_redis(self, prefix: str) -> None:
        """Delete every key under `prefix` (never anything else: the Redis is shared)."""
        if self.redis_url:
            _delete_prefix(self._client(), prefix)

    def close(self) -> None:
        self.release(list(self.places))
        for name in self.spare:
            self.admin.disconnect(name)
            self.admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if self.tables:
            self.admin.execute(f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)')
        self.admin.close()
        if self._redis is not None:
            self._redis.close()


# What COPY … (FORMAT binary) writes for no rows: its 19-byte header and 2-byte trailer.
_EMPTY_BINARY_COPY = 21


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _glob_escape(text: str) -> str:
    return re.sub(r"([*?\[\]\\])", r"\\\1", text)


def _delete_prefix(client: Any, prefix: str) -> None:
    batch = []
    for key in client.scan_iter(match=_glob_escape(prefix) + "*", count=1000):
        batch.append(key)
        if len(batch) >= 500:
            client.delete(*batch)
            batch.clear()
    if batch:
        client.delete(*batch)


_own_prefixes: list[str] = []


def own_redis_prefix() -> str:
    """A Redis key prefix for a test that points something at the shared Redis itself (a second bus, a
    live server of its own). Its keys are deleted when the test ends (forget_own_prefixes), in either pass."""
    prefix = f"starling-test-{secrets.token_hex(6)}:"
    _own_prefixes.append(prefix)
    return prefix


def forget_own_prefixes() -> None:
    if not _own_prefixes:
        return
    if REDIS_URL:
        import redis

        client = redis.Redis.from_url(REDIS_URL)
        try:
            for prefix in _own_prefixes:
                _delete_prefix(client, prefix)
        finally:
            client.close()
    _own_prefixes.clear()


_pass: PostgresPass | None = None


def postgres_pass() -> PostgresPass:
    global _pass
    if _pass is None:
        _pass = PostgresPass(PG_URL, REDIS_URL)
    return _pass


def close_pass() -> None:
    global _pass
    if _pass is not None:
        _pass.close()
        _pass = None


def places_made() -> set[Path]:
    return set(_pass.places) if _pass is not None else set()


def release_places(keys: set[Path]) -> None:
    if _pass is not None and keys:
        _pass.release(sorted(keys))


# ---- what tests and live servers use -----------------------------------------------------------

def backend_settings(data_dir: Path) -> dict[str, Any]:
    """The Settings fields that put `data_dir`'s instance on this pass's backend ({} on SQLite)."""
    if not ON_POSTGRES:
        return {}
    place = postgres_pass().place(data_dir)
    return {"database_url": place.url, "redis_url": REDIS_URL, "redis_prefix": place.redis_prefix}


def backend_env(data_dir: Path) -> dict[str, str]:
    """The same as STARLING_* variables, for `starling` subprocesses."""
    return {f"STARLING_{name.upper()}": str(value) for name, value in backend_settings(data_dir).items()}


def settings_for(data_dir: Path, **overrides: Any) -> Settings:
    """Test settings for an instance on `data_dir`, on this pass's backend (a SQLite file in `data_dir`
    is not created here: migrate it or copy the template in)."""
    values: dict[str, Any] = dict(data_dir=data_dir, domain="testserver", secret_key=TEST_SECRET,
                                  embedded_worker=False, sqlite_synchronous="NORMAL")
    values.update(backend_settings(data_dir))
    values.update(overrides)
    return Settings(_env_file=None, **values)


def instance_rows(data_dir: Path, sql: str) -> list[tuple]:
    """Rows of a plain SQL statement (no parameters; committed) on the database behind `data_dir`, from
    outside the instance the way an operator would: sqlite3 on the file, or a PostgreSQL connection."""
    if not ON_POSTGRES:
        import sqlite3

        db = sqlite3.connect(Path(data_dir) / "starling.sqlite3", timeout=10)
        try:
            rows = db.execute(sql).fetchall()
            db.commit()
            return rows
        finally:
            db.close()
    rig = postgres_pass()
    return [tuple(row) for row in rig.admin.fetch(sql, rig.place(data_dir).database)]


def copy_instance(source: Path, target: Path) -> None:
    """Make `target` a copy of the instance on `source`: its files, and its database on PostgreSQL.
    Nothing may be connected to `source`'s database meanwhile."""
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target)
    if ON_POSTGRES:
        postgres_pass().copy(source, target)


@pytest.fixture
async def pg_db():
    """A migrated, empty PostgreSQL database of the test's own, as a `Database` (both passes, when CI's
    PostgreSQL is configured)."""
    if not PG_URL.startswith("postgresql"):
        pytest.skip("STARLING_TEST_DATABASE_URL does not name a PostgreSQL database")
    rig = postgres_pass()
    place = await asyncio.to_thread(rig.place, Path(f"/nonexistent/pg_db/{next(rig.counter)}"))
    db = Database(place.url, info={"settings": settings_for(place.data_dir, database_url=place.url), "redis": None})
    try:
        yield db
    finally:
        await db.dispose()
        await asyncio.to_thread(rig.release, [place.data_dir])
