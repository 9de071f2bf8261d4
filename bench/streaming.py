"""`python -m bench.streaming`: how long a post takes to reach streaming clients held by another process.
Prints figures; decides nothing.

Two `starling serve` processes share one data dir; `--listeners` WebSocket clients follow the public
stream on process B while `--posts` statuses are posted, one at a time, through process A. For each post:
the time from sending the POST until the first and until the last client has it (which includes the
embedded worker picking up the fan-out job). `--redis URL` carries events over Redis instead of the
SQL table.

    python -m bench.streaming --listeners 50 --posts 40 [--redis redis://127.0.0.1:6379/0]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import httpx
import websockets

ROOT = Path(__file__).resolve().parent.parent
STARLING = ROOT / ".venv" / "bin" / "starling"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(data_dir: Path, port: int, domain: str, extra_env: dict[str, str]) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STARLING_")}
    env.update(STARLING_DATA_DIR=str(data_dir), STARLING_DOMAIN=domain, STARLING_LOG_LEVEL="warning",
               STARLING_SECRET_KEY="bench-streaming-" + "k" * 32, STARLING_SQLITE_SYNCHRONOUS="NORMAL", **extra_env)
    proc = subprocess.Popen([str(STARLING), "serve", "--port", str(port)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    raise SystemExit(f"server on {port} did not start")


def admin_password(proc: subprocess.Popen) -> str:
    for line in proc.stdout:
        if "with password:" in line:
            return line.rsplit(" ", 1)[1].strip()
    raise SystemExit("no admin password printed")


async def token_for(base: str, password: str) -> str:
    async with httpx.AsyncClient(base_url=base) as http:
        app = (await http.post("/api/v1/apps", data={"client_name": "bench", "scopes": "read write",
                                                     "redirect_uris": "urn:ietf:wg:oauth:2.0:oob"})).json()
        r = await http.post("/oauth/token", data={"grant_type": "password", "username": "admin", "password": password,
                                                  "client_id": app["client_id"], "client_secret": app["client_secret"],
                                                  "scope": "read write"})
        return r.json()["access_token"]


async def arrival(ws, status_id: str, started: float) -> float:
    """Seconds from `started` until `ws` has the status."""
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), 30))
        if json.loads(message["payload"])["id"] == status_id:
            return time.perf_counter() - started


async def measure(a: int, b: int, token: str, listeners: int, posts: int) -> tuple[list[float], list[float]]:
    first, last = [], []
    sockets = [await websockets.connect(f"ws://127.0.0.1:{b}/api/v1/streaming?stream=public") for _ in range(listeners)]
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{a}", timeout=30,
                                     headers={"Authorization": f"Bearer {token}"}) as http:
            for n in range(posts):
                started = time.perf_counter()
                status = (await http.post("/api/v1/statuses", data={"status": f"bench {n}"})).json()
                arrivals = await asyncio.gather(*(arrival(ws, status["id"], started) for ws in sockets))
                first.append(min(arrivals))
                last.append(max(arrivals))
    finally:
        for ws in sockets:
            await ws.close()
    return first, last


def summary(name: str, values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"{name:>22}: median {statistics.median(ordered) * 1000:7.1f} ms   p95 {p95 * 1000:7.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listeners", type=int, default=50)
    parser.add_argument("--posts", type=int, default=40)
    parser.add_argument("--redis", default="", help="carry events over this Redis instead of the SQL table")
    args = parser.parse_args()
    extra = {}
    if args.redis:
        extra = {"STARLING_REDIS_URL": args.redis, "STARLING_REDIS_PREFIX": f"bench-{secrets.token_hex(4)}:"}
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        a, b = free_port(), free_port()
        procs = [serve(data, a, f"127.0.0.1:{a}", extra)]
        password = admin_password(procs[0])
        procs.append(serve(data, b, f"127.0.0.1:{a}", extra))
        try:
            token = asyncio.run(token_for(f"http://127.0.0.1:{a}", password))
            first, last = asyncio.run(measure(a, b, token, args.listeners, args.posts))
        finally:
            for proc in procs:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=15)
    bus = "Redis pub/sub" if args.redis else "SQL table (poll 0.2 s)"
    print(f"post on process A -> {args.listeners} WebSocket clients on process B, {args.posts} posts, {bus}")
    print(summary("first client has it", first))
    print(summary("last client has it", last))


if __name__ == "__main__":
    main()
