"""A throwaway PostgreSQL database for the tests of dialect branches.

Used when STARLING_TEST_DATABASE_URL names a PostgreSQL server (CI sets it): each test gets a database of
its own there, migrated from scratch, dropped afterwards. Elsewhere those tests are skipped.

    from tests.postgres import requires_postgres  # and the `pg_db` fixture, which conftest loads
"""

from __future__ import annotations

import asyncio
import os
import secrets

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from starling.infra.db import Database
from starling.migrate import upgrade

PG_URL = os.environ.get("STARLING_TEST_DATABASE_URL", "")
requires_postgres = pytest.mark.skipif(not PG_URL.startswith("postgresql"),
                                       reason="STARLING_TEST_DATABASE_URL does not name a PostgreSQL database")


@pytest.fixture
async def pg_db():
    base = make_url(PG_URL).set(drivername="postgresql+asyncpg")
    name = f"starling_test_{secrets.token_hex(6)}"
    admin = create_async_engine(base, isolation_level="AUTOCOMMIT")
    async with admin.connect() as conn:
        await conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name).render_as_string(hide_password=False)
    await asyncio.to_thread(upgrade, url)
    db = Database(url)
    try:
        yield db
    finally:
        await db.dispose()
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()
