"""What a running instance holds: its settings, its database, its file storage and (when configured) Redis."""

from __future__ import annotations

from dataclasses import dataclass, field

from redis.asyncio import Redis

from starling.config import Settings, media_dir
from starling.infra import pubsub
from starling.infra import redis as redis_infra
from starling.infra.db import Database
from starling.infra.storage import LocalStorage


@dataclass
class AppContext:
    settings: Settings
    db: Database
    storage: LocalStorage
    redis: Redis | None = None
    bus: pubsub.Bus | None = None
    extras: dict = field(default_factory=dict)

    @classmethod
    def build(cls, settings: Settings) -> AppContext:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        redis = redis_infra.connect(settings.redis_url)
        bus = pubsub.build(settings, redis)
        db = Database(settings.resolved_database_url, synchronous=settings.sqlite_synchronous,
                      busy_timeout_ms=settings.sqlite_busy_timeout_ms,
                      info={"settings": settings, "redis": redis, "pubsub": bus})
        bus.attach(db)
        storage = LocalStorage(media_dir(settings), settings.base_url)
        return cls(settings=settings, db=db, storage=storage, redis=redis, bus=bus)

    async def close(self) -> None:
        if self.bus is not None:
            await self.bus.close()
        await self.db.dispose()
        if self.redis is not None:
            await self.redis.aclose()
