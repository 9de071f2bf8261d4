"""PostgreSQL goes away under a running server: requests fail fast with 503 and a Mastodon-shaped body
(nothing hangs, not even many requests at once), and when PostgreSQL comes back the same server process
answers again by itself, background jobs included.

A throwaway cluster of our own (initdb in a temporary directory, reached only through a Unix socket there)
is stopped with `pg_ctl stop -m immediate`, the way a crash looks to its clients; the shared server is
never touched."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import httpx
import pytest

from tests.faults import pg_cluster, requires_pg_binaries, wait_for
from tests.live import LiveServer, free_port

pytestmark = [pytest.mark.slow, requires_pg_binaries]

# Generous bounds on "did not hang": the server is configured to give up on PostgreSQL after a few seconds.
ANSWER_BOUND = 20.0
TIMEOUTS = {"STARLING_DB_CONNECT_TIMEOUT": "2", "STARLING_DB_POOL_TIMEOUT": "2", "STARLING_DB_COMMAND_TIMEOUT": "4",
            "STARLING_DB_RETRY_AFTER": "3"}
# PostgreSQL alone: with Redis, some reads might (one day) be served from its caches during an outage.
NO_REDIS = {"STARLING_REDIS_URL": ""}


def login(server: LiveServer) -> dict[str, str]:
    """A bearer token for the admin, through the API (an app, then the password grant)."""
    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        app = http.post("/api/v1/apps", json={"client_name": "outage", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob",
                                              "scopes": "read write"}).json()
        token = http.post("/oauth/token", data={
            "grant_type": "password", "client_id": app["client_id"], "client_secret": app["client_secret"],
            "username": "admin", "password": server.admin_password, "scope": "read write"})
        assert token.status_code == 200, token.text
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


@contextmanager
def serving_on(cluster, tmp_path) -> Iterator[tuple[LiveServer, dict[str, str]]]:
    """A live server on `cluster` (no Redis, short timeouts) and the admin's bearer headers."""
    port = free_port()
    server = LiveServer(data_dir=tmp_path / "data", port=port, domain=f"127.0.0.1:{port}",
                        extra_env={"STARLING_DATABASE_URL": cluster.url, **NO_REDIS, **TIMEOUTS})
    server.start()
    try:
        yield server, login(server)
    finally:
        server.stop()


REQUESTS = [
    ("GET", "/api/v1/timelines/home", True),
    ("GET", "/api/v1/timelines/public", False),
    ("GET", "/api/v1/accounts/verify_credentials", True),
    ("GET", "/api/v1/notifications", True),
    ("POST", "/api/v1/statuses", True),
]


def call(server: LiveServer, headers: dict, method: str, path: str, auth: bool) -> tuple[httpx.Response, float]:
    began = time.monotonic()
    with httpx.Client(base_url=server.base_url, timeout=ANSWER_BOUND) as http:
        response = http.request(method, path, headers=headers if auth else {},
                                json={"status": "during the outage"} if method == "POST" else None)
    return response, time.monotonic() - began


def assert_unavailable(response: httpx.Response, path: str) -> None:
    assert response.status_code == 503, (path, response.status_code, response.text)
    if path != "/health":
        assert response.json() == {"error": "The database is unavailable; try again shortly"}, path
        assert response.headers["Retry-After"] == "3", path


def test_requests_fail_fast_while_postgres_is_down_and_recover_without_a_restart(tmp_path):
    with pg_cluster() as cluster, serving_on(cluster, tmp_path) as (server, headers):
        for method, path, auth in REQUESTS:
            assert call(server, headers, method, path, auth)[0].status_code == 200, path
        pid = server.process.pid

        cluster.stop("immediate")
        took: list[float] = []
        for method, path, auth in REQUESTS + [("GET", "/health", False)]:
            response, seconds = call(server, headers, method, path, auth)
            assert_unavailable(response, path)
            took.append(seconds)
        one_by_one = max(took)
        # Many at once: no request waits forever for a pooled connection that will never come.
        with ThreadPoolExecutor(max_workers=24) as pool:
            results = list(pool.map(lambda i: call(server, headers, *REQUESTS[i % len(REQUESTS)]), range(48)))
        for (response, seconds), i in zip(results, range(48), strict=True):
            assert_unavailable(response, REQUESTS[i % len(REQUESTS)][1])
            took.append(seconds)

        cluster.start()
        back = time.monotonic()
        wait_for(lambda: call(server, headers, "GET", "/api/v1/timelines/home", True)[0].status_code == 200,
                 timeout=60, interval=0.5, what="the server to answer again after PostgreSQL came back")
        recovered = time.monotonic() - back
        assert server.process.pid == pid and server.process.poll() is None, "the server was restarted"
        posted = call(server, headers, "POST", "/api/v1/statuses", True)[0]
        assert posted.status_code == 200, posted.text
        status_id = posted.json()["id"]
        # The embedded worker came back too: the post's fan-out job puts it into the author's home.
        wait_for(lambda: status_id in [s["id"] for s in
                                       call(server, headers, "GET", "/api/v1/timelines/home", True)[0].json()],
                 timeout=60, interval=0.5, what="the fan-out job to run after the outage")
        assert "Traceback" not in server.log_text(), server.log_text()[-3000:]
        print(f"PostgreSQL down: one at a time 503 in {1000 * one_by_one:.0f} ms at most, 48 at once in "
              f"{1000 * max(took):.0f} ms at most; "
              f"answering again {recovered:.1f} s after PostgreSQL started")


def test_a_frozen_postgres_times_out_instead_of_hanging(tmp_path):
    """PostgreSQL that accepts nothing and answers nothing (its processes stopped with SIGSTOP, as a network
    partition looks): statements and connections time out and requests get 503, then all is well again."""
    with pg_cluster() as cluster, serving_on(cluster, tmp_path) as (server, headers):
        assert call(server, headers, "GET", "/api/v1/timelines/home", True)[0].status_code == 200
        pids = freeze(cluster)
        try:
            with ThreadPoolExecutor(max_workers=8) as pool:
                results = list(pool.map(lambda i: call(server, headers, *REQUESTS[i % len(REQUESTS)]), range(8)))
            for (response, took), i in zip(results, range(8), strict=True):
                assert_unavailable(response, REQUESTS[i % len(REQUESTS)][1])
                assert took < ANSWER_BOUND
            print(f"PostgreSQL frozen: 8 requests answered 503 in {max(t for _r, t in results):.1f} s at most")
        finally:
            for pid in pids:
                os.kill(pid, signal.SIGCONT)
        wait_for(lambda: call(server, headers, "GET", "/api/v1/timelines/home", True)[0].status_code == 200,
                 timeout=60, interval=0.5, what="the server to answer again after PostgreSQL thawed")


def freeze(cluster) -> list[int]:
    """SIGSTOP the postmaster of our throwaway cluster (so it forks nothing more), then every process it
    has started (read from /proc, by parent pid), the backends of the server's pooled connections too."""
    postmaster = int((cluster.data / "postmaster.pid").read_text().split()[0])
    os.kill(postmaster, signal.SIGSTOP)
    pids = [postmaster]
    try:
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    stat = open(f"/proc/{entry}/stat").read()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == postmaster:
                    os.kill(int(entry), signal.SIGSTOP)
                    pids.append(int(entry))
    except BaseException:
        for pid in pids:  # never leave a half-frozen cluster behind
            os.kill(pid, signal.SIGCONT)
        raise
    return pids
