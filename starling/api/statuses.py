"""Status endpoints, as Mastodon clients call them: post, edit, delete, show, context, boost, favourite,
bookmark, pin, who favourited or boosted, edit history and source."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from starling import ids
from starling.api.deps import Auth, Ctx, OptionalAuth, ReadSession, WriteSession, scoped
from starling.api.entities.account import account_entity
from starling.api.entities.filter import annotate
from starling.api.entities.status import status_edit_entities, status_entities, status_entity
from starling.api.media import path_id
from starling.api.pagination import page_params, page_response
from starling.api.params import Params, body_params, query_params
from starling.api.responses import JSON
from starling.api.timelines import admit_reader
from starling.errors import Forbidden, NotFound, Unprocessable
from starling.posts import service
from starling.safety import filters, readcap

router = APIRouter()

WriteStatuses = Annotated[Auth, Depends(scoped("write:statuses"))]
WriteFavourites = Annotated[Auth, Depends(scoped("write:favourites"))]
WriteBookmarks = Annotated[Auth, Depends(scoped("write:bookmarks"))]
WriteAccounts = Annotated[Auth, Depends(scoped("write:accounts"))]
WriteMutes = Annotated[Auth, Depends(scoped("write:mutes"))]
ReadStatuses = Annotated[Auth, Depends(scoped("read:statuses"))]
MAX_SOURCE_TEXT = 100_000  # raw input bound; the real limit is Mastodon's length rule, checked after
MAX_BATCH = 20


def reader_id(auth: Auth | None, scope: str = "read:statuses") -> int | None:
    """Who is reading: None when logged out; a token, if given, must hold a read scope."""
    if auth is None:
        return None
    if not auth.has(scope):
        raise Forbidden("This action is outside the authorized scopes")
    return auth.account.id if auth.account is not None else None


def _media_ids(params: Params) -> list[int]:
    parsed = []
    for raw in params.list("media_ids"):
        value = ids.parse_id(raw)
        if value is None:
            raise Unprocessable("Validation failed: Media attachments could not be found")
        parsed.append(value)
    return parsed


def _reply_id(params: Params) -> int | None:
    raw = params.get("in_reply_to_id")
    if raw in (None, ""):
        return None
    value = ids.parse_id(raw)
    if value is None:
        raise NotFound()
    return value


@router.post("/api/v1/statuses")
async def create(request: Request, ctx: Ctx, session: WriteSession, auth: WriteStatuses) -> JSON:
    params = await body_params(request)
    if params.get("poll") not in (None, "", {}):
        raise Unprocessable("Validation failed: Polls are not supported on this server")
    if params.get("scheduled_at") not in (None, ""):
        raise Unprocessable("Validation failed: Scheduled posts are not supported on this server")
    key = request.headers.get("idempotency-key")
    if key is not None and len(key) > service.MAX_IDEMPOTENCY_KEY:
        raise Unprocessable("Validation failed: Idempotency-Key is too long")
    me = auth.account.id
    status = await service.create_status(
        session, ctx.settings, account_id=me,
        text=params.str("status", "", max_length=MAX_SOURCE_TEXT),
        spoiler_text=params.str("spoiler_text", "", max_length=MAX_SOURCE_TEXT),
        sensitive=params.bool("sensitive"), visibility=params.str("visibility", max_length=20),
        language=params.str("language", max_length=20), in_reply_to_id=_reply_id(params),
        media_ids=_media_ids(params), idempotency_key=key or None, application_id=auth.application_id)
    return JSON(await status_entity(session, ctx, status, me))


@router.get("/api/v1/statuses")
async def show_many(request: Request, ctx: Ctx, session: ReadSession, auth: OptionalAuth) -> JSON:
    viewer = reader_id(auth)
    wanted = [i for i in (ids.parse_id(raw) for raw in query_params(request).list("id")) if i is not None]
    if len(wanted) > MAX_BATCH:
        raise Unprocessable(f"Validation failed: at most {MAX_BATCH} IDs at once")
    statuses = await service.visible_statuses(session, wanted, viewer)
    return JSON(await status_entities(session, ctx, statuses, viewer))


@router.get("/api/v1/statuses/{status_id:int}")
async def show(status_id: int, ctx: Ctx, session: ReadSession, auth: OptionalAuth) -> JSON:
    viewer = reader_id(auth)
    status = await service.get_visible(session, path_id(status_id), viewer)
    return JSON(await status_entity(session, ctx, status, viewer))


@router.put("/api/v1/statuses/{status_id:int}")
async def edit(status_id: int, request: Request, ctx: Ctx, session: WriteSession,
               auth: WriteStatuses) -> JSON:
    params = await body_params(request)
    me = auth.account.id
    status = await service.edit_status(
        session, ctx.settings, account_id=me, status_id=path_id(status_id),
        text=params.str("status", max_length=MAX_SOURCE_TEXT),
        spoiler_text=params.str("spoiler_text", max_length=MAX_SOURCE_TEXT),
        sensitive=params.bool("sensitive"), language=params.str("language", max_length=20),
        media_ids=_media_ids(params) if params.get("media_ids") is not None else None)
    return JSON(await status_entity(session, ctx, status, me))


@router.delete("/api/v1/statuses/{status_id:int}")
async def delete(status_id: int, request: Request, ctx: Ctx, session: WriteSession, auth: WriteStatuses) -> JSON:
    me = auth.account.id
    delete_media = bool((await body_params(request)).bool("delete_media", False))
    status = await service.own_status(session, me, path_id(status_id))
    entity = await status_entity(session, ctx, status, me, source=True)
    await service.delete_status(session, status, delete_media=delete_media)
    return JSON(entity)


@router.get("/api/v1/statuses/{status_id:int}/context")
async def context(status_id: int, request: Request, ctx: Ctx, session: ReadSession, auth: OptionalAuth) -> JSON:
    viewer = reader_id(auth)
    who = await admit_reader(request, ctx, auth)
    ancestors, descendants = await service.context(session, path_id(status_id), viewer)
    ancestors, warned = await filters.apply(session, viewer, "thread", ancestors)
    descendants, warned_below = await filters.apply(session, viewer, "thread", descendants)
    entities = annotate(await status_entities(session, ctx, ancestors + descendants, viewer),
                        {**warned, **warned_below})
    await readcap.spend(ctx, who, len(entities))
    return JSON({"ancestors": entities[:len(ancestors)], "descendants": entities[len(ancestors):]})


@router.post("/api/v1/statuses/{status_id:int}/reblog")
async def reblog(status_id: int, request: Request, ctx: Ctx, session: WriteSession,
                 auth: WriteStatuses) -> JSON:
    params = await body_params(request)
    me = auth.account.id
    boost = await service.reblog(session, account_id=me, status_id=path_id(status_id),
                                 visibility=params.str("visibility", max_length=20))
    return JSON(await status_entity(session, ctx, boost, me))


@router.post("/api/v1/statuses/{status_id:int}/unreblog")
async def unreblog(status_id: int, ctx: Ctx, session: WriteSession, auth: WriteStatuses) -> JSON:
    me = auth.account.id
    original = await service.unreblog(session, account_id=me, status_id=path_id(status_id))
    return JSON(await status_entity(session, ctx, original, me))


@router.post("/api/v1/statuses/{status_id:int}/favourite")
async def favourite(status_id: int, ctx: Ctx, session: WriteSession, auth: WriteFavourites) -> JSON:
    me = auth.account.id
    return JSON(await status_entity(session, ctx, await service.favourite(
        session, account_id=me, status_id=path_id(status_id)), me))


@router.post("/api/v1/statuses/{status_id:int}/unfavourite")
async def unfavourite(status_id: int, ctx: Ctx, session: WriteSession, auth: WriteFavourites) -> JSON:
    me = auth.account.id
    return JSON(await status_entity(session, ctx, await service.unfavourite(
        session, account_id=me, status_id=path_id(status_id)), me))


@router.post("/api/v1/statuses/{status_id:int}/bookmark")
async def bookmark(status_id: int, ctx: Ctx, session: WriteSession, auth: WriteBookmarks) -> JSON:
    me = auth.account.id
    return JSON(await status_entity(session, ctx, await service.bookmark(
        session, account_id=me, status_id=path_id(status_id)), me))


@router.post("/api/v1/statuses/{status_id:int}/unbookmark")
async def unbookmark(status_id: int, ctx: Ctx, session: WriteSession, auth: WriteBookmarks) -> JSON:
    me = auth.account.id
    return JSON(await status_entity(session, ctx, await service.unbookmark(
        session, account_id=me, status_id=path_id(status_id)), me))


@router.post("/api/v1/statuses/{status_id:int}/pin")
async def pin(status_id: int, ctx: Ctx, session: WriteSession, auth: WriteAccounts) -> JSON:
    me = auth.account.id
    return JSON(await status_entity(session, ctx, await service.pin(
        session, account_id=me, status_id=path_id(status_id)), me))


@router.post("/api/v1/statuses/{status_id:int}/unpin")
async def unpin(status_id: int, ctx: Ctx, session: WriteSession, auth: WriteAccounts) -> JSON:
    me = auth.account.id
    return JSON(await status_entity(session, ctx, await service.unpin(
        session, account_id=me, status_id=path_id(status_id)), me))


@router.post("/api/v1/statuses/{status_id:int}/mute")
async def mute_conversation(status_id: int, ctx: Ctx, session: WriteSession, auth: WriteMutes) -> JSON:
    me = auth.account.id
    return JSON(await status_entity(session, ctx, await service.mute_conversation(
        session, account_id=me, status_id=path_id(status_id)), me))


@router.post("/api/v1/statuses/{status_id:int}/unmute")
async def unmute_conversation(status_id: int, ctx: Ctx, session: WriteSession, auth: WriteMutes) -> JSON:
    me = auth.account.id
    return JSON(await status_entity(session, ctx, await service.unmute_conversation(
        session, account_id=me, status_id=path_id(status_id)), me))


async def _interactions(request: Request, ctx, session, auth, status_id: int, which) -> JSON:
    viewer = reader_id(auth, "read:accounts")
    page = page_params(request, 40, 80)
    accounts, rows = await which(session, path_id(status_id), viewer, page)
    return page_response(request, [account_entity(ctx, a) for a in accounts], [row[0] for row in rows])


@router.get("/api/v1/statuses/{status_id:int}/favourited_by")
async def favourited_by(status_id: int, request: Request, ctx: Ctx, session: ReadSession,
                        auth: OptionalAuth) -> JSON:
    return await _interactions(request, ctx, session, auth, status_id, service.favourited_by)


@router.get("/api/v1/statuses/{status_id:int}/reblogged_by")
async def reblogged_by(status_id: int, request: Request, ctx: Ctx, session: ReadSession,
                       auth: OptionalAuth) -> JSON:
    return await _interactions(request, ctx, session, auth, status_id, service.reblogged_by)


@router.get("/api/v1/statuses/{status_id:int}/history")
async def history(status_id: int, ctx: Ctx, session: ReadSession, auth: OptionalAuth) -> JSON:
    viewer = reader_id(auth)
    status, edits = await service.history(session, path_id(status_id), viewer)
    return JSON(await status_edit_entities(session, ctx, status, edits))


@router.get("/api/v1/statuses/{status_id:int}/source")
async def source(status_id: int, session: ReadSession, auth: ReadStatuses) -> JSON:
    # Anyone who may see the status may read its source (Mastodon authorises it like showing it).
    status = await service.get_visible(session, path_id(status_id), auth.account.id)
    return JSON({"id": str(status.id), "text": status.text, "spoiler_text": status.spoiler_text or ""})
