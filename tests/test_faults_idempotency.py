"""Two server processes receive the same `Idempotency-Key` post at the same moment: exactly one status is
created, and every request is answered with that one status. On PostgreSQL (two `starling serve`
processes on one database) and on the embedded default (two processes on one SQLite file)."""

from __future__ import annotations

import threading
from contextlib import nullcontext

import httpx
import pytest

from tests.faults import PG_URL, throwaway_database
from tests.live import LiveServer, free_port, run_cli, server_env

pytestmark = pytest.mark.slow

KEYS = 12
SENDERS_PER_KEY = 6  # half through each process


def race(servers: list[LiveServer], headers: dict, key: str) -> list[httpx.Response]:
    """SENDERS_PER_KEY threads post the same body with the same key, released together."""
    barrier = threading.Barrier(SENDERS_PER_KEY)
    responses: list[httpx.Response | Exception] = [None] * SENDERS_PER_KEY

    def send(i: int) -> None:
        with httpx.Client(base_url=servers[i % 2].base_url, timeout=30) as http:
            http.get("/health")  # connect before the barrier, so the posts leave together
            barrier.wait()
            try:
                responses[i] = http.post("/api/v1/statuses", headers=headers | {"Idempotency-Key": key},
                                         json={"status": f"only once, please ({key})"})
            except httpx.HTTPError as exc:
                responses[i] = exc

    threads = [threading.Thread(target=send, args=(i,)) for i in range(SENDERS_PER_KEY)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return responses


@pytest.mark.parametrize("backend", ["postgres", "sqlite"])
def test_the_same_idempotency_key_at_once_on_two_processes_makes_one_post(tmp_path, backend):
    if backend == "postgres" and not PG_URL.startswith("postgresql"):
        pytest.skip("STARLING_TEST_DATABASE_URL does not name a PostgreSQL database")
    with (throwaway_database("starling_idem") if backend == "postgres" else nullcontext("")) as url:
        extra = {"STARLING_DATABASE_URL": url}  # "" is the SQLite file, whatever pass the suite runs in
        data = tmp_path / "data"
        env = server_env(data, "idem.test", extra=extra)
        run_cli(["migrate"], env)
        run_cli(["user", "create", "poster", "--email", "poster@idem.test", "--password", "long enough pw"], env)
        servers = [LiveServer(data_dir=data, port=free_port(), domain="idem.test", extra_env=extra) for _ in range(2)]
        try:
            for server in servers:
                server.start()
            app = httpx.post(servers[0].url("/api/v1/apps"), json={
                "client_name": "idem", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob", "scopes": "read write"}).json()
            token = httpx.post(servers[1].url("/oauth/token"), data={
                "grant_type": "password", "client_id": app["client_id"], "client_secret": app["client_secret"],
                "username": "poster", "password": "long enough pw", "scope": "read write"}).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}

            for n in range(KEYS):
                responses = race(servers, headers, f"key-{n}")
                problems = [r for r in responses if not isinstance(r, httpx.Response) or r.status_code != 200]
                assert not problems, [getattr(r, "text", r) for r in problems]
                status_ids = {r.json()["id"] for r in responses}
                assert len(status_ids) == 1, f"key-{n} made {len(status_ids)} posts: {status_ids}"

            me = httpx.get(servers[0].url("/api/v1/accounts/verify_credentials"), headers=headers).json()
            statuses = httpx.get(servers[1].url(f"/api/v1/accounts/{me['id']}/statuses?limit=40"),
                                 headers=headers).json()
            assert len(statuses) == KEYS, f"{len(statuses)} statuses for {KEYS} keys"
            assert me["statuses_count"] == KEYS
        finally:
            for server in servers:
                server.stop()
