"""Run the real server (`starling serve`) as a subprocess, the way an operator would, for the slow
tests that drive Starling from outside: over a real socket, with the embedded worker running jobs.

    with live_server() as server:
        httpx.get(server.url("/health"))

A `LiveServer` can also be killed and started again on the same data dir (the crash tests do that).
"""

from __future__ import annotations

import fcntl
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.postgres import backend_env

REPO = Path(__file__).resolve().parent.parent
STARLING = Path(sys.executable).with_name("starling")
if not STARLING.exists():
    STARLING = REPO / ".venv" / "bin" / "starling"
SECRET_KEY = "live-test-secret-key-" + "x" * 32
ADMIN_PASSWORD = re.compile(r"Created account 'admin' with password: (\S+)")


def free_port() -> int:
    """A TCP port nobody listens on right now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def fixed_port(port: int, *, wait: float = 900.0) -> Iterator[None]:
    """Hold `port` for this process while the block runs, for tests that must use one fixed port: the two
    passes of `make test` (SQLite and PostgreSQL) run at once and take turns here instead of colliding."""
    with open(Path(tempfile.gettempdir()) / f"starling-test-port-{port}.lock", "w") as lock:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"another test run held port {port} for {wait:.0f} s") from None
                time.sleep(0.5)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """Whether something accepts connections on host:port (any address the host name resolves to)."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def server_env(data_dir: Path, domain: str, *, synchronous: str = "NORMAL",
               extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for a `starling` subprocess on `data_dir` (no STARLING_* leaks in from ours), on
    the backend of the test pass (on PostgreSQL: `data_dir`'s own database and Redis prefix)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STARLING_")}
    env.update(backend_env(data_dir))
    env.update({
        "STARLING_DATA_DIR": str(data_dir),
        "STARLING_DOMAIN": domain,
        "STARLING_SECRET_KEY": SECRET_KEY,
        "STARLING_SQLITE_SYNCHRONOUS": synchronous,
        "STARLING_LOG_LEVEL": "warning",
        "PYTHONUNBUFFERED": "1",
    })
    env.update(extra or {})
    return env


def run_cli(args: list[str], env: dict[str, str], *, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run `starling <args>` to completion; raises with its output when it fails."""
    done = subprocess.run([str(STARLING), *args], env=env, cwd=REPO, capture_output=True, text=True,
                          timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"starling {' '.join(args)} failed ({done.returncode}):\n"
                           f"{done.stdout}\n{done.stderr}")
    return done


@dataclass
class LiveServer:
    """One `starling serve` process on a data dir; start/stop/kill may be repeated on the same dir."""

    data_dir: Path
    port: int
    domain: str
    workers: int = 1
    synchronous: str = "NORMAL"
    extra_env: dict[str, str] = field(default_factory=dict)
    startup_timeout: float = 60.0
    admin_password: str | None = None
    process: subprocess.Popen | None = None
    starts: int = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.data_dir.parent / f"server-{self.port}.log"

    @property
    def env(self) -> dict[str, str]:
        return server_env(self.data_dir, self.domain, synchronous=self.synchronous, extra=self.extra_env)

    def url(self, path: str) -> str:
        return self.base_url + path

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def start(self) -> None:
        """Spawn the server and wait until /health answers 200."""
        if port_in_use(self.port):
            raise RuntimeError(f"port {self.port} is already in use; cannot start Starling there")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        log = open(self.log_path, "ab")
        try:
            self.process = subprocess.Popen(
                [str(STARLING), "serve", "--host", "127.0.0.1", "--port", str(self.port),
                 "--workers", str(self.workers)],
                env=self.env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        finally:
            log.close()
        self.starts += 1
        self._wait_healthy(offset)

    def _wait_healthy(self, log_offset: int) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"starling serve exited with {self.process.returncode}:\n"
                                   f"{self.log_text()[-4000:]}")
            try:
                if httpx.get(self.url("/health"), timeout=2).status_code == 200:
                    found = ADMIN_PASSWORD.search(self.log_text()[log_offset:])
                    if found:
                        self.admin_password = found.group(1)
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"starling serve did not become healthy in {self.startup_timeout}s:\n"
                           f"{self.log_text()[-4000:]}")

    def _signal_group(self, sig: int) -> None:
        # The server runs in its own session (uvicorn may fork workers): signal the whole group.
        try:
            os.killpg(self.process.pid, sig)
        except ProcessLookupError:
            pass

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM, then SIGKILL after `grace` seconds; always reaps."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self._signal_group(signal.SIGTERM)
            try:
                self.process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self._signal_group(signal.SIGKILL)
                self.process.wait(timeout=10)
        self.process = None

    def kill(self) -> None:
        """SIGKILL at once (a crash, as far as the server can tell), then reap."""
        if self.process is None:
            return
        self._signal_group(signal.SIGKILL)
        self.process.wait(timeout=10)
        self.process = None


@contextmanager
def live_server(tmp_path: Path, *, port: int | None = None, domain: str | None = None, workers: int = 1,
                synchronous: str = "NORMAL", extra_env: dict[str, str] | None = None,
                before_start: list[list[str]] | None = None) -> Iterator[LiveServer]:
    """Start `starling serve` on a fresh data dir under `tmp_path`; yield it; stop and reap it.

    `before_start` lists CLI invocations (e.g. [["fixtures", "mastodon-py"]]) run on the same data dir
    before the server starts."""
    port = port or free_port()
    server = LiveServer(data_dir=tmp_path / "data", port=port, domain=domain or f"127.0.0.1:{port}",
                        workers=workers, synchronous=synchronous, extra_env=dict(extra_env or {}))
    server.data_dir.mkdir(parents=True, exist_ok=True)
    for args in before_start or []:
        run_cli(args, server.env)
    try:
        server.start()
        yield server
    finally:
        server.stop()
