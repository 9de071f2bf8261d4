"""One process's listeners (WebSocket and server-sent-event connections) and the routing of bus events
to them. The hub decides who hears what and whether they may (streaming.service); a renderer given by
the API face turns a status or notification into each listener's JSON, once per group of listeners that
would see the same JSON."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from starling.infra.db import Database
from starling.infra.pubsub import Bus
from starling.posts.models import DIRECT, PUBLIC
from starling.streaming import events, service
from starling.streaming.service import StatusFacts
from starling.streaming.streams import ANONYMOUS, Stream

log = logging.getLogger("starling.streaming")

Message = tuple[list[str], str, str]  # (stream label, event name, payload as a JSON string or an id)


class Renderer(Protocol):
    async def statuses(self, session: AsyncSession, facts: StatusFacts,
                       viewers: set[int | None]) -> dict[int | None, str]: ...

    async def conversations(self, session: AsyncSession, facts: StatusFacts,
                            viewers: set[int]) -> dict[int, str]: ...

    async def notification(self, session: AsyncSession, notification_id: int, recipient_id: int) -> str | None: ...


@dataclass(eq=False)
class Listener:
    """One client connection: who it is (None: logged out) and the streams it follows. Messages wait in
    a bounded queue; a client too slow to keep up is cut off (None is queued) rather than buffered."""

    viewer_id: int | None
    queue_size: int = 1000
    streams: set[Stream] = field(default_factory=set)
    queue: asyncio.Queue = field(init=False)
    closed: bool = False

    def __post_init__(self) -> None:
        self.queue = asyncio.Queue(self.queue_size + 1)

    close_code: int = 1013  # WebSocket "try again later": too slow, or the server is stopping

    def put(self, message: Message) -> None:
        if self.closed:
            return
        if self.queue.qsize() >= self.queue_size:
            self.close()
            return
        self.queue.put_nowait(message)

    def close(self, code: int = 1013) -> None:
        if not self.closed:
            self.closed = True
            self.close_code = code
            self.queue.put_nowait(None)


class Hub:
    """The listeners of one process; hears the bus only while it has any."""

    def __init__(self, db: Database, bus: Bus, renderer: Renderer):
        self.db = db
        self.bus = bus
        self.renderer = renderer
        self.listeners: set[Listener] = set()

    async def join(self, listener: Listener) -> None:
        """Add a listener; returns once the bus delivers everything published from now on."""
        if not self.listeners:
            self.bus.listen(self.on_events)
        self.listeners.add(listener)
        await self.bus.ready()

    def leave(self, listener: Listener) -> None:
        if listener not in self.listeners:
            return
        self.listeners.discard(listener)
        listener.closed = True
        if not self.listeners:
            self.bus.unlisten(self.on_events)

    async def on_events(self, batch: list[dict[str, Any]]) -> None:
        if not self.listeners:
            return
        async with self.db.read() as session:
            for item in batch:
                try:
                    if item["kind"] == events.STATUS:
                        await self._status(session, item)
                    elif item["kind"] == events.NOTIFICATION:
                        await self._notifications(session, item)
                    elif item["kind"] == events.DELETE:
                        await self._delete(session, item)
                except Exception:
                    log.exception("could not deliver stream event %s", item)

    def _following(self, name: str) -> list[tuple[Listener, Stream]]:
        return [(listener, s) for listener in self.listeners for s in listener.streams if s.name == name]

    async def _status(self, session: AsyncSession, item: dict[str, Any]) -> None:
        facts = await service.status_facts(session, item["id"])
        if facts is None:
            return
        on_public = service.public_streams(facts)
        chosen = [(listener, s) for listener in self.listeners for s in listener.streams if s in on_public]
        home = self._following("user")
        if home:
            audience = await service.home_audience(session, facts, {lsn.viewer_id for lsn, _ in home})
            chosen += [(lsn, s) for lsn, s in home if lsn.viewer_id in audience]
        lists = self._following("list")
        if lists:
            shown = await service.list_audience(session, facts, {int(s.param) for _, s in lists})
            chosen += [(lsn, s) for lsn, s in lists if int(s.param) in shown]
        direct = []
        if facts.status.visibility == DIRECT and facts.original is None:
            involved = {facts.status.account_id} | facts.mentioned.get(facts.status.id, set())
            direct = [(lsn, s) for lsn, s in self._following("direct") if lsn.viewer_id in involved]
        if not chosen and not direct:
            return
        allowed = await service.visible_to(session, facts, {lsn.viewer_id for lsn, _ in chosen + direct})
        chosen = [(lsn, s) for lsn, s in chosen if lsn.viewer_id in allowed]
        direct = [(lsn, s) for lsn, s in direct if lsn.viewer_id in allowed]
        name = "status.update" if item.get("edited") else "update"
        if chosen:
            payloads = await self.renderer.statuses(session, facts, {lsn.viewer_id for lsn, _ in chosen})
            for listener, stream in chosen:
                listener.put((stream.label, name, payloads[listener.viewer_id]))
        if direct:
            payloads = await self.renderer.conversations(session, facts, {lsn.viewer_id for lsn, _ in direct})
            for listener, stream in direct:
                if listener.viewer_id in payloads:  # no conversation for them (a block): no event
                    listener.put((stream.label, "conversation", payloads[listener.viewer_id]))

    async def _notifications(self, session: AsyncSession, item: dict[str, Any]) -> None:
        wanted: dict[int, list[tuple[Listener, Stream]]] = defaultdict(list)
        for listener in self.listeners:
            for s in listener.streams:
                if s.name in ("user", "user:notification") and listener.viewer_id is not None:
                    wanted[listener.viewer_id].append((listener, s))
        for notification_id, recipient_id in item["items"]:
            if recipient_id not in wanted:
                continue
            payload = await self.renderer.notification(session, notification_id, recipient_id)
            if payload is None:
                continue
            for listener, stream in wanted[recipient_id]:
                listener.put((stream.label, "notification", payload))

    async def _delete(self, session: AsyncSession, item: dict[str, Any]) -> None:
        chosen: list[tuple[Listener, Stream]] = []
        if item["visibility"] == PUBLIC:
            public = [(lsn, s) for lsn in self.listeners for s in lsn.streams if s.name in ANONYMOUS]
            blocked = await service.blocked_with(session, {lsn.viewer_id for lsn, _ in public}, item["author"])
            chosen += [(lsn, s) for lsn, s in public if lsn.viewer_id not in blocked]
        personal = [(lsn, s) for lsn in self.listeners for s in lsn.streams
                    if s.name in ("user", "list", "direct") and lsn.viewer_id is not None]
        if personal:
            reached = await service.delete_audience(session, author_id=item["author"], audience=item["audience"],
                                                    candidates={lsn.viewer_id for lsn, _ in personal})
            chosen += [(lsn, s) for lsn, s in personal if lsn.viewer_id in reached
                       and (s.name != "direct" or item["visibility"] == DIRECT)]
        for listener, stream in chosen:
            for status_id in item["ids"]:
                listener.put((stream.label, "delete", str(status_id)))
