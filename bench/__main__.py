"""`python -m bench`: the core benchmark. Prints figures; decides nothing.

    python -m bench --accounts 10000 --posts 1000000 --workers 2 --connections 50 --seconds 15
    python -m bench --backend postgres ...   # PostgreSQL + Redis, API processes plus a `starling worker`
    python -m bench --backend both ...       # both, then the figures side by side
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench import dataset, load
from bench.instance import FanOut, InstanceDatabase, forget_redis_prefix, recreate_postgres_database

ROOT = Path(__file__).resolve().parent.parent
STARLING = ROOT / ".venv/bin/starling"
DEFAULT_THRESHOLD = 10_000  # Settings.fanout_threshold


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(data_dir: Path, port: int, extra_env: dict) -> dict:
    return dict(os.environ, STARLING_DATA_DIR=str(data_dir), STARLING_DOMAIN=f"127.0.0.1:{port}",
                STARLING_SECRET_KEY="bench-" + secrets.token_urlsafe(32), STARLING_BENCH_ROUTES="true",
                STARLING_LOG_LEVEL="warning", **extra_env)


def _log_file(env: dict, name: str):
    """Where a process's stderr goes: a file in the run's directory. (A pipe nobody reads fills after
    64 KiB of log lines and then blocks the server mid-run.)"""
    return open(Path(env["STARLING_DATA_DIR"]) / name, "ab")


def start_server(env: dict, port: int, workers: int, *, no_worker: bool = False) -> subprocess.Popen:
    log = _log_file(env, "serve.log")
    proc = subprocess.Popen([str(STARLING), "serve", "--port", str(port), "--workers", str(workers),
                             *(["--no-worker"] if no_worker else [])],
                            env=env, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)
    log.close()
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            tail = (Path(env["STARLING_DATA_DIR"]) / "serve.log").read_text(errors="replace")[-2000:]
            raise SystemExit(f"server exited: {tail}")
        time.sleep(0.2)
    raise SystemExit("server did not come up in 120 s")


def stop_server(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def start_worker(env: dict, concurrency: int) -> subprocess.Popen:
    log = _log_file(env, "worker.log")
    try:
        return subprocess.Popen([str(STARLING), "worker", "--concurrency", str(concurrency)], env=env,
                                stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)
    finally:
        log.close()


def wait_for_jobs(db: InstanceDatabase, since_id: int, expect: int, timeout: float = 300) -> None:
    """Until `expect` status.created jobs newer than `since_id` are done and nothing else is pending."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if db.settled(since_id, expect):
            return
        time.sleep(0.2)
    raise SystemExit("jobs did not drain")


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


@dataclass
class Figures:
    backend: str
    build_seconds: float
    home: load.LoadResult
    bare: load.LoadResult
    posting: load.LoadResult
    delays: list[float]
    fan_out: FanOut
    big_followers: int
    big_seconds: float
    rss_mb: float
    cold: list[float]


def run(backend: str, args: argparse.Namespace) -> Figures:
    """Build the dataset on `backend`, serve it, load it, and print each figure as it comes."""
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix=f"starling-bench-{backend}-"))
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    extra_env: dict[str, str] = {}
    redis_prefix = ""
    if backend == "postgres":
        database_url = args.database_url
        recreate_postgres_database(database_url)
        extra_env["STARLING_DATABASE_URL"] = database_url
        redis_prefix = f"starling-bench:{secrets.token_hex(4)}:"
        if args.redis_url:
            extra_env.update(STARLING_REDIS_URL=args.redis_url, STARLING_REDIS_PREFIX=redis_prefix)
        where = f"PostgreSQL {database_url} + " + (f"Redis {args.redis_url}" if args.redis_url else "no Redis")
        processes = f"{args.workers} API processes + `starling worker --concurrency {args.worker_concurrency}`"
    else:
        database_url = f"sqlite+aiosqlite:///{data_dir / 'starling.sqlite3'}"
        where = f"SQLite {data_dir / 'starling.sqlite3'}"
        processes = f"{args.workers} API processes (embedded worker)"
    celebrity_followers = max(args.celebrity_followers, args.accounts)
    if celebrity_followers > DEFAULT_THRESHOLD:
        # Above the threshold the post would be merged at read time; raise it so the post is fanned out.
        extra_env["STARLING_FANOUT_THRESHOLD"] = str(celebrity_followers)
    print(f"# Starling benchmark on {backend}: {args.accounts} accounts, {args.posts} posts, {processes}, "
          f"{args.connections} connections, {os.cpu_count()} cores; {where}; files in {data_dir}", flush=True)
    feeds_in_redis = backend == "postgres" and bool(args.redis_url)
    built = dataset.build(database_url, accounts=args.accounts, posts=args.posts,
                          celebrity_followers=args.celebrity_followers,
                          redis_url=args.redis_url if feeds_in_redis else "",
                          redis_prefix=redis_prefix if feeds_in_redis else "")
    print(f"dataset built in {built.build_seconds:.1f} s", flush=True)
    readers_file = data_dir / "readers.txt"
    posters_file = data_dir / "posters.txt"
    dataset.write_tokens(readers_file, built.readers)
    dataset.write_tokens(posters_file, built.posters)
    db = InstanceDatabase(database_url)

    env = server_env(data_dir, port, extra_env)
    proc = start_server(env, port, args.workers, no_worker=backend == "postgres")
    worker = start_worker(env, args.worker_concurrency) if backend == "postgres" else None
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
        print(f"ratio         : {home.requests_per_second / bare.requests_per_second:.1%} of the bare route",
              flush=True)
        cold: list[float] = []
        if feeds_in_redis:
            cold = cold_home_reads(base, args.redis_url, redis_prefix, built.readers[:args.cold_reads])
            print(f"cold home read: p50 {pct(cold, 50) * 1000:.1f} ms   p99 {pct(cold, 99) * 1000:.1f} ms   "
                  f"max {max(cold) * 1000:.1f} ms over {len(cold)} readers whose Redis feed was deleted "
                  f"(one at a time: the rebuild from SQL)", flush=True)

        last_job = db.newest_job()
        posting = load.wrk(f"{base}/api/v1/statuses", connections=10, seconds=args.seconds,
                           tokens_file=posters_file, method="POST", post=True)
        wait_for_jobs(db, last_job, posting.requests - posting.non_2xx)
        delays = db.delivery_seconds(last_job)
        fan_out = db.fan_out(last_job)
        print(f"post creation : {posting.line()}")
        print(f"fan-out delay : p50 {pct(delays, 50):.2f} s   p99 {pct(delays, 99):.2f} s   "
              f"max {max(delays) if delays else float('nan'):.2f} s over {len(delays)} posts "
              f"(creation to every follower's feed)")
        print(f"fan-out rate  : {fan_out.per_second:,.0f} feed inserts/s ({fan_out.deliveries:,} inserts in "
              f"{fan_out.seconds:.1f} s, while posting)", flush=True)

        last_job = db.newest_job()
        followers = db.followers_count(built.celebrity[0])
        httpx.post(f"{base}/api/v1/statuses", json={"status": "hello to all of you"},
                   headers={"Authorization": f"Bearer {built.celebrity[1]}"}, timeout=30).raise_for_status()
        wait_for_jobs(db, last_job, 1, timeout=600)
        big = db.delivery_seconds(last_job)
        big_seconds = max(big) if big else float("nan")
        print(f"fan-out to {followers} followers: {big_seconds:.2f} s "
              f"({followers / big_seconds:,.0f} feed inserts/s)")
        rss = load.tree_rss_mb(proc.pid) + (load.tree_rss_mb(worker.pid) if worker else 0.0)
        print(f"server RSS    : {rss:.0f} MB (all processes)")
        if delays:
            print(f"(mean fan-out delay {statistics.mean(delays):.2f} s)")
        return Figures(backend, built.build_seconds, home, bare, posting, delays, fan_out, followers,
                       big_seconds, rss, cold)
    finally:
        if worker is not None:
            stop_server(worker)
        stop_server(proc)
        if backend == "postgres" and args.redis_url:
            forget_redis_prefix(args.redis_url, redis_prefix)


def cold_home_reads(base: str, redis_url: str, prefix: str, readers: list[tuple[int, str]]) -> list[float]:
    """Seconds for each reader's first home page after its Redis feed is deleted (as an evicted or
    expired feed would be), one reader at a time: the cost of one rebuild from SQL."""
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        client.delete(*[f"{prefix}feed:{account_id}" for account_id, _ in readers])
    finally:
        client.close()
    seconds = []
    with httpx.Client(base_url=base, timeout=30) as http:
        for _, token in readers:
            started = time.perf_counter()
            http.get("/api/v1/timelines/home", headers={"Authorization": f"Bearer {token}"}).raise_for_status()
            seconds.append(time.perf_counter() - started)
    return sorted(seconds)


def side_by_side(results: list[Figures], connections: int) -> str:
    """One row per figure, one column per backend."""
    rows = [
        ("dataset load", lambda f: f"{f.build_seconds:.0f} s"),
        ("home timeline", lambda f: f"{f.home.requests_per_second:,.0f} req/s"),
        (f"home p50 / p99 ({connections} conns)", lambda f: f"{f.home.p50_ms:.0f} / {f.home.p99_ms:.0f} ms"),
        ("home, cold feed p50 / max (one at a time)",
         lambda f: f"{pct(f.cold, 50) * 1000:.0f} / {max(f.cold) * 1000:.0f} ms" if f.cold else "n/a"),
        ("bare route", lambda f: f"{f.bare.requests_per_second:,.0f} req/s"),
        ("posting (10 conns)", lambda f: f"{f.posting.requests_per_second:,.0f} posts/s"),
        ("posting p99", lambda f: f"{f.posting.p99_ms:,.0f} ms"),
        ("fan-out delay p50 / p99", lambda f: f"{pct(f.delays, 50):.2f} / {pct(f.delays, 99):.2f} s"),
        ("fan-out rate while posting", lambda f: f"{f.fan_out.per_second:,.0f} inserts/s"),
        ("post to every follower's feed", lambda f: f"{f.big_seconds:.2f} s ({f.big_followers:,})"),
        ("big fan-out rate", lambda f: f"{f.big_followers / f.big_seconds:,.0f} inserts/s"),
        ("server RSS", lambda f: f"{f.rss_mb:,.0f} MB"),
    ]
    width = max(len(name) for name, _ in rows) + 2
    lines = ["figure".ljust(width) + "".join(f.backend.rjust(26) for f in results)]
    lines += [name.ljust(width) + "".join(show(f).rjust(26) for f in results) for name, show in rows]
    return "\n".join(lines)


def main() -> None:
    if "--flood" in sys.argv[1:]:  # the flood run has its own options (python -m bench --flood --help)
        from bench import flood

        return flood.main([arg for arg in sys.argv[1:] if arg != "--flood"])
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--workers", type=int, default=2, help="API processes")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--data-dir", type=Path, default=None, help="where the run keeps its files")
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="sqlite")
    parser.add_argument("--database-url", default="postgresql+asyncpg://postgres@127.0.0.1:5432/starling_bench",
                        help="PostgreSQL database to recreate and fill (its name must start with starling_bench)")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0",
                        help="Redis for the PostgreSQL run ('' for none); its keys go under a prefix of the run's own")
    parser.add_argument("--worker-concurrency", type=int, default=4,
                        help="jobs at once in the PostgreSQL run's `starling worker`")
    parser.add_argument("--cold-reads", type=int, default=100,
                        help="readers whose Redis feed is deleted to time a cold home read (PostgreSQL + Redis run)")
    parser.add_argument("--celebrity-followers", type=int, default=0,
                        help="followers of the account whose post measures a big fan-out (default: every "
                             "account); more than --accounts adds accounts that follow only it")
    args = parser.parse_args()
    if args.backend == "both" and args.data_dir:
        parser.error("--data-dir goes with one backend")
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    results = [run(backend, args) for backend in backends]
    print()
    print(side_by_side(results, args.connections))


if __name__ == "__main__":
    sys.exit(main())
