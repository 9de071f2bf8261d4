"""Direct reads: the hot paths' SELECTs, written in SQLAlchemy Core, compiled once, run on the driver.

SQLAlchemy's execution layer costs 30-110 µs a statement (cache key, IN-list expansion, result
machinery) and opening a session another 100-300 µs; a home-timeline page needs only a few small
indexed statements, so that overhead was most of the request. A `Query` here is an ordinary Core
SELECT. It is compiled by SQLAlchemy for the engine's dialect once per shape (IN lists are padded to
a power of two by repeating their last value, which changes no IN test), its bind and result
processors are looked up once, and each execution is a single driver call.

Connections: on SQLite a small free list of plain sqlite3 connections whose calls run on the event
loop's thread, as the read engine's do (see sqlite_inloop), each read inside BEGIN ... ROLLBACK for one
snapshot; on PostgreSQL a connection of the read engine's pool and asyncpg's own fetch (each statement
sees the latest commit, as under READ COMMITTED anyway).
"""

from __future__ import annotations

import sqlite3
from collections import namedtuple
from collections.abc import Callable, Collection, Mapping
from typing import Any

from sqlalchemy import Boolean
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql import Select
from sqlalchemy.sql.selectable import CompoundSelect

# Shapes kept per query (distinct IN-list size buckets); more than this means a bug, not a workload.
MAX_PLANS = 64


def _bucket(size: int) -> int:
    return 0 if size == 0 else 1 << (size - 1).bit_length()


class _Plan:
    """One compiled shape of a query: SQL text, where each positional value comes from, processors."""

    __slots__ = ("sql", "sources", "binders", "results")

    def __init__(self, sql: str, sources: list[tuple[str, int]], binders: list[Callable | None]):
        self.sql = sql
        self.sources = sources  # (parameter name, index into its padded list or -1 for a scalar)
        self.binders = binders if any(binders) else []
        # (column index, processor); known after the first run, as some drivers' processors depend on
        # the column types the database reports.
        self.results: list[tuple[int, Callable]] | None = None


class Query:
    """A Core SELECT (or UNION ALL) prepared for direct execution. Parameters are `bindparam`s; IN lists
    are `bindparam(name, expanding=True)`. Constants written into the statement keep their values.
    `truthy_booleans`: the caller only tests boolean columns for truth, so SQLite's 0/1 stay as they are;
    `raw`: columns (by key) the caller uses only as opaque values, e.g. a timestamp as a cache key, left
    as the driver gives them. Both save converting every row."""

    def __init__(self, stmt: Select | CompoundSelect, *, truthy_booleans: bool = False,
                 raw: Collection[str] = ()):
        self.stmt = stmt
        self.truthy_booleans = truthy_booleans
        self.raw = frozenset(raw)
        self.keys = tuple(c.key for c in stmt.selected_columns)
        self.record = namedtuple("Record", self.keys, rename=True)  # type: ignore[misc]
        self._compiled: dict[str, Any] = {}
        self._plans: dict[tuple, _Plan] = {}

    def _prepare(self, dialect: Dialect) -> tuple[Any, dict[str, Any], tuple[str, ...]]:
        compiled = self.stmt.compile(dialect=dialect)
        if not compiled.positional:
            raise RuntimeError(f"direct reads need a positional paramstyle, not {dialect.paramstyle}")
        if any(not b.expanding for b in compiled.literal_execute_params):
            raise RuntimeError("direct reads cannot run statements with literal-rendered parameters")
        binds = {name: compiled.binds[name] for name in compiled.positiontup}
        defaults = {name: bind.effective_value for name, bind in binds.items()}
        expanding = tuple(name for name, bind in binds.items() if bind.expanding)
        prepared = self._compiled[dialect.name] = (compiled, defaults, expanding)
        return prepared

    def plan(self, dialect: Dialect, params: Mapping[str, Any]) -> tuple[_Plan, dict[str, Any]]:
        """The plan for these parameters, and the parameters with constants filled in and lists padded."""
        prepared = self._compiled.get(dialect.name) or self._prepare(dialect)
        compiled, defaults, expanding = prepared
        values = {**defaults, **params}
        shape: tuple = (dialect.name,)
        for name in expanding:
            items = list(values[name])
            size = _bucket(len(items))
            if size != len(items):
                items.extend(items[-1:] * (size - len(items)))
            values[name] = items
            shape += (size,)
        found = self._plans.get(shape)
        if found is None:
            found = self._make_plan(dialect, compiled, values)
            if len(self._plans) >= MAX_PLANS:
                self._plans.clear()
            self._plans[shape] = found
        return found, values

    def _make_plan(self, dialect: Dialect, compiled: Any, values: dict[str, Any]) -> _Plan:
        state = compiled.construct_expanded_state(values)
        origin: dict[str, tuple[str, int]] = {}
        for name, expanded in (state.parameter_expansion or {}).items():
            for index, expanded_name in enumerate(expanded):
                origin[expanded_name] = (name, index)
        sources = [origin.get(name, (name, -1)) for name in state.positiontup]
        binders = [state.processors.get(name) for name in state.positiontup]
        return _Plan(state.statement, sources, binders)

    def result_processors(self, dialect: Dialect, coltypes: list[Any] | None) -> list[tuple[int, Callable]]:
        """What turns each column's driver value into its Python value (`coltypes`: the driver's type
        codes, where it has them)."""
        results = []
        for index, column in enumerate(self.stmt.selected_columns):
            if column.key in self.raw or (self.truthy_booleans and isinstance(column.type, Boolean)):
                continue
            coltype = coltypes[index] if coltypes is not None else None
            processor = column.type.dialect_impl(dialect).result_processor(dialect, coltype)
            if processor is not None:
                results.append((index, processor))
        return results

    def process(self, plan: _Plan, row: tuple) -> tuple:
        """Driver values -> Python values (SQLite's datetimes and JSON are text until this)."""
        if not plan.results:  # none needed (or the plan has not run, so `row` cannot exist)
            return tuple(row)
        values = list(row)
        for index, processor in plan.results:
            values[index] = processor(values[index])
        return tuple(values)


def _positional(plan: _Plan, values: dict[str, Any]) -> list[Any]:
    out = [values[name] if index < 0 else values[name][index] for name, index in plan.sources]
    for position, binder in enumerate(plan.binders):
        if binder is not None:
            out[position] = binder(out[position])
    return out


class Reader:
    """One connection for one read. `rows` returns processed tuples; `raw` leaves driver values and the
    plan, for callers that process only what they use."""

    def __init__(self, reads: Any, connection: Any):
        self._reads = reads
        self._conn = connection
        self.dialect: Dialect = reads.dialect

    async def raw(self, query: Query, params: Mapping[str, Any]) -> tuple[_Plan, list]:
        plan, values = query.plan(self.dialect, params)
        reads = self._reads
        if plan.results is None:
            plan.results = query.result_processors(self.dialect, await reads.describe(self._conn, plan.sql))
        reads.executed += 1
        for observe in reads.observers:
            observe(plan.sql)
        return plan, await reads.fetch(self._conn, plan.sql, _positional(plan, values))

    async def rows(self, query: Query, params: Mapping[str, Any]) -> list[tuple]:
        plan, found = await self.raw(query, params)
        if not plan.results:
            return found
        return [query.process(plan, row) for row in found]

    async def records(self, query: Query, params: Mapping[str, Any]) -> list[Any]:
        """Rows as named tuples (attribute access by column key)."""
        return [query.record(*row) for row in await self.rows(query, params)]


class SqliteReads:
    """Plain sqlite3 connections on the loop's thread: a read never waits for a lock under WAL."""

    def __init__(self, path: str, dialect: Dialect, configure: Callable[[sqlite3.Connection], None],
                 keep: int = 8):
        self.path = path
        self.dialect = dialect
        self.configure = configure
        self.keep = keep
        self.executed = 0  # statements run, and callables told each one's SQL (tests count them)
        self.observers: list[Callable[[str], None]] = []
        self._idle: list[sqlite3.Connection] = []

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, cached_statements=512)
        self.configure(conn)
        return conn

    async def fetch(self, conn: sqlite3.Connection, sql: str, values: list) -> list:
        return conn.execute(sql, values).fetchall()

    async def describe(self, conn: sqlite3.Connection, sql: str) -> None:
        return None  # sqlite3 reports no column types; SQLAlchemy's processors do not need them

    def read(self) -> _SqliteRead:
        return _SqliteRead(self)

    def release(self, conn: sqlite3.Connection) -> None:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        if len(self._idle) < self.keep:
            self._idle.append(conn)
        else:
            conn.close()

    async def dispose(self) -> None:
        while self._idle:
            self._idle.pop().close()


class _SqliteRead:
    __slots__ = ("_reads", "_conn")

    def __init__(self, reads: SqliteReads):
        self._reads = reads
        self._conn: sqlite3.Connection | None = None

    async def __aenter__(self) -> Reader:
        reads = self._reads
        conn = reads._idle.pop() if reads._idle else reads._connect()
        self._conn = conn
        try:
            conn.execute("BEGIN")
        except BaseException:
            conn.close()
            raise
        return Reader(reads, conn)

    async def __aexit__(self, *exc: object) -> None:
        conn, self._conn = self._conn, None
        try:
            self._reads.release(conn)
        except sqlite3.Error:
            conn.close()


class PoolReads:
    """PostgreSQL: a connection from the read engine's pool, queried with asyncpg's own calls."""

    def __init__(self, engine: AsyncEngine):
        self.engine = engine
        self.dialect = engine.dialect
        self.executed = 0
        self.observers: list[Callable[[str], None]] = []

    async def fetch(self, conn: Any, sql: str, values: list) -> list:
        return [tuple(record) for record in await conn.fetch(sql, *values)]

    async def describe(self, conn: Any, sql: str) -> list[int]:
        """The columns' type OIDs (asyncpg's numeric processors need them), once per plan."""
        return [attribute.type.oid for attribute in (await conn.prepare(sql)).get_attributes()]

    def read(self) -> _PoolRead:
        return _PoolRead(self)

    async def dispose(self) -> None:
        return None


class _PoolRead:
    __slots__ = ("_reads", "_conn")

    def __init__(self, reads: PoolReads):
        self._reads = reads
        self._conn: Any = None

    async def __aenter__(self) -> Reader:
        self._conn = await self._reads.engine.connect()
        try:
            pooled = await self._conn.get_raw_connection()
        except BaseException:
            await self._conn.close()
            raise
        return Reader(self._reads, pooled.driver_connection)

    async def __aexit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        conn, self._conn = self._conn, None
        try:
            if exc is not None:
                from starling.infra.db import discard_on_failure  # db imports this module

                await discard_on_failure(conn, exc)
        finally:
            await conn.close()
