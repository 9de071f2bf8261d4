"""The test rig: a fresh, migrated database per test, the app served in-process through httpx, and a
cast of named characters with tokens.

The database is a SQLite file copied from one migrated template, or on the PostgreSQL pass
(STARLING_TEST_BACKEND=postgres, see tests/postgres.py) a PostgreSQL database made from a migrated
template database plus a Redis key prefix of the test's own.

Jobs do not run by themselves here; a test calls `await drain()` to run what is queued, so it sees
exactly the state after the background work, no sooner and no later.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from starling import clock, ids
from starling.accounts import passwords
from starling.config import Settings
from starling.infra import jobs
from starling.migrate import upgrade
from tests import postgres as backend
from tests.postgres import pg_db  # noqa: F401 - the throwaway-PostgreSQL fixture, for dialect-branch tests

passwords.use_test_parameters()


def pytest_report_header(config) -> str:
    return backend.describe()


def pytest_terminal_summary(terminalreporter) -> None:
    terminalreporter.write_line(f"This pass ran on {backend.describe()}")


def pytest_collection_modifyitems(items) -> None:
    """A test parametrized by the `backend` it sets up itself runs each backend's case in that backend's
    pass of a run with several (tests/postgres.py, elsewhere_in_this_run)."""
    for item in items:
        chosen = getattr(item, "callspec", None) and item.callspec.params.get("backend")
        if chosen in ("sqlite", "postgres") and backend.elsewhere_in_this_run(chosen):
            item.add_marker(pytest.mark.skip(reason=f"runs in this run's {chosen} pass"))


@pytest.fixture(scope="session", autouse=True)
def _backend_session():
    """Drops every database this process made (and its template) when the session ends."""
    yield
    backend.close_pass()


@pytest.fixture(autouse=True)
def _backend_per_test():
    """Drops the databases and Redis keys that this test made (on the PostgreSQL pass)."""
    before = backend.places_made()
    yield
    backend.release_places(backend.places_made() - before)
    backend.forget_own_prefixes()


@pytest.fixture(scope="session")
def template_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "starling.sqlite3"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture
def settings(tmp_path, template_db) -> Settings:
    data = tmp_path / "data"
    data.mkdir()
    if not backend.ON_POSTGRES:
        shutil.copy(template_db, data / "starling.sqlite3")
    return backend.settings_for(data)


@pytest.fixture
async def app(settings):
    from starling.app import create_app

    application = create_app(settings, run_worker=False)
    yield application
    await application.state.ctx.close()


@pytest.fixture(autouse=True)
def real_time_after_each_test():
    """A test may set the clock; the next one starts on real time again, with IDs minted from it (not
    from the latest moment the last test's clock reached)."""
    yield
    clock.set_now(None)
    ids.forget_last_moment()


@pytest.fixture
def ctx(app):
    return app.state.ctx


@pytest.fixture
async def client(app):
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
def drain(ctx):
    async def run() -> int:
        return await jobs.drain(ctx.db)
    return run


@dataclass
class Character:
    """A named account with a token that holds every scope a normal client asks for."""

    id: int
    username: str
    token: str
    password: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@pytest.fixture
def make_account(ctx):
    """Create an account (and a token for it) straight through the service layer."""
    from starling.accounts import service as accounts

    async def make(username: str, *, role: str = "user", locked: bool = False,
                   scopes: str = "read write follow push", password: str = "correct horse battery") -> Character:
        async with ctx.db.write() as session:
            account = await accounts.create_account(session, ctx.settings, username=username,
                                                    email=f"{username}@testserver", password=password, role=role)
            account.locked = locked
            token = await accounts.issue_token(session, account_id=account.id, scopes=scopes)
        return Character(id=account.id, username=username, token=token, password=password)

    return make


@pytest.fixture
async def cast(make_account):
    """The usual characters: an admin, alice and bob (ordinary), carol (locked), and eve (a stranger)."""

    @dataclass
    class Cast:
        admin: Character
        alice: Character
        bob: Character
        carol: Character
        eve: Character

    return Cast(
        admin=await make_account("admin", role="admin", scopes="read write follow push admin:read admin:write"),
        alice=await make_account("alice"),
        bob=await make_account("bob"),
        carol=await make_account("carol", locked=True),
        eve=await make_account("eve"),
    )
