"""The streaming API against real `starling serve` processes, with real clients: a WebSocket client
(`websockets`), server-sent events read with httpx, and Mastodon.py's own streaming client.

Events cross processes: a status posted through process A's REST API reaches a socket held by process B,
on the embedded default (two processes on one SQLite file, no Redis) and with Redis pub/sub. Absence is
shown by order (a later status arrives first), never by waiting; receive timeouts are generous.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import queue
import threading
from pathlib import Path

import httpx
import pytest
import websockets
from websockets.exceptions import InvalidStatus

from starling.context import AppContext
from starling.migrate import upgrade
from tests.live import SECRET_KEY, LiveServer, free_port, live_server
from tests.postgres import own_redis_prefix, settings_for

pytestmark = pytest.mark.slow

RECEIVE_TIMEOUT = 30.0
REDIS_URL = os.environ.get("STARLING_TEST_REDIS_URL", "")


def seed(data_dir: Path, domain: str) -> dict[str, tuple[int, str]]:
    """alice, bob, eve and a write-only token for bob; bob follows alice. Written through the services."""
    from starling import ids
    from starling.accounts import service as accounts
    from starling.graph.models import Follow

    data_dir.mkdir(parents=True, exist_ok=True)
    settings = settings_for(data_dir, domain=domain, secret_key=SECRET_KEY)  # the pass's backend
    upgrade(settings.resolved_database_url)

    async def run():
        ctx = AppContext.build(settings)
        out = {}
        async with ctx.db.write() as session:
            for name in ("alice", "bob", "eve"):
                account = await accounts.create_account(session, settings, username=name,
                                                        email=f"{name}@test.invalid", password="long enough pw")
                out[name] = (account.id, await accounts.issue_token(session, account_id=account.id,
                                                                    scopes="read write follow"))
            out["bob-write-only"] = (out["bob"][0], await accounts.issue_token(
                session, account_id=out["bob"][0], scopes="write"))
            session.add(Follow(id=ids.new_id(), account_id=out["bob"][0], target_account_id=out["alice"][0]))
        await ctx.close()
        return out

    return asyncio.run(run())


def ws_url(server: LiveServer, query: str) -> str:
    return f"ws://127.0.0.1:{server.port}/api/v1/streaming?{query}"


async def post(server: LiveServer, token: str, text: str, **fields) -> dict:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        r = await http.post("/api/v1/statuses", data={"status": text, **fields},
                            headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    return r.json()


async def next_message(ws) -> tuple[list[str], str, object]:
    """The next WebSocket message as (stream, event, payload decoded from its JSON string)."""
    message = json.loads(await asyncio.wait_for(ws.recv(), RECEIVE_TIMEOUT))
    payload = message["payload"]
    return message["stream"], message["event"], json.loads(payload) if payload.startswith("{") else payload


@pytest.fixture
def two_servers(tmp_path):
    """Two `starling serve` processes on one data dir (one SQLite file), started one after the other."""
    servers = []

    def start(extra_env: dict[str, str] | None = None) -> tuple[LiveServer, LiveServer, dict]:
        port_a, port_b = free_port(), free_port()
        domain = f"127.0.0.1:{port_a}"
        cast = seed(tmp_path / "data", domain)
        for port in (port_a, port_b):
            server = LiveServer(data_dir=tmp_path / "data", port=port, domain=domain, extra_env=dict(extra_env or {}))
            servers.append(server)
            server.start()
        return servers[0], servers[1], cast

    yield start
    for server in servers:
        server.stop()


async def _post_on_a_receive_on_b(a: LiveServer, b: LiveServer, cast: dict) -> None:
    alice, bob = cast["alice"][1], cast["bob"][1]
    async with websockets.connect(ws_url(b, f"stream=user&access_token={bob}")) as home, \
            websockets.connect(ws_url(b, "stream=public")) as public:
        status = await post(a, alice, "from process A #crossing")
        stream, event, entity = await next_message(home)
        assert (stream, event, entity["id"]) == (["user"], "update", status["id"])
        assert entity["account"]["username"] == "alice" and entity["favourited"] is False
        stream, event, entity = await next_message(public)
        assert (stream, event, entity["id"]) == (["public"], "update", status["id"])

        async with httpx.AsyncClient(base_url=a.base_url, timeout=30) as http:
            r = await http.delete(f"/api/v1/statuses/{status['id']}", headers={"Authorization": f"Bearer {alice}"})
            assert r.status_code == 200
        assert await next_message(home) == (["user"], "delete", status["id"])
        assert await next_message(public) == (["public"], "delete", status["id"])


def test_post_on_one_process_reaches_a_socket_on_another_over_sqlite(two_servers):
    a, b, cast = two_servers()
    asyncio.run(_post_on_a_receive_on_b(a, b, cast))


@pytest.mark.skipif(not REDIS_URL, reason="STARLING_TEST_REDIS_URL is not set (CI sets it)")
def test_post_on_one_process_reaches_a_socket_on_another_over_redis(two_servers):
    prefix = own_redis_prefix()
    a, b, cast = two_servers({"STARLING_REDIS_URL": REDIS_URL, "STARLING_REDIS_PREFIX": prefix})
    asyncio.run(_post_on_a_receive_on_b(a, b, cast))


@pytest.fixture
def server(tmp_path):
    port = free_port()
    cast = seed(tmp_path / "data", f"127.0.0.1:{port}")
    with live_server(tmp_path, port=port) as running:
        running.cast = cast
        yield running


def test_websocket_subscribe_messages_and_authorisation(server):
    cast = server.cast
    alice, bob, eve = cast["alice"][1], cast["bob"][1], cast["eve"][1]

    async def run():
        async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
            r = await http.post(f"/api/v1/accounts/{cast['alice'][0]}/block",
                                headers={"Authorization": f"Bearer {eve}"})
            assert r.status_code == 200
        # The token as a subprotocol, as browsers must send it; the server answers with the same one.
        async with websockets.connect(ws_url(server, ""), subprotocols=[bob]) as ws, \
                websockets.connect(ws_url(server, f"access_token={eve}")) as blocked:
            assert ws.subprotocol == bob
            for socket in (ws, blocked):
                await socket.send(json.dumps({"type": "subscribe", "stream": "hashtag", "tag": "Birds"}))
                await socket.send(json.dumps({"type": "subscribe", "stream": "user"}))
                # Messages are handled in order: the answer to a bad one shows the two above took effect.
                await socket.send(json.dumps({"type": "subscribe", "stream": "nonsense"}))
                assert json.loads(await asyncio.wait_for(socket.recv(), RECEIVE_TIMEOUT)) == {
                    "error": "Unknown stream type", "status": 400}
            private = await post(server, alice, "followers only #birds", visibility="private")
            public = await post(server, alice, "everyone #birds")
            got = {}
            for _ in range(3):  # bob: the private status on home; the public one on home and on #birds
                stream, event, entity = await next_message(ws)
                got.setdefault(entity["id"], set()).add(tuple(stream))
            assert got == {private["id"]: {("user",)}, public["id"]: {("user",), ("hashtag", "birds")}}
            # eve blocks alice: neither post reaches her; her own is the first thing she hears.
            own = await post(server, eve, "eve here #birds")
            assert (await next_message(blocked))[2]["id"] == own["id"]
            stream, _, entity = await next_message(ws)
            assert (stream, entity["id"]) == (["hashtag", "birds"], own["id"])

            await ws.send(json.dumps({"type": "unsubscribe", "stream": "hashtag", "tag": "birds"}))
            await ws.send(json.dumps({"type": "subscribe", "stream": "nonsense"}))
            await asyncio.wait_for(ws.recv(), RECEIVE_TIMEOUT)
            later = await post(server, alice, "again #birds")
            assert await next_message(ws) == (["user"], "update", (await _status(server, later["id"], bob)))

    asyncio.run(run())


async def _status(server: LiveServer, status_id: str, token: str) -> dict:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        return (await http.get(f"/api/v1/statuses/{status_id}", headers={"Authorization": f"Bearer {token}"})).json()


def test_websocket_refuses_bad_or_missing_tokens(server):
    bob_write_only = server.cast["bob-write-only"][1]

    async def refused(url: str, **kwargs) -> int:
        with pytest.raises(InvalidStatus) as caught:
            async with websockets.connect(url, **kwargs):
                pass
        return caught.value.response.status_code

    async def run():
        assert await refused(ws_url(server, "stream=user")) == 401
        assert await refused(ws_url(server, "stream=public&access_token=not-a-token")) == 401
        assert await refused(ws_url(server, "stream=user"), additional_headers={"Authorization": "Bearer nope"}) == 401
        assert await refused(ws_url(server, f"stream=user&access_token={bob_write_only}")) == 403
        assert await refused(ws_url(server, "stream=hashtag")) == 400
        assert await refused(ws_url(server, "stream=list&list=1&access_token=" + server.cast["bob"][1])) == 404
        async with httpx.AsyncClient(base_url=server.base_url) as http:
            advertised = (await http.get("/api/v1/instance")).json()["urls"]["streaming_api"]
            assert (await http.get("/api/v2/instance")).json()["configuration"]["urls"]["streaming"] == advertised
        # The address the instance advertises is this server's, and anyone may follow public streams there.
        async with websockets.connect(f"{advertised}/api/v1/streaming/") as ws:
            await ws.send(json.dumps({"type": "subscribe", "stream": "direct"}))
            assert json.loads(await asyncio.wait_for(ws.recv(), RECEIVE_TIMEOUT)) == {
                "error": "Missing access token", "status": 401}

    asyncio.run(run())


def test_server_sent_events(server):
    alice, bob = server.cast["alice"][1], server.cast["bob"][1]
    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        assert http.get("/api/v1/streaming/health").text == "OK"
        r = http.get("/api/v1/streaming/user")
        assert r.status_code == 401 and r.json() == {"error": "Missing access token"}
        assert http.get("/api/v1/streaming/direct").status_code == 401
        assert http.get("/api/v1/streaming/nowhere").status_code == 404

    async def run():
        async with httpx.AsyncClient(base_url=server.base_url, timeout=httpx.Timeout(RECEIVE_TIMEOUT)) as http, \
                http.stream("GET", "/api/v1/streaming/user", headers={"Authorization": f"Bearer {bob}"}) as home, \
                http.stream("GET", "/api/v1/streaming/hashtag/local?tag=frogs") as tagged:
            assert home.status_code == 200 and home.headers["content-type"].startswith("text/event-stream")
            home_lines, tag_lines = home.aiter_lines(), tagged.aiter_lines()
            assert await anext(home_lines) == ":)"  # sent once the stream is live
            assert await anext(tag_lines) == ":)"
            status = await post(server, alice, "ribbit #frogs")
            for lines in (home_lines, tag_lines):
                event = await _sse_event(lines)
                assert event[0] == "update" and json.loads(event[1])["id"] == status["id"]

    asyncio.run(run())


async def _sse_event(lines) -> tuple[str, str]:
    """The next (event, data) pair, skipping comments and blank lines."""
    event = None
    while True:
        line = await asyncio.wait_for(anext(lines), RECEIVE_TIMEOUT)
        if line.startswith("event: "):
            event = line[7:]
        elif line.startswith("data: ") and event is not None:
            return event, line[6:]


def test_mastodon_py_stream_user(server):
    from mastodon import Mastodon, StreamListener

    alice_id, bob = server.cast["alice"][0], server.cast["bob"][1]
    heard: queue.Queue = queue.Queue()
    connected = threading.Event()

    class Listener(StreamListener):
        def handle_heartbeat(self):
            connected.set()

        def on_update(self, status):
            heard.put(("update", status))

        def on_notification(self, notification):
            heard.put(("notification", notification))

    client = Mastodon(access_token=bob, api_base_url=server.base_url)
    assert client.stream_healthy()
    handle = client.stream_user(Listener(), run_async=True)
    try:
        assert connected.wait(RECEIVE_TIMEOUT)
        alice = Mastodon(access_token=server.cast["alice"][1], api_base_url=server.base_url)
        status = alice.status_post("hello @bob")
        kinds = {}
        for _ in range(2):  # the status on bob's home, and the mention's notification
            kind, item = heard.get(timeout=RECEIVE_TIMEOUT)
            kinds[kind] = item
        # (Mastodon.py turns IDs into its own types: compare them as text.)
        assert str(kinds["update"]["id"]) == str(status["id"])
        assert str(kinds["update"]["account"]["id"]) == str(alice_id)
        assert kinds["notification"]["type"] == "mention"
        assert str(kinds["notification"]["status"]["id"]) == str(status["id"])
    finally:
        handle.close()


def test_revoking_a_token_ends_its_streams(tmp_path):
    port = free_port()
    seed(tmp_path / "data", f"127.0.0.1:{port}")
    with live_server(tmp_path, port=port, extra_env={"STARLING_STREAMING_TOKEN_CHECK_SECONDS": "0.5"}) as server:
        async def run():
            async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
                app = (await http.post("/api/v1/apps", data={
                    "client_name": "streamer", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob", "scopes": "read"})).json()
                client = {"client_id": app["client_id"], "client_secret": app["client_secret"]}
                r = await http.post("/oauth/token", data={**client, "grant_type": "password", "username": "alice",
                                                          "password": "long enough pw", "scope": "read"})
                token = r.json()["access_token"]
                async with websockets.connect(ws_url(server, f"stream=user&access_token={token}")) as ws, \
                        http.stream("GET", "/api/v1/streaming/user",
                                    headers={"Authorization": f"Bearer {token}"}) as events:
                    lines = events.aiter_lines()
                    assert await anext(lines) == ":)"
                    r = await http.post("/oauth/revoke", data={**client, "token": token})
                    assert r.status_code == 200
                    with pytest.raises(websockets.ConnectionClosed) as closed:
                        await asyncio.wait_for(ws.recv(), RECEIVE_TIMEOUT)
                    assert closed.value.rcvd.code == 1008
                    rest = [line async for line in lines if line]  # the event stream ends
                    assert all(line.startswith(":") for line in rest)

        asyncio.run(run())


def test_every_process_of_serve_workers_delivers(tmp_path):
    """`serve --workers 2`: the kernel hands each connection to either process; all of them hear a post
    made through whichever process takes the request."""
    port = free_port()
    cast = seed(tmp_path / "data", f"127.0.0.1:{port}")
    with live_server(tmp_path, port=port, workers=2) as server:
        async def run():
            async with contextlib.AsyncExitStack() as stack:
                sockets = [await stack.enter_async_context(websockets.connect(ws_url(server, "stream=public:local")))
                           for _ in range(6)]
                status = await post(server, cast["alice"][1], "to every process")
                for ws in sockets:
                    assert (await next_message(ws))[2]["id"] == status["id"]

        asyncio.run(run())
