"""Media: decode, strip, resize, preview and blurhash uploaded images; attach them to statuses."""

from __future__ import annotations

import asyncio
import math
import secrets
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from starling import ids
from starling.context import AppContext
from starling.errors import NotFound, TooLarge, Unprocessable
from starling.infra import cache, jobs
from starling.infra.storage import LocalStorage
from starling.media import processing, repository
from starling.media.models import MediaAttachment

MAX_DESCRIPTION = 1500
PROFILE_KINDS = ("avatar", "header")
FILES_DELETED = "media.files_deleted"


def parse_focus(raw: str | None) -> tuple[float, float] | None:
    """Mastodon's focal point "x,y", each in [-1, 1]; None when not given. Raises Unprocessable."""
    if raw is None or raw == "":
        return None
    try:
        x_text, y_text = str(raw).split(",")
        x, y = float(x_text), float(y_text)
    except ValueError:
        raise Unprocessable("Validation failed: focus must be two numbers, \"x,y\"") from None
    if not (math.isfinite(x) and math.isfinite(y) and -1 <= x <= 1 and -1 <= y <= 1):
        raise Unprocessable("Validation failed: focus coordinates must be between -1.0 and 1.0")
    return round(x, 2), round(y, 2)


def _check_description(description: str | None) -> None:
    if description is not None and len(description) > MAX_DESCRIPTION:
        raise Unprocessable("Validation failed: Description is too long "
                            f"(maximum is {MAX_DESCRIPTION} characters)")


def _check_size(ctx: AppContext, data: bytes) -> None:
    if len(data) > ctx.settings.media_max_bytes:
        raise TooLarge(f"File is larger than {ctx.settings.media_max_bytes} bytes")
    if not data:
        raise Unprocessable("Validation failed: File can't be blank")


def _store(storage: LocalStorage, files: dict[str, bytes]) -> None:
    for key, data in files.items():
        storage.put(key, data)


async def create_attachment(ctx: AppContext, account_id: int, data: bytes, *, description: str | None = None,
                            focus: tuple[float, float] | None = None) -> MediaAttachment:
    """Process an upload (in a thread, before any transaction opens), store its files, then record it
    in its own short write transaction."""
    _check_description(description)
    _check_size(ctx, data)
    settings = ctx.settings
    image = await asyncio.to_thread(processing.process_upload, data,
                                    max_pixels=settings.media_max_pixels, max_side=settings.media_max_side,
                                    preview_side=settings.media_preview_side)
    media_id = ids.new_id()
    # A random path segment keeps attachments of private posts from being found by guessing IDs.
    folder = f"media/{media_id}/{secrets.token_hex(8)}"
    file_key = f"{folder}/original.{image.original.ext}"
    preview_key = f"{folder}/small.{image.preview.ext}"
    files = {file_key: image.original.data, preview_key: image.preview.data}
    await asyncio.to_thread(_store, ctx.storage, files)
    x, y = focus or (0.0, 0.0)
    media = MediaAttachment(
        id=media_id, account_id=account_id, status_id=None, position=0, type="image",
        content_type=image.original.content_type, file_key=file_key, preview_key=preview_key,
        size=len(image.original.data), width=image.original.width, height=image.original.height,
        preview_width=image.preview.width, preview_height=image.preview.height, blurhash=image.blurhash,
        description=description or "", focus_x=x, focus_y=y)
    async with ctx.db.write() as session:
        session.add(media)
    return media


async def own_attachment(session: AsyncSession, account_id: int, media_id: int) -> MediaAttachment:
    """An attachment `account_id` uploaded; anyone else's is NotFound."""
    media = await repository.by_id(session, media_id)
    if media is None or media.account_id != account_id:
        raise NotFound()
    return media


async def update_attachment(session: AsyncSession, account_id: int, media_id: int, *,
                            description: str | None = None,
                            focus: tuple[float, float] | None = None) -> MediaAttachment:
    """Change the description or focal point of one's own attachment (allowed after attaching too)."""
    _check_description(description)
    media = await own_attachment(session, account_id, media_id)
    if description is not None:
        media.description = description
    if focus is not None:
        media.focus_x, media.focus_y = focus
    if media.status_id is not None:
        cache.forget_statuses(session, media.status_id)
    await session.flush()
    return media


async def delete_attachment(ctx: AppContext, session: AsyncSession, account_id: int, media_id: int) -> None:
    """Delete one's own attachment that no status uses, files included."""
    media = await own_attachment(session, account_id, media_id)
    if media.status_id is not None:
        raise Unprocessable("Validation failed: Media attachment is in use by a post")
    keys = [media.file_key, media.preview_key]
    await session.delete(media)
    await session.flush()
    for key in keys:
        ctx.storage.delete(key)


async def discard_of_status(session: AsyncSession, status_id: int) -> int:
    """Delete a status's attachments with it (`delete_media`): the rows go in this transaction, so they
    can never be attached again; their files go once it commits, through the `media.files_deleted` job
    (a rolled-back delete must not have lost its files). Returns how many were deleted."""
    keys = await repository.delete_of_status(session, status_id)
    if keys:
        jobs.enqueue(session, FILES_DELETED, {"keys": [key for pair in keys for key in pair]})
    return len(keys)


async def attach(session: AsyncSession, account_id: int, media_ids: Sequence[int],
                 status_id: int) -> list[MediaAttachment]:
    """Make `media_ids` (in this order) exactly the attachments of `status_id`. Each must belong to
    `account_id` and be unattached or already on this status; others on the status are released."""
    wanted = list(dict.fromkeys(media_ids))
    found = await repository.by_ids(session, wanted)
    for media_id in wanted:
        media = found.get(media_id)
        if media is None or media.account_id != account_id or media.status_id not in (None, status_id):
            raise Unprocessable("Validation failed: Media attachments could not be found or are already "
                                "attached to another post")
    await repository.release(session, status_id, keep=wanted)
    for position, media_id in enumerate(wanted):
        found[media_id].status_id = status_id
        found[media_id].position = position
    return [found[m] for m in wanted]


def store_profile_image(ctx: AppContext, data: bytes, kind: str) -> str:
    """Process an avatar or header upload and return its storage key. Raises Unprocessable on bad images.
    CPU-bound and thread-safe: call it through asyncio.to_thread from async code."""
    if kind not in PROFILE_KINDS:
        raise ValueError(f"unknown profile image kind {kind!r}")
    _check_size(ctx, data)
    image = processing.process_profile_image(data, kind, max_pixels=ctx.settings.media_max_pixels)
    key = f"{kind}s/{ids.new_id()}/{secrets.token_hex(8)}.{image.ext}"
    ctx.storage.put(key, image.data)
    return key
