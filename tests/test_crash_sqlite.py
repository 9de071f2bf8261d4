"""Crash safety on the embedded default: stream posts into a live server, SIGKILL it mid-stream, start
it again, many times. Every post the server acknowledged with 200 must survive, the SQLite file must
pass its integrity check, and every post must have its "status.created" job row (the transactional
outbox: the post and its background work commit together or not at all)."""

from __future__ import annotations

import asyncio
import json
import random
import sqlite3
import threading
import time

import httpx
import pytest

from starling.config import Settings
from starling.context import AppContext
from starling.migrate import upgrade
from tests.live import SECRET_KEY, LiveServer, free_port
from tests.postgres import sqlite_only

pytestmark = [pytest.mark.slow, sqlite_only("the SQLite file's durability and integrity check")]

ROUNDS = 15
TIME_BUDGET = 120.0  # seconds for all rounds together; fewer rounds run on a slow machine
WRITERS = 3


def seed_writers(data_dir, domain: str, count: int) -> list[str]:
    """`count` accounts with write tokens, made through the service layer before the server starts."""
    from starling.accounts import service as accounts

    data_dir.mkdir(parents=True, exist_ok=True)
    settings = Settings(data_dir=data_dir, domain=domain, secret_key=SECRET_KEY, _env_file=None)
    upgrade(settings.resolved_database_url)

    async def run() -> list[str]:
        ctx = AppContext.build(settings)
        tokens = []
        try:
            async with ctx.db.write() as session:
                for i in range(count):
                    account = await accounts.create_account(
                        session, settings, username=f"writer{i}", email=f"writer{i}@crash.test",
                        password="long enough pw")
                    tokens.append(await accounts.issue_token(session, account_id=account.id,
                                                             scopes="read write"))
        finally:
            await ctx.db.dispose()
        return tokens

    return asyncio.run(run())


class Writer(threading.Thread):
    """Posts statuses as fast as the server takes them, until told to stop or the server goes away;
    remembers the ID of every post acknowledged with 200."""

    def __init__(self, base_url: str, token: str, label: str, acknowledged: list[int], lock: threading.Lock):
        super().__init__(daemon=True)
        self.base_url, self.token, self.label = base_url, token, label
        self.acknowledged, self.lock = acknowledged, lock
        self.stop = threading.Event()
        self.unexpected: list[str] = []

    def run(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        with httpx.Client(base_url=self.base_url, headers=headers, timeout=10) as http:
            n = 0
            while not self.stop.is_set():
                n += 1
                try:
                    response = http.post("/api/v1/statuses", json={"status": f"{self.label} post {n}"})
                except httpx.HTTPError:
                    return  # the server died under us: whatever was not acknowledged may be lost
                if response.status_code == 200:
                    with self.lock:
                        self.acknowledged.append(int(response.json()["id"]))
                else:
                    self.unexpected.append(f"{response.status_code} {response.text[:200]}")
                    return


def test_acknowledged_posts_survive_repeated_sigkill(tmp_path):
    port = free_port()
    server = LiveServer(data_dir=tmp_path / "data", port=port, domain=f"127.0.0.1:{port}", synchronous="FULL")
    tokens = seed_writers(server.data_dir, server.domain, WRITERS)
    rng = random.Random(1234)
    acknowledged: list[int] = []
    lock = threading.Lock()
    problems: list[str] = []
    started = time.monotonic()
    rounds = 0
    try:
        while rounds < ROUNDS and time.monotonic() - started < TIME_BUDGET:
            rounds += 1
            server.start()
            writers = [Writer(server.base_url, token, f"r{rounds}w{i}", acknowledged, lock)
                       for i, token in enumerate(tokens)]
            for writer in writers:
                writer.start()
            time.sleep(rng.uniform(0.3, 1.5))
            server.kill()
            for writer in writers:
                writer.stop.set()
                writer.join(timeout=15)
                problems += writer.unexpected
        assert not problems, f"writes answered with something other than 200: {problems[:5]}"
        assert rounds >= 5, f"only {rounds} crash rounds fitted in {TIME_BUDGET} s"
        assert len(acknowledged) >= rounds, "the writers hardly got anything acknowledged"

        # After the last crash, a clean start runs every outstanding job and serves every post.
        server.start()
        with httpx.Client(base_url=server.base_url, timeout=10,
                          headers={"Authorization": f"Bearer {tokens[0]}"}) as http:
            for status_id in rng.sample(acknowledged, min(25, len(acknowledged))):
                assert http.get(f"/api/v1/statuses/{status_id}").status_code == 200, status_id
        # Jobs that were queued run now. Jobs a killed server had claimed keep their lease and run
        # again when it expires; none may be lost or dead.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and job_states(server.data_dir).get("queued", 0) > 0:
            time.sleep(0.2)
        states = job_states(server.data_dir)
        assert states.get("queued", 0) == 0, f"status.created jobs still queued after restart: {states}"
    finally:
        server.stop()

    db = sqlite3.connect(server.data_dir / "starling.sqlite3")
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stored = {row[0] for row in db.execute("SELECT id FROM statuses")}
        lost = [i for i in acknowledged if i not in stored]
        assert not lost, f"{len(lost)} of {len(acknowledged)} acknowledged posts were lost: {lost[:10]}"
        job_status_ids = set()
        for (payload,) in db.execute("SELECT payload FROM jobs WHERE kind = 'status.created'"):
            job_status_ids.add(int(json.loads(payload)["status_id"]))
        missing = stored - job_status_ids
        assert not missing, f"{len(missing)} posts have no status.created job: {sorted(missing)[:10]}"
        dead = db.execute("SELECT count(*) FROM jobs WHERE state = 'dead'").fetchone()[0]
        assert dead == 0, f"{dead} jobs died"
    finally:
        db.close()
    print(f"{rounds} SIGKILL rounds, {len(acknowledged)} acknowledged posts, all present; jobs {states}")


def job_states(data_dir) -> dict[str, int]:
    """How many status.created jobs are in each state: only queued, done or dead ever exist (a batch that
    a crash interrupts rolls back to queued)."""
    db = sqlite3.connect(data_dir / "starling.sqlite3", timeout=10)
    try:
        states = dict(db.execute("SELECT state, count(*) FROM jobs WHERE kind = 'status.created' "
                               "GROUP BY state"))
        assert set(states) <= {"queued", "done", "dead"}, states
        return states
    finally:
        db.close()
