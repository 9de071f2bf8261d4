"""Media endpoints: upload (v1 and v2), show, describe, delete; and the stored files under /system."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import FileResponse, Response

from starling import ids
from starling.api.deps import Auth, Ctx, ReadSession, WriteSession, scoped
from starling.api.entities.media import media_entity
from starling.api.params import body_params
from starling.api.responses import JSON
from starling.errors import NotFound, TooLarge, Unprocessable
from starling.media import service

router = APIRouter()


def path_id(value: int) -> int:
    """An ID from the path (digits already, via the int converter); beyond 64 bits it names nothing."""
    if ids.parse_id(value) is None:
        raise NotFound()
    return value

WriteMedia = Annotated[Auth, Depends(scoped("write:media"))]
FILE_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".webp": "image/webp",
              ".gif": "image/gif"}
IMMUTABLE = "public, max-age=31536000, immutable"


async def _upload(request: Request, ctx, auth: Auth) -> JSON:
    params = await body_params(request)
    upload = params.file("file")
    if upload is None:
        raise Unprocessable("Validation failed: File can't be blank")
    description = params.str("description", max_length=service.MAX_DESCRIPTION)
    focus = service.parse_focus(params.str("focus", max_length=40))
    limit = ctx.settings.media_max_bytes
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(f"File is larger than {limit} bytes")
    media = await service.create_attachment(ctx, auth.account.id, data, description=description, focus=focus)
    return JSON(media_entity(ctx, media))


@router.post("/api/v1/media")
async def upload_v1(request: Request, ctx: Ctx, auth: WriteMedia) -> JSON:
    return await _upload(request, ctx, auth)


@router.post("/api/v2/media")
async def upload_v2(request: Request, ctx: Ctx, auth: WriteMedia) -> JSON:
    # Images are processed before we answer, so v2 answers 200 (not 202) with the finished entity.
    return await _upload(request, ctx, auth)


@router.get("/api/v1/media/{media_id:int}")
async def show(media_id: int, ctx: Ctx, session: ReadSession, auth: WriteMedia) -> JSON:
    media = await service.own_attachment(session, auth.account.id, path_id(media_id))
    return JSON(media_entity(ctx, media))


@router.put("/api/v1/media/{media_id:int}")
async def update(media_id: int, request: Request, ctx: Ctx, session: WriteSession, auth: WriteMedia) -> JSON:
    params = await body_params(request)
    description = params.str("description", max_length=service.MAX_DESCRIPTION)
    focus = service.parse_focus(params.str("focus", max_length=40))
    media = await service.update_attachment(session, auth.account.id, path_id(media_id),
                                            description=description, focus=focus)
    return JSON(media_entity(ctx, media))


@router.delete("/api/v1/media/{media_id:int}")
async def delete(media_id: int, ctx: Ctx, session: WriteSession, auth: WriteMedia) -> JSON:
    await service.delete_attachment(ctx, session, auth.account.id, path_id(media_id))
    return JSON({})


@router.get("/system/{key:path}", include_in_schema=False)
async def stored_file(key: str, ctx: Ctx) -> Response:
    """A stored upload. Keys hold a random segment and never change, so caches may keep them forever."""
    media_type = FILE_TYPES.get(PurePosixPath(key).suffix.lower())
    path = ctx.storage.path(key) if media_type else None
    if path is None:
        raise NotFound()
    return FileResponse(path, media_type=media_type,
                        headers={"Cache-Control": IMMUTABLE, "X-Content-Type-Options": "nosniff"})
