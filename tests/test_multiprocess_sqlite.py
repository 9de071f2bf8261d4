"""`serve --workers N` on the embedded default: several processes share one SQLite file, exactly one
runs the background jobs at a time (another takes over when it dies), and none shows stale data (that
check also runs on the PostgreSQL pass, where every process runs jobs)."""

from __future__ import annotations

import asyncio
import fcntl
import os
import signal
import time

import httpx
import pytest

from starling.context import AppContext
from starling.migrate import upgrade
from tests.live import SECRET_KEY, live_server
from tests.postgres import settings_for, sqlite_only

pytestmark = pytest.mark.slow


def seed(data_dir, domain: str) -> dict[str, tuple[int, str]]:
    """alice and bob, bob following alice, with tokens, written through the service layer."""
    from starling import ids
    from starling.accounts import service as accounts
    from starling.graph.models import Follow

    data_dir.mkdir(parents=True, exist_ok=True)
    settings = settings_for(data_dir, domain=domain, secret_key=SECRET_KEY)
    upgrade(settings.resolved_database_url)

    async def run():
        ctx = AppContext.build(settings)
        out = {}
        async with ctx.db.write() as session:
            for name in ("alice", "bob"):
                account = await accounts.create_account(session, settings, username=name,
                                                        email=f"{name}@test.invalid", password="long enough pw")
                out[name] = (account.id, await accounts.issue_token(session, account_id=account.id,
                                                                    scopes="read write follow"))
            session.add(Follow(id=ids.new_id(), account_id=out["bob"][0], target_account_id=out["alice"][0]))
        await ctx.close()
        return out

    return asyncio.run(run())


def lock_holder(lock_path) -> int | None:
    """The pid holding the flock on `lock_path`, read from /proc/locks."""
    inode = os.stat(lock_path).st_ino
    for line in open("/proc/locks"):
        parts = line.split()
        if len(parts) > 5 and parts[1] == "FLOCK" and parts[5].endswith(f":{inode}"):
            return int(parts[4])
    return None


def fresh_get(url: str, token: str) -> httpx.Response:
    # A new connection each time, so the kernel may hand it to any of the processes.
    with httpx.Client(headers={"Authorization": f"Bearer {token}", "Connection": "close"}) as http:
        return http.get(url, timeout=10)


def wait_until(predicate, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@sqlite_only("on PostgreSQL every process runs jobs (SKIP LOCKED), there is no leader flock")
def test_one_worker_runs_jobs_and_another_takes_over(tmp_path):
    cast = seed(tmp_path / "data", "127.0.0.1:0")
    with live_server(tmp_path, workers=2) as server:
        lock_path = server.data_dir / "worker.lock"
        assert wait_until(lambda: lock_path.exists() and lock_holder(lock_path) is not None)
        with pytest.raises(BlockingIOError):
            fd = os.open(lock_path, os.O_RDWR)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            finally:
                os.close(fd)
        leader = lock_holder(lock_path)
        assert leader != server.process.pid  # a uvicorn worker process, not the supervisor

        os.kill(leader, signal.SIGKILL)
        assert wait_until(lambda: lock_holder(lock_path) not in (None, leader), seconds=30)

        alice_token, bob_token = cast["alice"][1], cast["bob"][1]
        posted = httpx.post(server.url("/api/v1/statuses"), json={"status": "after the leader died"},
                            headers={"Authorization": f"Bearer {alice_token}"}, timeout=10)
        assert posted.status_code == 200, posted.text
        status_id = posted.json()["id"]
        assert wait_until(lambda: any(s["id"] == status_id for s in
                                      fresh_get(server.url("/api/v1/timelines/home"), bob_token).json()))


def test_no_process_shows_stale_data(tmp_path):
    cast = seed(tmp_path / "data", "127.0.0.1:0")
    with live_server(tmp_path, workers=2) as server:
        alice_token, bob_token = cast["alice"][1], cast["bob"][1]
        posted = httpx.post(server.url("/api/v1/statuses"), json={"status": "now you see me"},
                            headers={"Authorization": f"Bearer {alice_token}"}, timeout=10).json()
        url = server.url(f"/api/v1/statuses/{posted['id']}")
        assert all(fresh_get(url, bob_token).status_code == 200 for _ in range(12))

        deleted = httpx.delete(url, headers={"Authorization": f"Bearer {alice_token}"}, timeout=10)
        assert deleted.status_code == 200
        assert all(fresh_get(url, bob_token).status_code == 404 for _ in range(12))

        second = httpx.post(server.url("/api/v1/statuses"), json={"status": "blocked soon"},
                            headers={"Authorization": f"Bearer {alice_token}"}, timeout=10).json()
        blocked = httpx.post(server.url(f"/api/v1/accounts/{cast['bob'][0]}/block"),
                             headers={"Authorization": f"Bearer {alice_token}"}, timeout=10)
        assert blocked.status_code == 200
        url = server.url(f"/api/v1/statuses/{second['id']}")
        assert all(fresh_get(url, bob_token).status_code == 404 for _ in range(12))
