"""Redis going away under a real server: a throwaway `redis-server` on a spare port, a live `starling
serve` using it, then Redis is killed (SIGKILL). Home must still answer, from SQL, without hanging, and
a post made meanwhile must show; when Redis starts again (empty) feeds come back, rebuilt from SQL, and
the fan-out that Redis missed is finished by its own retried job."""

from __future__ import annotations

import asyncio
import shutil
import signal
import subprocess
import time
import uuid
from pathlib import Path

import httpx
import pytest
from redis import Redis as SyncRedis

from starling.context import AppContext
from starling.migrate import upgrade
from tests.live import SECRET_KEY, LiveServer, free_port
from tests.postgres import instance_rows, settings_for

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed")]

# A request that has not answered in this long is a hang, not a slow fallback.
HANG = 10.0


class ThrowawayRedis:
    """`redis-server --save ''` on a spare port in a tmp dir: nothing persists, so a restart is empty."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.workdir)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if self.client().ping():
                    return
            except OSError:
                pass
            except Exception:  # redis.ConnectionError while it starts
                pass
            time.sleep(0.05)
        raise RuntimeError("throwaway redis-server did not start")

    def client(self) -> SyncRedis:
        return SyncRedis.from_url(self.url, socket_timeout=2, socket_connect_timeout=2)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None


def seed(data_dir: Path, domain: str, names: list[str]) -> dict[str, str]:
    """Accounts with tokens, made through the service layer before the server starts."""
    from starling.accounts import service as accounts

    data_dir.mkdir(parents=True, exist_ok=True)
    settings = settings_for(data_dir, domain=domain, secret_key=SECRET_KEY)  # the pass's backend
    upgrade(settings.resolved_database_url)

    async def run() -> dict[str, str]:
        ctx = AppContext.build(settings)
        tokens = {}
        try:
            async with ctx.db.write() as session:
                for name in names:
                    account = await accounts.create_account(session, settings, username=name,
                                                            email=f"{name}@outage.test", password="long enough pw")
                    tokens[name] = await accounts.issue_token(session, account_id=account.id,
                                                              scopes="read write follow")
        finally:
            await ctx.close()
        return tokens

    return asyncio.run(run())


def fan_out_again_states(data_dir: Path) -> set[str]:
    """States of the deferred fan-out jobs, read from the live server's database file."""
    return {state for (state,) in instance_rows(data_dir, "SELECT state FROM jobs WHERE kind = 'timelines.fan_out'")}


def wait_for(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_home_survives_a_redis_outage_and_feeds_come_back(tmp_path):
    redis = ThrowawayRedis(tmp_path / "redis")
    redis.start()
    prefix = f"test-{uuid.uuid4().hex[:12]}:"
    port = free_port()
    domain = f"127.0.0.1:{port}"
    tokens = seed(tmp_path / "data", domain, ["alice", "bob", "carol"])
    server = LiveServer(data_dir=tmp_path / "data", port=port, domain=domain,
                        extra_env={"STARLING_REDIS_URL": redis.url, "STARLING_REDIS_PREFIX": prefix})
    try:
        server.start()
        http = {name: httpx.Client(base_url=server.base_url, timeout=HANG,
                                   headers={"Authorization": f"Bearer {token}"}) for name, token in tokens.items()}
        bob_id = http["bob"].get("/api/v1/accounts/verify_credentials").json()["id"]
        for name in ("alice", "carol"):
            assert http[name].post(f"/api/v1/accounts/{bob_id}/follow").status_code == 200

        def post(text: str) -> int:
            response = http["bob"].post("/api/v1/statuses", json={"status": text})
            assert response.status_code == 200, response.text
            return int(response.json()["id"])

        def home(name: str) -> list[int]:
            response = http[name].get("/api/v1/timelines/home")
            assert response.status_code == 200, response.text
            return [int(s["id"]) for s in response.json()]

        first = post("before the outage")
        wait_for(lambda: home("alice") == [first], 30, "fan-out of the first post")
        alice_id = http["alice"].get("/api/v1/accounts/verify_credentials").json()["id"]
        assert redis.client().zscore(f"{prefix}feed:{alice_id}", "0") == 0  # built in Redis

        redis.kill()
        started = time.monotonic()
        for _ in range(5):
            assert home("alice") == [first]  # from SQL; HANG is the client's timeout
        during = post("while Redis is down")
        assert home("alice") == [during, first]
        outage_reads = time.monotonic() - started

        redis.start()  # empty: --save ''
        wait_for(lambda: home("alice") == [during, first] and redis.client().exists(f"{prefix}feed:{alice_id}"),
                 60, "alice's feed rebuilt in the restarted Redis")
        assert redis.client().zscore(f"{prefix}feed:{alice_id}", f"{during}:{bob_id}") == float(during)
        # The fan-out Redis missed was queued as a job of its own, which finishes now Redis is back.
        wait_for(lambda: fan_out_again_states(server.data_dir) == {"done"}, 60, "the deferred fan-out, retried")
        assert home("carol") == [during, first]

        redis.process.send_signal(signal.SIGSTOP)  # a Redis that hangs instead of refusing
        try:
            started = time.monotonic()
            for _ in range(5):
                assert home("alice") == [during, first]
            hung_reads = time.monotonic() - started
        finally:
            redis.process.send_signal(signal.SIGCONT)
        print(f"outage: 7 requests and a post took {outage_reads:.2f}s; hung Redis: 5 reads took {hung_reads:.2f}s")
    finally:
        server.stop()
        redis.kill()
