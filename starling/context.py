"""What a running instance holds: its settings, its database and its file storage."""

from __future__ import annotations

from dataclasses import dataclass, field

from starling.config import Settings, media_dir
from starling.infra.db import Database
from starling.infra.storage import LocalStorage


@dataclass
class AppContext:
    settings: Settings
    db: Database
    storage: LocalStorage
    extras: dict = field(default_factory=dict)

    @classmethod
    def build(cls, settings: Settings) -> AppContext:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        db = Database(settings.resolved_database_url, synchronous=settings.sqlite_synchronous,
                      busy_timeout_ms=settings.sqlite_busy_timeout_ms, info={"settings": settings})
        storage = LocalStorage(media_dir(settings), settings.base_url)
        return cls(settings=settings, db=db, storage=storage)
