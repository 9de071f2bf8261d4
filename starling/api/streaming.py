"""Mastodon's streaming API: `GET /api/v1/streaming` (one WebSocket, many streams) and the
server-sent-event paths under `/api/v1/streaming/*`, with `update`, `status.update`, `delete`,
`notification` and `conversation` events. Who hears what is decided in starling.streaming; here the
events become Mastodon entities, rendered with the REST API's own builders for each listener."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import orjson
from fastapi import APIRouter, Request, WebSocket, WebSocketDisconnect
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import PlainTextResponse, StreamingResponse

from starling.api.conversations import conversation_entities
from starling.api.deps import Auth, OptionalAuth, bearer_token, resolve_token
from starling.api.entities.notification import notification_entities
from starling.api.entities.status import status_entities
from starling.api.responses import error_body
from starling.context import AppContext
from starling.conversations import service as conversations
from starling.errors import Forbidden, NotFound, StarlingError, Unauthorized
from starling.notifications import service as notifications
from starling.streaming import service, streams
from starling.streaming.hub import Hub, Listener, Message
from starling.streaming.service import StatusFacts
from starling.streaming.streams import Stream
from starling.timelines import lists

router = APIRouter()

MAX_CLIENT_MESSAGE = 4096  # a subscribe message is a few dozen bytes
MAX_STREAMS = 100  # streams one socket may follow at once
# The server-sent-event paths and the stream each one is.
SSE_PATHS = {
    "user": "user", "user/notification": "user:notification",
    "public": "public", "public/media": "public:media", "public/local": "public:local",
    "public/local/media": "public:local:media", "public/remote": "public:remote",
    "public/remote/media": "public:remote:media",
    "hashtag": "hashtag", "hashtag/local": "hashtag:local", "list": "list", "direct": "direct",
}


class EntityRenderer:
    """Statuses, conversations and notifications as the REST API renders them for each viewer."""

    def __init__(self, ctx: AppContext):
        self.ctx = ctx

    async def statuses(self, session: AsyncSession, facts: StatusFacts,
                       viewers: set[int | None]) -> dict[int | None, str]:
        rendered: dict[int | None, str] = {}
        for group in await service.viewer_groups(session, facts, viewers):
            entities = await status_entities(session, self.ctx, [facts.status], next(iter(group)))
            payload = orjson.dumps(entities[0]).decode()
            rendered.update(dict.fromkeys(group, payload))
        return rendered

    async def conversations(self, session: AsyncSession, facts: StatusFacts, viewers: set[int]) -> dict[int, str]:
        """The Conversation entity each viewer's /api/v1/conversations shows for this status (same id,
        unread state and people); a viewer without one gets no event."""
        views = await conversations.views_holding(session, facts.status.id, viewers)
        rendered = {}
        for viewer_id, view in views.items():
            entity = (await conversation_entities(session, self.ctx, [view], viewer_id))[0]
            rendered[viewer_id] = orjson.dumps(entity).decode()
        return rendered

    async def notification(self, session: AsyncSession, notification_id: int, recipient_id: int) -> str | None:
        try:
            view = await notifications.get_notification(session, recipient_id, notification_id)
        except NotFound:
            return None
        entities = await notification_entities(session, self.ctx, [view], recipient_id)
        return orjson.dumps(entities[0]).decode() if entities else None


def hub_of(ctx: AppContext) -> Hub:
    """This process's hub, made on first use."""
    hub = ctx.extras.get("stream_hub")
    if hub is None:
        hub = ctx.extras["stream_hub"] = Hub(ctx.db, ctx.bus, EntityRenderer(ctx))
    return hub


async def _authenticate(ctx: AppContext, raw: str | None) -> Auth | None:
    if not raw:
        return None
    async with ctx.db.reads() as reader:
        auth = await resolve_token(reader, raw)
    if auth is None:
        raise Unauthorized("Invalid access token")
    return auth


async def _allowed(ctx: AppContext, auth: Auth | None, stream: Stream) -> Stream:
    """`stream` if this client may follow it: personal streams need a user's token, a token needs the
    stream's read scope, and a list must be the user's own."""
    if auth is None:
        if stream.personal:
            raise Unauthorized("Missing access token")
        return stream
    if not auth.has(streams.SCOPES[stream.name]):
        raise Forbidden("This action is outside the authorized scopes")
    if stream.personal and auth.account_id is None:
        raise Unauthorized("This stream requires an authenticated user")
    if stream.name == "list":
        async with ctx.db.read() as session:
            await lists.get_list(session, auth.account_id, int(stream.param))
    return stream


def _viewer(auth: Auth | None) -> int | None:
    return auth.account_id if auth is not None else None


REVOKED = 1008  # WebSocket "policy violation": the token no longer lets this client read


async def _watch_token(ctx: AppContext, raw: str | None, listener: Listener) -> None:
    """Check an open stream's token again now and then; cut the client off once the token is revoked or
    expired, or its account suspended (resolve_token reads all of that)."""
    if not raw:
        return
    while not listener.closed:
        await asyncio.sleep(ctx.settings.streaming_token_check_seconds)
        async with ctx.db.reads() as reader:
            if await resolve_token(reader, raw) is None:
                listener.close(REVOKED)
                return


# --- WebSocket ---------------------------------------------------------------------------------------

def _socket_token(websocket: WebSocket) -> tuple[str | None, bool]:
    """The access token from the Authorization header, the query, or (as browsers must send it) the
    Sec-WebSocket-Protocol header; and whether it came from the last."""
    header = websocket.headers.get("authorization", "")
    if header[:7].lower() == "bearer " and header[7:].strip():
        return header[7:].strip(), False
    if websocket.query_params.get("access_token"):
        return websocket.query_params["access_token"], False
    offered = websocket.headers.get("sec-websocket-protocol", "")
    first = offered.split(",")[0].strip()
    return (first, True) if first else (None, False)


async def _refuse(websocket: WebSocket, exc: StarlingError) -> None:
    """Answer the upgrade request with Mastodon's HTTP error (close with 4000+status where the server
    cannot send an HTTP answer)."""
    if "websocket.http.response" in (websocket.scope.get("extensions") or {}):
        await websocket.send_denial_response(error_body(exc.status, exc.message))
    else:
        await websocket.close(code=4000 + exc.status, reason=exc.message)


def _error_frame(exc: StarlingError) -> str:
    return orjson.dumps({"error": exc.message, "status": exc.status}).decode()


async def _client_messages(websocket: WebSocket, ctx: AppContext, auth: Auth | None, listener: Listener) -> None:
    """Handle `{"type": "subscribe" | "unsubscribe", "stream": ..., "tag": ..., "list": ...}` until the
    client goes away; a bad message gets an error frame and the socket stays open, as on Mastodon."""
    while True:
        text = await websocket.receive_text()
        try:
            if len(text) > MAX_CLIENT_MESSAGE:
                raise StarlingError("Message too large")
            try:
                message = orjson.loads(text)
            except orjson.JSONDecodeError:
                raise StarlingError("Could not parse message") from None
            if not isinstance(message, dict) or message.get("type") not in ("subscribe", "unsubscribe"):
                continue  # Mastodon ignores what it does not understand (e.g. pings)
            list_id = message.get("list")
            stream = streams.parse(_text(message.get("stream")), tag=_text(message.get("tag")),
                                   list_id=str(list_id) if isinstance(list_id, int | str) else None)
            if message["type"] == "unsubscribe":
                listener.streams.discard(stream)
                continue
            if len(listener.streams) >= MAX_STREAMS:
                raise StarlingError(f"At most {MAX_STREAMS} streams per connection")
            listener.streams.add(await _allowed(ctx, auth, stream))
        except StarlingError as exc:
            await websocket.send_text(_error_frame(exc))


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


async def _send_messages(websocket: WebSocket, listener: Listener) -> None:
    while True:
        message: Message | None = await listener.queue.get()
        if message is None:  # cut off: too slow, the token revoked, or the server stopping
            await websocket.close(code=listener.close_code)
            return
        label, event, payload = message
        await websocket.send_text(orjson.dumps({"stream": label, "event": event, "payload": payload}).decode())


@router.websocket("/api/v1/streaming")
@router.websocket("/api/v1/streaming/")  # some clients add the slash
async def websocket_stream(websocket: WebSocket) -> None:
    ctx: AppContext = websocket.app.state.ctx
    raw, from_protocol = _socket_token(websocket)
    query = websocket.query_params
    try:
        auth = await _authenticate(ctx, raw)
        first = None
        if query.get("stream"):
            first = await _allowed(ctx, auth, streams.parse(query["stream"], tag=query.get("tag"),
                                                             list_id=query.get("list")))
    except StarlingError as exc:
        await _refuse(websocket, exc)
        return
    listener = Listener(_viewer(auth), queue_size=ctx.settings.streaming_queue_size)
    if first is not None:
        listener.streams.add(first)
    hub = hub_of(ctx)
    await hub.join(listener)  # before the handshake completes: a client never misses what follows it
    try:
        await websocket.accept(subprotocol=raw if from_protocol else None)
    except Exception:
        hub.leave(listener)
        raise
    tasks = [asyncio.create_task(_client_messages(websocket, ctx, auth, listener)),
             asyncio.create_task(_send_messages(websocket, listener)),
             asyncio.create_task(_watch_token(ctx, raw, listener))]
    try:
        await asyncio.wait(tasks[:2], return_when=asyncio.FIRST_COMPLETED)
    finally:
        hub.leave(listener)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError, Exception):
                await task


# --- server-sent events -------------------------------------------------------------------------------

@router.get("/api/v1/streaming/health", include_in_schema=False)
async def health() -> PlainTextResponse:
    return PlainTextResponse("OK", headers={"Cache-Control": "no-store"})


async def _event_stream(ctx: AppContext, raw: str | None, listener: Listener) -> AsyncIterator[bytes]:
    # Joined here, not before the response starts: a client gone before then never joins at all.
    hub = hub_of(ctx)
    heartbeat = ctx.settings.streaming_heartbeat_seconds
    await hub.join(listener)
    watch = asyncio.create_task(_watch_token(ctx, raw, listener))
    try:
        yield b":)\n\n"
        while True:
            try:
                message = await asyncio.wait_for(listener.queue.get(), timeout=heartbeat)
            except TimeoutError:
                yield b":thump\n\n"
                continue
            if message is None:
                return
            _, event, payload = message
            yield f"event: {event}\ndata: {payload}\n\n".encode()
    finally:
        watch.cancel()
        hub.leave(listener)


@router.get("/api/v1/streaming/{path:path}", include_in_schema=False)
async def sse_stream(path: str, request: Request, auth: OptionalAuth) -> StreamingResponse:
    name = SSE_PATHS.get(path.strip("/"))
    if name is None:
        raise NotFound()
    ctx: AppContext = request.app.state.ctx
    query = request.query_params
    stream = await _allowed(ctx, auth, streams.parse(name, tag=query.get("tag"), list_id=query.get("list")))
    listener = Listener(_viewer(auth), queue_size=ctx.settings.streaming_queue_size, streams={stream})
    return StreamingResponse(_event_stream(ctx, bearer_token(request), listener),
                             media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})
