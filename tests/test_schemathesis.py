"""schemathesis against the live server's /openapi.json: no operation may answer 5xx, and no response
may break the document. It fuzzes with a real user's token, so authenticated paths are reached too."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from tests.live import live_server
from tests.postgres import output_dir

pytestmark = pytest.mark.slow
OUTPUT = output_dir()
# The fuzzing budget of one pass. `make test` in CI runs two passes (SQLite, PostgreSQL + Redis), each with a
# seed of its own, so an instance is fuzzed twice this long per run; the coverage phase always runs whole.
FUZZ_SECONDS = 45


def _token(data_dir: Path, domain: str) -> str:
    from starling.accounts import service as accounts
    from starling.context import AppContext
    from starling.migrate import upgrade
    from tests.live import SECRET_KEY
    from tests.postgres import settings_for

    data_dir.mkdir(parents=True, exist_ok=True)
    settings = settings_for(data_dir, domain=domain, secret_key=SECRET_KEY)
    upgrade(settings.resolved_database_url)

    async def run() -> str:
        ctx = AppContext.build(settings)
        async with ctx.db.write() as session:
            account = await accounts.create_account(session, settings, username="fuzzer",
                                                    email="fuzzer@test.invalid", password="long enough pw")
            raw = await accounts.issue_token(session, account_id=account.id, scopes="read write follow push")
        await ctx.db.dispose()
        return raw

    return asyncio.run(run())


def test_no_operation_answers_5xx_or_breaks_the_schema(tmp_path):
    token = _token(tmp_path / "data", "127.0.0.1:0")
    OUTPUT.mkdir(parents=True, exist_ok=True)
    with live_server(tmp_path) as server:
        done = subprocess.run(
            [str(Path(sys.executable).with_name("st")), "run", server.url("/openapi.json"),
             "--checks", "not_a_server_error,response_schema_conformance,content_type_conformance",
             "--header", f"Authorization: Bearer {token}",
             "--phases", "examples,coverage,fuzzing", "--max-time", str(FUZZ_SECONDS), "--workers", "2",
             "--request-timeout", "10", "--suppress-health-check", "all", "--warnings", "off",
             "--report", "junit", "--report-dir", str(OUTPUT / "schemathesis")],
            capture_output=True, text=True, timeout=400)
        server_log = server.log_text()
    summary = done.stdout[-6000:]
    (OUTPUT / "schemathesis.txt").write_text(done.stdout + done.stderr)
    assert "Traceback" not in server_log, server_log[-4000:]
    assert done.returncode == 0, summary
