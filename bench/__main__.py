"""`python -m bench`: the core benchmark. Prints figures; decides nothing.

    python -m bench --accounts 10000 --posts 1000000 --workers 2 --connections 50 --seconds 15
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench import dataset, load

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(data_dir: Path, port: int, workers: int, extra_env: dict) -> subprocess.Popen:
    env = dict(os.environ, STARLING_DATA_DIR=str(data_dir), STARLING_DOMAIN=f"127.0.0.1:{port}",
               STARLING_SECRET_KEY=secrets.token_urlsafe(32), STARLING_BENCH_ROUTES="true",
               STARLING_LOG_LEVEL="warning", **extra_env)
    proc = subprocess.Popen([str(ROOT / ".venv/bin/starling"), "serve", "--port", str(port), "--workers",
                             str(workers)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {proc.stderr.read().decode()[-2000:]}")
        time.sleep(0.2)
    raise SystemExit("server did not come up in 120 s")


def stop_server(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def wait_for_jobs(db_path: Path, since_id: int, expect: int, timeout: float = 300) -> None:
    """Until `expect` status.created jobs newer than `since_id` are done and nothing else is pending."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        conn = sqlite3.connect(db_path)
        try:
            done = conn.execute("SELECT count(*) FROM jobs WHERE kind = 'status.created' AND state = 'done' "
                                "AND id > ?", (since_id,)).fetchone()[0]
            left = conn.execute("SELECT count(*) FROM jobs WHERE state IN ('queued','running')").fetchone()[0]
        finally:
            conn.close()
        if done >= expect and left == 0:
            return
        time.sleep(0.2)
    raise SystemExit("jobs did not drain")


def newest_job(db_path: Path) -> int:
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute("SELECT coalesce(max(id), 0) FROM jobs").fetchone()[0]
    finally:
        conn.close()


def delivery_seconds(db_path: Path, since_id: int) -> list[float]:
    """For each status.created job since `since_id`: seconds from the status's creation to the job's end."""
    conn = sqlite3.connect(db_path)
    with conn:
        rows = conn.execute(
            "SELECT (julianday(j.finished_at) - julianday(s.created_at)) * 86400.0 FROM jobs j "
            "JOIN statuses s ON s.id = json_extract(j.payload, '$.status_id') "
            "WHERE j.kind = 'status.created' AND j.state = 'done' AND j.id > ?", (since_id,)).fetchall()
    conn.close()
    return sorted(r[0] for r in rows if r[0] is not None)


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main() -> None:
    if "--flood" in sys.argv[1:]:  # the flood run has its own options (python -m bench --flood --help)
        from bench import flood

        return flood.main([arg for arg in sys.argv[1:] if arg != "--flood"])
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--data-dir", type=Path, default=None, help="reuse a dataset built earlier")
    parser.add_argument("--backend", choices=["sqlite"], default="sqlite")
    args = parser.parse_args()

    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="starling-bench-"))
    data_dir.mkdir(parents=True, exist_ok=True)
    db_path = data_dir / "starling.sqlite3"
    print(f"# Starling benchmark: {args.accounts} accounts, {args.posts} posts, {args.workers} API processes, "
          f"{args.connections} connections, {os.cpu_count()} cores, data in {data_dir}")
    built = dataset.build(f"sqlite+aiosqlite:///{db_path}", accounts=args.accounts, posts=args.posts)
    print(f"dataset built in {built.build_seconds:.1f} s")
    readers_file = data_dir / "readers.txt"
    posters_file = data_dir / "posters.txt"
    dataset.write_tokens(readers_file, built.readers)
    dataset.write_tokens(posters_file, built.posters)

    port = free_port()
    proc = start_server(data_dir, port, args.workers, {})
    base = f"http://127.0.0.1:{port}"
    try:
        first = httpx.get(f"{base}/api/v1/timelines/home",
                          headers={"Authorization": f"Bearer {built.readers[0][1]}"}, timeout=30)
        first.raise_for_status()
        (data_dir / "bench_bare.json").write_bytes(first.content)
        print(f"home page: {len(first.json())} statuses, {len(first.content)} bytes")
        load.wrk(f"{base}/api/v1/timelines/home", connections=args.connections, seconds=3,
                 tokens_file=readers_file)  # warm-up
        home = load.wrk(f"{base}/api/v1/timelines/home", connections=args.connections, seconds=args.seconds,
                        tokens_file=readers_file)
        bare = load.wrk(f"{base}/bench/bare", connections=args.connections, seconds=args.seconds)
        print(f"home timeline : {home.line()}")
        print(f"bare route    : {bare.line()}")
        print(f"ratio         : {home.requests_per_second / bare.requests_per_second:.1%} of the bare route")

        last_job = newest_job(db_path)
        posting = load.wrk(f"{base}/api/v1/statuses", connections=10, seconds=args.seconds,
                           tokens_file=posters_file, method="POST", post=True)
        wait_for_jobs(db_path, last_job, posting.requests - posting.non_2xx)
        delays = delivery_seconds(db_path, last_job)
        print(f"post creation : {posting.line()}")
        print(f"fan-out delay : p50 {pct(delays, 50):.2f} s   p99 {pct(delays, 99):.2f} s   "
              f"max {max(delays) if delays else float('nan'):.2f} s over {len(delays)} posts "
              f"(creation to every follower's feed)")

        last_job = newest_job(db_path)
        conn = sqlite3.connect(db_path)
        followers = conn.execute("SELECT followers_count FROM accounts WHERE id = 1").fetchone()[0]
        conn.close()
        httpx.post(f"{base}/api/v1/statuses", json={"status": "hello to all of you"},
                   headers={"Authorization": f"Bearer {built.celebrity[1]}"}, timeout=30).raise_for_status()
        wait_for_jobs(db_path, last_job, 1)
        big = delivery_seconds(db_path, last_job)
        print(f"fan-out to {followers} followers: {max(big) if big else float('nan'):.2f} s")
        print(f"server RSS    : {load.tree_rss_mb(proc.pid):.0f} MB (all processes)")
        if delays:
            print(f"(mean fan-out delay {statistics.mean(delays):.2f} s)")
    finally:
        stop_server(proc)


if __name__ == "__main__":
    sys.exit(main())
