"""`starling db copy` killed with SIGKILL in the middle of a table, then run again with --resume: the
half-copied table was never committed, the tables before it are skipped as complete, and the finished
copy verifies. Into a throwaway database on the shared PostgreSQL server when there is one, and into a
SQLite file always."""

from __future__ import annotations

import asyncio
import select as io_select
import subprocess
import time
from contextlib import nullcontext

import pytest
from sqlalchemy import insert

from starling import ids
from starling.accounts.models import Account
from starling.config import Settings
from starling.context import AppContext
from starling.graph.models import Follow
from tests.faults import PG_URL, throwaway_database
from tests.live import REPO, SECRET_KEY, STARLING, run_cli, server_env

pytestmark = pytest.mark.slow

ACCOUNTS = 3_000
FOLLOWS = ACCOUNTS * 5


async def seed(settings: Settings) -> None:
    """ACCOUNTS accounts that each follow the next five: many small rows in `follows`."""
    ctx = AppContext.build(settings)
    try:
        async with ctx.db.write() as session:
            people = [ids.new_id() for _ in range(ACCOUNTS)]
            await session.execute(insert(Account), [{"id": p, "username": f"a{i}", "username_lower": f"a{i}"}
                                                    for i, p in enumerate(people)])
            await session.execute(insert(Follow), [
                {"id": ids.new_id(), "account_id": p, "target_account_id": people[(i + k) % ACCOUNTS]}
                for i, p in enumerate(people) for k in range(1, 6)])
    finally:
        await ctx.close()


def copy_until(env: dict, target: str, marker: str) -> None:
    """Start the copy with tiny batches and SIGKILL it as soon as its progress says `marker`: a line the
    copy prints inside a table's transaction, a tenth of the way in (1,500 of 15,000 rows at 10 a batch),
    so nine tenths of the table are still to go when the signal lands."""
    process = subprocess.Popen([str(STARLING), "db", "copy", "--to", target, "--batch", "10"], env=env, cwd=REPO,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seen = ""
    deadline = time.monotonic() + 120
    try:
        while marker not in seen:
            assert process.poll() is None, f"the copy ended before {marker!r}:\n{seen}{process.stderr.read()}"
            assert time.monotonic() < deadline, f"no {marker!r} in the copy's progress:\n{seen}"
            ready, _, _ = io_select.select([process.stderr], [], [], 0.5)
            if ready:
                seen += process.stderr.readline()
        process.kill()
    finally:
        process.kill()
        process.wait(timeout=10)


@pytest.mark.parametrize("backend", ["postgres", "sqlite"])
def test_a_copy_killed_mid_table_resumes_and_verifies(tmp_path, backend):
    if backend == "postgres" and not PG_URL.startswith("postgresql"):
        pytest.skip("STARLING_TEST_DATABASE_URL does not name a PostgreSQL database")
    data = tmp_path / "data"
    env = server_env(data, "copy.test", extra={"STARLING_DATABASE_URL": ""})  # the source is SQLite
    run_cli(["migrate"], env)
    asyncio.run(seed(Settings(data_dir=data, domain="copy.test", secret_key=SECRET_KEY, database_url="", redis_url="",
                              _env_file=None)))
    with (throwaway_database("starling_copykill") if backend == "postgres" else nullcontext(None)) as url:
        target = url or f"sqlite:///{tmp_path / 'copy.sqlite3'}"
        copy_until(env, target, f"follows: {FOLLOWS // 10:,} of {FOLLOWS:,} rows")

        refused = subprocess.run([str(STARLING), "db", "copy", "--to", target], env=env, cwd=REPO,
                                 capture_output=True, text=True)
        assert refused.returncode == 1 and "--resume" in refused.stderr, refused.stderr

        resumed = run_cli(["db", "copy", "--to", target, "--resume"], env)
        lines = {line.split()[0]: line for line in resumed.stdout.splitlines() if line[:1].isalpha()}
        assert "already complete" in lines["accounts"], resumed.stdout
        follows = lines["follows"].split()
        assert follows[1:4] == [str(FOLLOWS)] * 3, resumed.stdout  # source, target, copied: all of it
        assert "verified: " in resumed.stdout and "MISMATCH" not in resumed.stdout

        replaced = run_cli(["db", "copy", "--to", target, "--replace"], env)
        assert "verified: " in replaced.stdout and "already complete" not in replaced.stdout, replaced.stdout
