"""Helpers for the fault tests and `starling db copy` tests: throwaway databases on the shared PostgreSQL
server, a throwaway PostgreSQL cluster of our own (that a test may stop), and `starling worker`
subprocesses.

The shared server (STARLING_TEST_DATABASE_URL) is never stopped or reconfigured: tests only create and
drop databases on it. A test that needs PostgreSQL to go away runs its own cluster in a temporary
directory, on a Unix socket only, as the postgres user when the tests run as root (PostgreSQL refuses root).
"""

from __future__ import annotations

import asyncio
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from tests.live import REPO, STARLING
from tests.postgres import requires

PG_URL = os.environ.get("STARLING_TEST_DATABASE_URL", "")
REDIS_URL = os.environ.get("STARLING_TEST_REDIS_URL", "")
PG_BIN = Path("/usr/lib/postgresql/15/bin")

requires_shared_postgres = requires(PG_URL.startswith("postgresql"),
                                    "STARLING_TEST_DATABASE_URL does not name a PostgreSQL database")
requires_pg_binaries = requires((PG_BIN / "initdb").exists(),
                                f"no PostgreSQL binaries in {PG_BIN} to run a throwaway cluster")


async def _admin(statement: str) -> None:
    engine = create_async_engine(make_url(PG_URL).set(drivername="postgresql+asyncpg"), isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


async def create_database(prefix: str = "starling_fault") -> str:
    """A new, empty database on the shared server; returns its URL."""
    name = f"{prefix}_{secrets.token_hex(6)}"
    await _admin(f'CREATE DATABASE "{name}"')
    return make_url(PG_URL).set(drivername="postgresql+asyncpg", database=name).render_as_string(hide_password=False)


async def drop_database(url: str) -> None:
    await _admin(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


@contextmanager
def throwaway_database(prefix: str = "starling_fault") -> Iterator[str]:
    """For synchronous tests: an empty database on the shared server, dropped afterwards."""
    url = asyncio.run(create_database(prefix))
    try:
        yield url
    finally:
        asyncio.run(drop_database(url))


class PgCluster:
    """A PostgreSQL cluster of our own in a temporary directory, with trust authentication for the postgres
    user. Start and stop at will. It listens only on a Unix socket in that directory, never on TCP: a TCP
    port that it frees when stopped could be taken by someone else's server on this shared machine, and
    a client reconnecting there would reach the wrong database."""

    port = 5432  # names the socket file (.s.PGSQL.5432) in our own directory; no TCP port is opened

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="starling-pg-"))
        self.data = self.root / "cluster"
        self.log = self.root / "postgres.log"
        self._user = None
        if os.geteuid() == 0:
            self._user = pwd.getpwnam("postgres")
            os.chown(self.root, self._user.pw_uid, self._user.pw_gid)

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@/postgres?host={self.root}&port={self.port}"

    def _run(self, *args: str, timeout: float = 60) -> None:
        def demote() -> None:
            if self._user is not None:
                os.setgid(self._user.pw_gid)
                os.setuid(self._user.pw_uid)

        done = subprocess.run([str(PG_BIN / args[0]), *args[1:]], preexec_fn=demote, cwd=self.root,
                              capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}\n"
                               f"{self.log.read_text() if self.log.exists() else ''}")

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                  "--no-sync", timeout=120)

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w", "-t", "60",
                  "-o", f"-p {self.port} -k {self.root} -c listen_addresses='' -c fsync=off", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def destroy(self) -> None:
        if self.running():
            try:
                self.stop("immediate")
            except RuntimeError:
                pass
        shutil.rmtree(self.root, ignore_errors=True)


@contextmanager
def pg_cluster() -> Iterator[PgCluster]:
    cluster = PgCluster()
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        cluster.destroy()


class WorkerProcess:
    """One `starling worker --concurrency K` subprocess with the given environment."""

    def __init__(self, env: dict[str, str], log_path: Path, concurrency: int = 2):
        self.env, self.log_path, self.concurrency = env, log_path, concurrency
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen([str(STARLING), "worker", "--concurrency", str(self.concurrency)],
                                            env=self.env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT,
                                            start_new_session=True)

    def kill(self) -> None:
        """SIGKILL: as far as the database can tell, the machine lost power under this process."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def stop(self, grace: float = 10.0) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""


def wait_for(predicate, *, timeout: float, interval: float = 0.1, what: str = "condition"):
    """Poll `predicate` until it returns something truthy; fail the test after `timeout` seconds.
    (A bound on waiting for an event, not a speed requirement.)"""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)
