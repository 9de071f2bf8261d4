"""Background work on media: removing the files of attachments whose rows are gone."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from starling.config import media_dir
from starling.infra import jobs
from starling.infra.storage import LocalStorage
from starling.media.service import FILES_DELETED


@jobs.handler(FILES_DELETED)
async def files_deleted(session: AsyncSession, payload: dict[str, Any]) -> None:
    """Delete stored files (idempotent: a file already gone is skipped). Runs only after the transaction
    that deleted their rows committed, so a rollback never leaves rows pointing at missing files."""
    settings = session.info["settings"]
    storage = LocalStorage(media_dir(settings), settings.base_url)
    keys = [key for key in payload.get("keys", ()) if isinstance(key, str)]
    await asyncio.to_thread(lambda: [storage.delete(key) for key in keys])
