"""`python -m bench.flood` (or `python -m bench --flood`): one address hammering the home timeline at full
speed while normal readers, each at their own address, read theirs at a human pace. Prints the normal
readers' latency without and with the flood, the flood's share of 429s, and the server CPU time a
flooded (refused) request costs against a normal one. Prints figures; decides nothing.

    python -m bench.flood --accounts 2000 --posts 40000 --seconds 10

The server trusts X-Forwarded-For from 127.0.0.1 here, so each reader (and the flood) has its own
address; loopback is not exempt. Read caps are switched off: this run measures the rate limiter.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench import dataset, load
from bench.__main__ import free_port, server_env, start_server, stop_server

NORMAL_SCRIPT = r"""
local tokens = {}
for line in io.lines("%(tokens)s") do tokens[#tokens + 1] = line end
local counter = 0
init = function(args)
  counter = math.random(1, #tokens)
end
request = function()
  counter = counter + 1
  local i = (counter %% #tokens) + 1
  return wrk.format("GET", "/api/v1/timelines/home", {["Authorization"] = "Bearer " .. tokens[i],
    ["X-Forwarded-For"] = "10.0." .. math.floor(i / 250) .. "." .. (i %% 250 + 1)})
end
%(delay)s
"""
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _script(tokens_file: Path, pace_ms: int) -> str:
    delay = f"delay = function() return {pace_ms} end" if pace_ms > 0 else ""
    handle = tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False)
    handle.write(NORMAL_SCRIPT % {"tokens": tokens_file, "delay": delay})
    handle.close()
    return handle.name


def _wrk_args(connections: int, seconds: float, threads: int = 2) -> list[str]:
    return ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{max(1, round(seconds))}s", "--latency",
            "--timeout", "10s"]


def normal_run(base: str, script: str, connections: int, seconds: float) -> subprocess.Popen:
    return subprocess.Popen([*_wrk_args(connections, seconds), "-s", script, f"{base}/api/v1/timelines/home"],
                            stdout=subprocess.PIPE, text=True)


def flood_run(base: str, token: str, connections: int, seconds: float, nice: int = 0) -> subprocess.Popen:
    prefix = ["nice", "-n", str(nice)] if nice else []
    return subprocess.Popen([*prefix, *_wrk_args(connections, seconds, threads=1),
                             "-H", f"Authorization: Bearer {token}", "-H", "X-Forwarded-For: 10.9.9.9",
                             f"{base}/api/v1/timelines/home"],
                            stdout=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen) -> load.LoadResult:
    out, _ = proc.communicate()
    if "Requests/sec" not in out:
        raise SystemExit(f"wrk failed: {out}")
    return load.parse_wrk(out)


def _median(runs: list[load.LoadResult]) -> load.LoadResult:
    return sorted(runs, key=lambda r: r.p99_ms)[len(runs) // 2]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its descendants, in seconds."""
    total, pids = 0, [pid]
    while pids:
        current = pids.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
            pids.extend(int(c) for c in Path(f"/proc/{current}/task/{current}/children").read_text().split())
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
    return total / CLOCK_TICKS


def server_cost(pid: int, proc: subprocess.Popen) -> tuple[float, load.LoadResult]:
    """Server CPU milliseconds per request while `proc` (a wrk run) drives it."""
    before = cpu_seconds(pid)
    result = finish(proc)
    spent = cpu_seconds(pid) - before
    return spent * 1000 / max(1, result.requests), result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.flood", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=2_000)
    parser.add_argument("--posts", type=int, default=40_000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--normal", type=int, default=20, help="normal connections")
    parser.add_argument("--pace-ms", type=int, default=50, help="pause between a normal connection's requests")
    parser.add_argument("--flood-connections", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rounds", type=int, default=3, help="alone / under-flood measurement rounds")
    parser.add_argument("--flood-nice", type=int, default=0,
                        help="run the flood client at this nice level (on a small shared machine the flooding "
                             "client itself competes with the server for CPU; a real flood comes from elsewhere)")
    parser.add_argument("--data-dir", type=Path, default=None)
    args = parser.parse_args(argv)

    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="starling-flood-"))
    data_dir.mkdir(parents=True, exist_ok=True)
    db_path = data_dir / "starling.sqlite3"
    print(f"# Starling flood run: {args.accounts} accounts, {args.posts} posts, {args.workers} API process(es), "
          f"{args.normal} normal connections pacing {args.pace_ms} ms, {args.flood_connections} flood connections "
          f"from one address, {os.cpu_count()} cores, data in {data_dir}")
    built = dataset.build(f"sqlite+aiosqlite:///{db_path}", accounts=args.accounts, posts=args.posts)
    normal_tokens = data_dir / "normal_tokens.txt"
    dataset.write_tokens(normal_tokens, built.readers[1:])
    flood_token = built.readers[0][1]
    script = _script(normal_tokens, args.pace_ms)
    full_speed = _script(normal_tokens, 0)

    port = free_port()
    env = {"STARLING_TRUSTED_PROXIES": "127.0.0.1", "STARLING_RATELIMIT_EXEMPT_LOOPBACK": "false",
           "STARLING_READCAP_NEW_UNVERIFIED": "0", "STARLING_READCAP_UNVERIFIED": "0",
           "STARLING_READCAP_VERIFIED": "0"}
    proc = start_server(server_env(data_dir, port, env), port, args.workers)
    base = f"http://127.0.0.1:{port}"
    try:
        first = httpx.get(f"{base}/api/v1/timelines/home", timeout=30,
                          headers={"Authorization": f"Bearer {built.readers[1][1]}", "X-Forwarded-For": "10.1.1.1"})
        first.raise_for_status()
        print(f"home page: {len(first.json())} statuses; limit headers: "
              f"{first.headers.get('x-ratelimit-limit')}/{first.headers.get('x-ratelimit-remaining')}")
        finish(normal_run(base, script, args.normal, 3))  # warm-up

        # The flood runs throughout; its first few hundred requests (the token's allowance) are served,
        # then it is refused. Normal readers are measured alone and under the flood in turns, and the
        # median of the rounds is printed, as other work on a small shared machine makes single runs noisy.
        quiet_runs, loud_runs, floods = [], [], []
        opening = finish(flood_run(base, flood_token, args.flood_connections, 3, args.flood_nice))
        print(f"flood, first 3 s     : {opening.requests - opening.non_2xx} served (the token's allowance), "
              f"{opening.non_2xx} refused")
        for _ in range(args.rounds):
            quiet_runs.append(finish(normal_run(base, script, args.normal, args.seconds)))
            flood = flood_run(base, flood_token, args.flood_connections, args.seconds + 2, args.flood_nice)
            time.sleep(1)
            loud_runs.append(finish(normal_run(base, script, args.normal, args.seconds)))
            floods.append(finish(flood))
        quiet, loud = _median(quiet_runs), _median(loud_runs)
        flooded = floods[len(floods) // 2]
        for n, (a, b) in enumerate(zip(quiet_runs, loud_runs, strict=True), 1):
            print(f"round {n}: normal p99 alone {a.p99_ms:6.1f} ms, under flood {b.p99_ms:6.1f} ms")
        print(f"normal, alone        : {quiet.line()}")
        print(f"normal, under flood  : {loud.line()}")
        print(f"flood                : {flooded.line()}")
        refused = sum(f.non_2xx for f in floods)
        sent = sum(f.requests for f in floods)
        print(f"flood refused (429)  : {refused / max(1, sent):.1%} of {sent} requests")
        print(f"normal p99 under flood / alone (medians): {loud.p99_ms / max(quiet.p99_ms, 0.001):.2f}x "
              "(target <= 2x)")

        time.sleep(1)
        normal_ms, normal_load = server_cost(proc.pid, normal_run(base, full_speed, args.normal, args.seconds / 2))
        flood_ms, flood_load = server_cost(proc.pid, flood_run(base, flood_token, args.flood_connections,
                                                               args.seconds / 2))
        print(f"server CPU per normal request : {normal_ms:.3f} ms ({normal_load.requests} requests at full speed, "
              f"{normal_load.non_2xx} non-2xx)")
        print(f"server CPU per flood request  : {flood_ms:.3f} ms ({flood_load.requests} requests, "
              f"{flood_load.non_2xx} refused)")
        print(f"flood / normal cost          : {flood_ms / max(normal_ms, 1e-9):.3f} (target <= 0.1)")
    finally:
        stop_server(proc)
        for path in (script, full_speed):
            os.unlink(path)


if __name__ == "__main__":
    sys.exit(main())
