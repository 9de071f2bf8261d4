"""Browser sessions on PostgreSQL: the migration creates web_sessions, and sign-up's savepoint, sign-in,
expiry and sign-out behave as on SQLite."""

from __future__ import annotations

from datetime import timedelta

import pytest

from starling import clock
from starling.accounts import sessions
from starling.accounts.instance import InstanceSettings
from starling.config import Settings
from starling.errors import Unprocessable
from tests.postgres import requires_postgres

pytestmark = requires_postgres

OPEN = InstanceSettings(title="t", description="", registrations="open", max_characters=500, contact_email="")


async def test_sessions_on_postgres(pg_db, tmp_path):
    settings = Settings(data_dir=tmp_path, domain="testserver", secret_key="t" * 48, _env_file=None)
    async with pg_db.write() as session:
        with pytest.raises(Unprocessable):
            await sessions.sign_up(session, settings, OPEN, username="pat", email="pat@example.com",
                                   password="long enough password", agreement=False)
        account = await sessions.sign_up(session, settings, OPEN, username="pat", email="pat@example.com",
                                         password="long enough password", agreement=True)
        raw = await sessions.start(session, settings, account.id, user_agent="test")
    async with pg_db.read() as session:
        found = await sessions.resolve(session, raw)
        assert found is not None and found[1].username == "pat"
        assert await sessions.resolve(session, raw + "x") is None
    clock.set_now(clock.utcnow_naive() + timedelta(days=settings.web_session_days + 1))
    try:
        async with pg_db.read() as session:
            assert await sessions.resolve(session, raw) is None
    finally:
        clock.set_now(None)
    async with pg_db.write() as session:
        await sessions.end(session, raw)
    async with pg_db.read() as session:
        assert await sessions.resolve(session, raw) is None
