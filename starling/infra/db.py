"""The database: engines, sessions, the declarative base, and SQLite tuning on every connection.

On SQLite there are two engines over one file: a write engine with a single pooled connection that
opens every transaction with BEGIN IMMEDIATE (writers queue in the pool instead of failing with
SQLITE_BUSY on a lock upgrade), and a read engine with a few connections for concurrent readers (WAL
lets them run beside the writer) that run on the event loop's thread (see sqlite_inloop). On
PostgreSQL both names point at one engine.

When PostgreSQL is down or unreachable nothing waits long: connecting, waiting for a pooled connection
and each statement have timeouts, dead pooled connections are dropped (on checkout when their socket is
closed, else at their first failed statement: see _drop_dead_connections) and replaced,
and `unavailable(exc)` tells the faces which errors mean "the database cannot be reached right now" (they
answer 503) rather than a bug. When the server is back, the next checkout simply connects again.
"""

from __future__ import annotations

import errno
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, NamedTuple

from asyncpg import exceptions as pg_errors
from sqlalchemy import BigInteger, Integer, MetaData, event, make_url
from sqlalchemy import exc as sa_exc
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase

from starling.infra import direct, sqlite_inloop

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# 64-bit IDs; on SQLite an INTEGER PRIMARY KEY is the rowid itself, which is already 64-bit.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _sqlite_pragmas(cursor: Any, *, synchronous: str, busy_timeout_ms: int) -> None:
    cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute(f"PRAGMA synchronous = {synchronous}")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA cache_size = -32000")
    cursor.execute("PRAGMA temp_store = MEMORY")
    cursor.execute("PRAGMA mmap_size = 268435456")


def _tune_sqlite(engine: AsyncEngine, *, synchronous: str, busy_timeout_ms: int, immediate: bool) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # We issue BEGIN ourselves (below), so the driver must not.
        if dbapi_connection.isolation_level is not None:
            dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        _sqlite_pragmas(cursor, synchronous=synchronous, busy_timeout_ms=busy_timeout_ms)
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _drop_dead_connections(engine: AsyncEngine) -> None:
    """Dead pooled PostgreSQL connections are replaced without a ping on every checkout (a ping is three
    round trips on asyncpg: BEGIN, a statement, ROLLBACK; it was most of a home read's overhead).

    - On checkout, a connection whose socket the driver already saw close (PostgreSQL restarted or went
      away while it sat in the pool) is discarded and another taken: no round trip.
    - A statement that fails because the server cannot be reached (see `unavailable`: gone, refused,
      timed out) invalidates its connection, so the pool never hands it out again; the request answers
      503 and the next one connects afresh. Direct reads do the same through `discard_on_failure`.
    """

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        driver = getattr(dbapi_connection, "driver_connection", None)
        if driver is not None and driver.is_closed():
            raise sa_exc.DisconnectionError("the pooled connection was closed by the server")

    @event.listens_for(engine.sync_engine, "handle_error")
    def _on_error(context: Any) -> None:
        if not context.is_disconnect and unavailable(context.original_exception):
            context.is_disconnect = True


async def discard_on_failure(connection: Any, exc: BaseException | None) -> None:
    """After a direct read on `connection` (an AsyncConnection) raised `exc`: when the database could not
    be reached, invalidate the connection so the pool opens a new one instead of handing it out again."""
    if exc is not None and unavailable(exc) and not connection.invalidated:
        await connection.invalidate()


class Timeouts(NamedTuple):
    """Seconds PostgreSQL gets before a request gives up on it (see Settings.db_*)."""

    connect: float = 5.0
    pool: float = 5.0
    command: float = 30.0

    @classmethod
    def of(cls, settings: Any) -> Timeouts:
        """The instance's timeouts (Settings.db_connect_timeout and friends), or the defaults."""
        if settings is None:
            return cls()
        return cls(settings.db_connect_timeout, settings.db_pool_timeout, settings.db_command_timeout)


class Database:
    """Engines and session factories for one database URL."""

    def __init__(self, url: str, *, synchronous: str = "FULL", busy_timeout_ms: int = 10_000,
                 read_pool: int = 4, echo: bool = False, info: dict[str, Any] | None = None,
                 timeouts: Timeouts | None = None):
        """`info` is attached to every session (the instance settings live there for jobs and
        services that are not handed them). `timeouts` default to those of the settings in `info`."""
        timeouts = timeouts or Timeouts.of((info or {}).get("settings"))
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            self.write_engine = create_async_engine(
                url, pool_size=1, max_overflow=0, pool_timeout=60, echo=echo,
                async_creator=sqlite_inloop.creator(make_url(url).database, writer=True))
            self.read_engine = create_async_engine(
                url, pool_size=read_pool, max_overflow=0, pool_timeout=60, echo=echo,
                async_creator=sqlite_inloop.creator(make_url(url).database))
            _tune_sqlite(self.write_engine, synchronous=synchronous, busy_timeout_ms=busy_timeout_ms,
                         immediate=True)
            _tune_sqlite(self.read_engine, synchronous=synchronous, busy_timeout_ms=busy_timeout_ms,
                         immediate=False)

            def configure(conn: Any) -> None:
                _sqlite_pragmas(conn, synchronous=synchronous, busy_timeout_ms=busy_timeout_ms)

            self.direct: direct.SqliteReads | direct.PoolReads = direct.SqliteReads(
                make_url(url).database, self.read_engine.dialect, configure, keep=read_pool)
        else:
            self.write_engine = create_async_engine(
                url, pool_size=10, max_overflow=10, pool_timeout=timeouts.pool, echo=echo,
                connect_args={"timeout": timeouts.connect, "command_timeout": timeouts.command})
            _drop_dead_connections(self.write_engine)
            self.read_engine = self.write_engine
            self.direct = direct.PoolReads(self.read_engine)
        self.write_sessions = async_sessionmaker(self.write_engine, expire_on_commit=False, autoflush=True,
                                                 info=dict(info or {}))
        self.read_sessions = async_sessionmaker(self.read_engine, expire_on_commit=False, autoflush=False,
                                                info=dict(info or {}))

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncSession]:
        """One unit of work: commits when the block ends, rolls back if it raises."""
        async with self.write_sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A read-only snapshot; nothing written here is committed. Objects loaded here stay usable
        after the block ends (detached with their loaded attributes, not expired)."""
        async with self.read_sessions() as session, session.begin():
            yield session
            session.expunge_all()
            await session.rollback()

    def reads(self) -> Any:
        """A connection for direct reads (see infra.direct): `async with db.reads() as reader:`. Use it on
        hot paths with `direct.Query` statements; everything else uses sessions."""
        return self.direct.read()

    async def dispose(self) -> None:
        await self.direct.dispose()
        await self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            await self.read_engine.dispose()


# Socket errors that mean "nobody answers there right now" (ENOENT: a Unix socket that is gone).
_UNREACHABLE = {errno.ECONNREFUSED, errno.ECONNRESET, errno.ECONNABORTED, errno.EHOSTUNREACH, errno.ENETUNREACH,
                errno.ETIMEDOUT, errno.EPIPE, errno.ENOENT}
_DRIVERS = ("asyncpg", "sqlalchemy")
# PostgreSQL's classes 08 (connection), 53 (out of connections or memory) and 57 (shutting down, starting
# up, statement cancelled), and a connection that died under a statement.
_POSTGRES_AWAY = (pg_errors.PostgresConnectionError, pg_errors.InsufficientResourcesError,
                  pg_errors.OperatorInterventionError, pg_errors.ConnectionDoesNotExistError)

# What a database call can raise when the server is away (OSError covers TimeoutError and ConnectionError);
# the faces route these through `unavailable`.
DATABASE_ERRORS = (sa_exc.SQLAlchemyError, OSError, pg_errors.PostgresError, pg_errors.InterfaceError)


def _raised_by_driver(exc: BaseException) -> bool:
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_globals.get("__name__", "").startswith(_DRIVERS):
            return True
        tb = tb.tb_next
    return False


def unavailable(exc: BaseException) -> bool:
    """Whether `exc` means the database cannot be reached right now (down, restarting, unreachable, out
    of connections, or not answering in time) rather than a fault in the request or the code."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, sa_exc.DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, (sa_exc.TimeoutError, *_POSTGRES_AWAY)):  # TimeoutError: no pooled connection
            return True
        if isinstance(current, OSError) and _raised_by_driver(current) and (
                isinstance(current, (TimeoutError, ConnectionError)) or current.errno in _UNREACHABLE):
            return True
        nxt = getattr(current, "orig", None)
        current = nxt if isinstance(nxt, BaseException) else (current.__cause__ or current.__context__)
    return False


def dialect_name(session: AsyncSession) -> str:
    return session.get_bind().dialect.name


# Bound parameters per statement: SQLite allows 32766 in current builds (999 in old ones); stay below.
MAX_PARAMS = 900


async def insert_ignore(session: AsyncSession, target: Any, rows: list[dict[str, Any]]) -> int:
    """INSERT rows, skipping any that hit a unique constraint; returns how many went in.

    The one place with dialect-specific SQL for "insert unless present": SQLite and PostgreSQL both
    spell it ON CONFLICT DO NOTHING, each through its own SQLAlchemy insert construct. `target` is a
    mapped class or a Table. Rows go in multi-row statements sized under the parameter limit."""
    if not rows:
        return 0
    name = dialect_name(session)
    if name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - only the two supported backends exist
        raise RuntimeError(f"unsupported database dialect {name!r}")
    per_chunk = max(1, MAX_PARAMS // max(1, len(rows[0])))
    inserted = 0
    for start in range(0, len(rows), per_chunk):
        chunk = list(rows[start:start + per_chunk])
        result = await session.execute(insert(target).values(chunk).on_conflict_do_nothing())
        inserted += max(result.rowcount or 0, 0)
    return inserted
