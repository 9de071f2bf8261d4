"""Without any server process: an app whose PostgreSQL does not listen answers 503 with a Mastodon-shaped body
and Retry-After at once, on reads, writes, sign-in and health; errors that are not an outage stay 500."""

from __future__ import annotations

import subprocess

import httpx
import pytest
from sqlalchemy import exc as sa_exc

from starling.config import Settings
from starling.infra.db import unavailable
from tests.live import REPO, STARLING, free_port, server_env


@pytest.fixture
async def nowhere(tmp_path):
    from starling.app import create_app

    settings = Settings(data_dir=tmp_path, domain="testserver", secret_key="t" * 48, embedded_worker=False,
                        database_url=f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/gone",
                        db_retry_after=7, _env_file=None)
    application = create_app(settings, run_worker=False)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=application), base_url="http://testserver") as http:
        yield http
    await application.state.ctx.close()


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/api/v1/timelines/public"), ("GET", "/api/v1/timelines/home"), ("POST", "/api/v1/statuses"),
    ("GET", "/api/v1/instance"), ("POST", "/oauth/token"),
])
async def test_an_unreachable_postgres_gets_503_with_retry_after(nowhere, method, path):
    response = await nowhere.request(method, path, headers={"Authorization": "Bearer abc"},
                                     data={"grant_type": "password", "username": "a", "password": "b",
                                           "client_id": "c", "client_secret": "d"} if path == "/oauth/token" else None)
    assert response.status_code == 503, response.text
    assert response.json() == {"error": "The database is unavailable; try again shortly"}
    assert response.headers["Retry-After"] == "7"


async def test_health_says_unavailable(nowhere):
    assert (await nowhere.get("/health")).status_code == 503


def test_only_outages_count_as_unavailable():
    assert not unavailable(ValueError("bad input"))
    assert not unavailable(FileNotFoundError(2, "a media file"))  # not raised by a database driver
    assert not unavailable(sa_exc.IntegrityError("INSERT", {}, Exception("duplicate key")))
    assert unavailable(sa_exc.TimeoutError("QueuePool limit reached"))
    invalidated = sa_exc.DBAPIError("SELECT 1", {}, Exception("closed"), connection_invalidated=True)
    assert unavailable(invalidated)


@pytest.mark.slow
@pytest.mark.parametrize("command", [["migrate"], ["serve", "--port", "0"]])
def test_commands_say_plainly_that_the_database_does_not_answer(tmp_path, command):
    env = server_env(tmp_path / "data", "nowhere.test",
                     extra={"STARLING_DATABASE_URL": f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/gone"})
    done = subprocess.run([str(STARLING), *command], env=env, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "error: the database does not answer" in done.stderr and "Traceback" not in done.stderr, done.stderr
