"""`starling db copy`: move an instance's rows from one database to another (SQLite to PostgreSQL, or back).

The copy reads the source inside one read-only snapshot (a single SQLite read transaction, or a
REPEATABLE READ transaction on PostgreSQL), so every table comes from the same moment even if something
still writes there. The target is migrated to head first, then filled table by table in foreign-key
order, each table in one transaction with its primary keys kept. An interrupted copy therefore leaves
whole tables and empty tables, never half a table: running it again with `resume` skips the tables that
already match and copies the rest. At the end every table is verified on both sides (row count and an
order-independent checksum of its primary keys), PostgreSQL sequences are moved past the copied IDs,
and derived tables (the full-text index) are rebuilt on the target from the copied rows.

The schema comes from the caller (the `MetaData` of every model), so this module knows no capability.
Media files are not rows: they stay in the data directory.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, Table, func, insert, inspect, select, text, tuple_
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from starling.infra.db import Database
from starling.migrate import alembic_config, upgrade

Mode = Literal["fresh", "resume", "replace"]
Rebuild = Callable[[AsyncSession], Awaitable[int]]

BATCH = 2_000
_MASK = (1 << 64) - 1
# Tables no model owns that a database may hold anyway.
_BOOKKEEPING = ("alembic_version", "sqlite_")


class CopyRefused(Exception):
    """The copy cannot start (or must stop) for a reason the operator can fix; the message says how."""


@dataclass
class TableResult:
    name: str
    source_rows: int
    target_rows: int = 0
    source_checksum: int = 0
    target_checksum: int = 0
    copied: int = 0
    skipped: bool = False  # already complete on the target (resume)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.source_rows == self.target_rows and self.source_checksum == self.target_checksum


@dataclass
class CopyReport:
    source: str
    target: str
    tables: list[TableResult] = field(default_factory=list)
    rebuilt: dict[str, int] = field(default_factory=dict)
    sequences: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return all(table.ok for table in self.tables)

    def render(self) -> str:
        """A plain-text summary for the operator."""
        width = max([len(t.name) for t in self.tables] + [5])
        lines = [f"copied {_safe(self.source)} -> {_safe(self.target)} in {self.seconds:.1f} s", "",
                 f"{'table':<{width}}  {'source':>10}  {'target':>10}  {'copied':>10}  checksum  note"]
        for t in self.tables:
            note = "already complete" if t.skipped else f"{t.seconds:.1f} s"
            lines.append(f"{t.name:<{width}}  {t.source_rows:>10}  {t.target_rows:>10}  {t.copied:>10}  "
                         f"{'ok' if t.source_checksum == t.target_checksum else 'MISMATCH':<8}  {note}")
        for name, count in self.rebuilt.items():
            lines.append(f"rebuilt {name} on the target from {count} rows")
        if self.sequences:
            lines.append(f"moved {len(self.sequences)} PostgreSQL sequence(s) past the copied ids")
        total = sum(t.target_rows for t in self.tables)
        lines += ["", f"{'verified' if self.ok else 'VERIFICATION FAILED'}: {len(self.tables)} tables, {total} rows",
                  "Media files are not in the database: they stay in STARLING_DATA_DIR/media. Keep the same "
                  "data directory (or copy media/ and secret_key with it) when you point Starling at the target."]
        return "\n".join(lines)


def normalise_url(url: str) -> str:
    """The async-driver form of a database URL (`postgresql://` and `sqlite:///` are accepted too)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg2", "postgresql+psycopg"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    elif parsed.drivername == "sqlite":
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    if parsed.drivername not in ("postgresql+asyncpg", "sqlite+aiosqlite"):
        raise CopyRefused(f"unsupported database URL {_safe(url)!r}: use postgresql://… or sqlite:///…")
    return parsed.render_as_string(hide_password=False)


def _safe(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _pk(table: Table) -> list:
    columns = list(table.primary_key.columns)
    if not columns:
        raise CopyRefused(f"table {table.name} has no primary key; the copier pages by primary key")
    return columns


def _key_hash(values: Sequence[Any]) -> int:
    """A 64-bit hash of one row's primary key, the same on both backends (ints as themselves, text by
    BLAKE2b); the table's checksum is their sum modulo 2**64, so row order does not matter."""
    acc = 0
    for value in values:
        if isinstance(value, int):
            part = value & _MASK
        else:
            part = int.from_bytes(hashlib.blake2b(str(value).encode(), digest_size=8).digest(), "big")
        acc = ((acc * 0x100000001B3) ^ part) & _MASK
    return acc


async def _pages(conn: AsyncConnection, table: Table, columns: Sequence, batch: int):
    """Rows of `columns` in primary-key order, one keyset page at a time."""
    pk = _pk(table)
    key = tuple_(*pk) if len(pk) > 1 else pk[0]
    positions = [list(columns).index(c) for c in pk]
    last: tuple | None = None
    while True:
        stmt = select(*columns).order_by(*pk).limit(batch)
        if last is not None:
            stmt = stmt.where(key > (tuple_(*last) if len(pk) > 1 else last[0]))
        rows = (await conn.execute(stmt)).all()
        if not rows:
            return
        yield rows
        if len(rows) < batch:
            return
        last = tuple(rows[-1][i] for i in positions)


async def _census(conn: AsyncConnection, table: Table, batch: int) -> tuple[int, int]:
    """(row count, checksum of primary keys) of a table, read through `conn`."""
    count, checksum = 0, 0
    async for rows in _pages(conn, table, _pk(table), batch * 5):
        count += len(rows)
        for row in rows:
            checksum = (checksum + _key_hash(row)) & _MASK
    return count, checksum


async def _revision(conn: AsyncConnection) -> str | None:
    if not await conn.run_sync(lambda sync: inspect(sync).has_table("alembic_version")):
        return None
    return (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()


async def _check_source(conn: AsyncConnection, url: str, metadata: MetaData, derived: Sequence[str]) -> None:
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    revision = await _revision(conn)
    if revision != head:
        raise CopyRefused(f"the source is at migration {revision or 'none'}, this Starling is at {head}: "
                          "run `starling migrate` against the source first (or point --from at the right database)")
    present = set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))
    unknown = sorted(name for name in present - set(metadata.tables)
                     if not name.startswith(_BOOKKEEPING) and not name.startswith(tuple(derived)))
    if unknown:
        raise CopyRefused(f"the source has tables this Starling does not know ({', '.join(unknown)}); "
                          "copying would lose them")


async def _snapshot(conn: AsyncConnection) -> None:
    """Start the one read transaction every source read happens in."""
    if conn.dialect.name == "postgresql":
        await conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
    await conn.begin()
    # The snapshot is taken by the first statement that reads a table.
    await conn.execute(text("SELECT version_num FROM alembic_version"))


async def _clear(target: Database, tables: Sequence[Table]) -> None:
    """Empty every table of a PostgreSQL target at once. TRUNCATE fires no row triggers, so append-only
    tables (which refuse DELETE) empty too. (A SQLite target is replaced as a file, before migrating.)"""
    async with target.write_engine.begin() as conn:
        names = ", ".join(conn.dialect.identifier_preparer.quote(t.name) for t in tables)
        await conn.execute(text(f"TRUNCATE {names}"))


def _remove_sqlite(path: str) -> None:
    """Delete a SQLite database file with its WAL and shared-memory files."""
    for suffix in ("", "-wal", "-shm"):
        Path(path + suffix).unlink(missing_ok=True)


async def _copy_table(source: AsyncConnection, target: Database, table: Table, batch: int, total: int,
                      progress: Callable[[str], None]) -> int:
    """Insert every source row of `table` into the target, in one target transaction (on PostgreSQL
    through COPY, several times faster than INSERTs). Says how far it has got each tenth of the way, so
    an operator watching a large table sees it move (nothing of it is committed until the end)."""
    columns = list(table.columns)
    names = [c.name for c in columns]
    copied = 0
    step = max(batch, total // 10)
    next_report = step
    async with target.write_engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(text("SELECT 1"))  # opens the driver's transaction, which COPY then joins
            driver = (await conn.get_raw_connection()).driver_connection
            bind = [c.type._cached_bind_processor(conn.dialect) for c in columns]
        async for rows in _pages(source, table, columns, batch):
            if conn.dialect.name == "postgresql":
                records = [tuple(v if fn is None or v is None else fn(v) for fn, v in zip(bind, row, strict=True))
                           for row in rows]
                await driver.copy_records_to_table(table.name, records=records, columns=names)
            else:
                await conn.execute(insert(table), [dict(zip([c.key for c in columns], row, strict=True))
                                                   for row in rows])
            copied += len(rows)
            if copied >= next_report and copied < total:
                progress(f"  {table.name}: {copied:,} of {total:,} rows")
                next_report = copied + step
    return copied


async def _reset_sequences(target: Database, tables: Sequence[Table]) -> list[str]:
    """Move every serial/identity sequence behind a copied integer column past its largest value."""
    moved = []
    async with target.write_engine.begin() as conn:
        for table in tables:
            for column in table.primary_key.columns:
                sequence = (await conn.execute(text("SELECT pg_get_serial_sequence(:t, :c)"),
                                               {"t": table.name, "c": column.name})).scalar()
                if sequence is None:
                    continue
                top = (await conn.execute(select(func.max(column)))).scalar()
                await conn.execute(text("SELECT setval(:s, :v, :called)"),
                                   {"s": sequence, "v": top or 1, "called": top is not None})
                moved.append(sequence)
    return moved


async def copy_database(source_url: str, target_url: str, metadata: MetaData, *, mode: Mode = "fresh",
                        batch: int = BATCH, rebuild: Mapping[str, Rebuild] | None = None,
                        progress: Callable[[str], None] = lambda _line: None) -> CopyReport:
    """Copy every row of every table in `metadata` from the source database to the target.

    `mode`: "fresh" refuses a target that holds any row; "resume" skips tables the target already has in
    full and copies the empty ones (after an interrupted copy); "replace" empties the target first (a
    SQLite target file is deleted and made again).
    `rebuild` maps the name prefix of a derived table (one no model owns, e.g. a full-text index) to
    the function that rebuilds it on the target from the copied rows."""
    source_url, target_url = normalise_url(source_url), normalise_url(target_url)
    if make_url(source_url) == make_url(target_url):
        raise CopyRefused("--from and --to name the same database")
    if source_url.startswith("sqlite"):
        path = make_url(source_url).database
        if not path or not Path(path).is_file():
            raise CopyRefused(f"the source SQLite file {path!r} does not exist")
    if target_url.startswith("sqlite"):
        path = make_url(target_url).database
        if not path or path == ":memory:" or not Path(path).parent.is_dir():
            raise CopyRefused(f"the target SQLite file {path!r} must be in a directory that exists")
    rebuild = dict(rebuild or {})
    started = time.monotonic()
    report = CopyReport(source=source_url, target=target_url)
    tables = list(metadata.sorted_tables)

    source = Database(source_url, read_pool=1)
    try:
        async with source.read_engine.connect() as conn:
            await _check_source(conn, source_url, metadata, list(rebuild))
        if mode == "replace" and target_url.startswith("sqlite"):
            progress(f"removing the target file {make_url(target_url).database}")
            _remove_sqlite(make_url(target_url).database)
        progress(f"migrating the target {_safe(target_url)} to head")
        await asyncio.to_thread(upgrade, target_url)
        target = Database(target_url)
        try:
            await _fill(source, target, tables, report, mode=mode, batch=batch, progress=progress)
            if target_url.startswith("postgresql"):
                report.sequences = await _reset_sequences(target, tables)
            for name, fn in rebuild.items():
                progress(f"rebuilding {name} on the target")
                async with target.write() as session:
                    report.rebuilt[name] = await fn(session)
        finally:
            await target.dispose()
    finally:
        await source.dispose()
    report.seconds = time.monotonic() - started
    return report


async def _fill(source: Database, target: Database, tables: list[Table], report: CopyReport, *, mode: Mode,
                batch: int, progress: Callable[[str], None]) -> None:
    async with source.read_engine.connect() as src:
        await _snapshot(src)
        censuses = {}
        async with target.read_engine.connect() as dst:
            for table in tables:
                censuses[table.name] = await _census(dst, table, batch)
        occupied = [name for name, (count, _) in censuses.items() if count]
        if occupied and mode == "fresh":
            raise CopyRefused(f"the target already holds rows (in {', '.join(occupied)}): pass --resume to "
                              "finish an interrupted copy, or --replace to empty the target first")
        if occupied and mode == "replace":
            progress("emptying the target")
            await _clear(target, tables)
            censuses = {name: (0, 0) for name in censuses}
        for table in tables:
            count, checksum = await _census(src, table, batch)
            result = TableResult(table.name, source_rows=count, source_checksum=checksum)
            report.tables.append(result)
            have = censuses[table.name]
            if have == (count, checksum):
                result.skipped = bool(count)
            elif have[0]:
                raise CopyRefused(f"table {table.name} on the target differs from the source "
                                  f"({have[0]} rows against {count}): run again with --replace")
            else:
                progress(f"copying {table.name} ({count} rows)")
                began = time.monotonic()
                result.copied = await _copy_table(src, target, table, batch, count, progress)
                result.seconds = time.monotonic() - began
            async with target.read_engine.connect() as dst:
                result.target_rows, result.target_checksum = await _census(dst, table, batch)
        await src.rollback()
