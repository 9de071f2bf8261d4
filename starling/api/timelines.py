"""Timelines: home, public, hashtag, list, an account's statuses, favourites and bookmarks. Every one is
paginated with max_id / since_id / min_id / limit and answers with Mastodon's Link header."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from starling.api.deps import Auth, Ctx, OptionalAuth, ReadSession, scoped
from starling.api.entities import hydration
from starling.api.entities.filter import annotate
from starling.api.entities.status import status_entities
from starling.api.pagination import page_params, set_link_header
from starling.api.params import query_params
from starling.api.responses import JSON
from starling.context import AppContext
from starling.errors import Forbidden, NotFound
from starling.safety import filters, readcap
from starling.safety.ratelimit import client_ip, is_exempt
from starling.search.service import normalize_tag
from starling.timelines import service as timelines
from starling.timelines.service import TimelinePage

router = APIRouter()


def viewer_reading(auth: Auth | None, scope: str = "read:statuses") -> int | None:
    """The signed-in viewer's ID (None when logged out). A token, when sent, must hold `scope`."""
    if auth is None:
        return None
    if not auth.has(scope):
        raise Forbidden("This action is outside the authorized scopes")
    return auth.account_id


async def admit_reader(request: Request, ctx: AppContext, auth: Auth | None) -> readcap.Reader:
    """The reader's daily read cap, checked before the page is read (429 once it is used up)."""
    account = auth.account if auth is not None and auth.account_id is not None else None
    who = readcap.reader(ctx.settings, account, client_ip(request), exempt=is_exempt(request))
    await readcap.admit(ctx, who)
    return who


async def render_page(request: Request, session: AsyncSession, ctx: AppContext, page: TimelinePage,
                      viewer_id: int | None, reader: readcap.Reader | None = None,
                      context: str | None = None) -> JSON:
    """The page's entities with the Link header; with a filter `context`, the viewer's keyword filters
    hide posts or add `filtered` warnings."""
    statuses, warned = page.statuses, {}
    if context is not None:
        statuses, warned = await filters.apply(session, viewer_id, context, page.statuses)
    response = JSON(annotate(await status_entities(session, ctx, statuses, viewer_id), warned))
    if reader is not None:
        await readcap.spend(ctx, reader, len(statuses))
    set_link_header(request, response, page.first_id, page.last_id)
    return response


def _id(value: int) -> int:
    if value >= 2**63:
        raise NotFound()
    return value


@router.get("/api/v1/timelines/home")
async def home(request: Request, auth: Annotated[Auth, Depends(scoped("read:statuses"))]) -> Response:
    # The hottest route: read directly and hydrated from per-process caches (see entities.hydration).
    ctx = request.app.state.ctx
    who = await admit_reader(request, ctx, auth)
    async with ctx.db.reads() as reader:
        page = await timelines.home_page(reader, auth.account_id, page_params(request), settings=ctx.settings,
                                         redis=ctx.redis)
        statuses, warned = await filters.apply_direct(reader, ctx.db.read, auth.account_id, "home", page.statuses)
        body = await hydration.statuses_json(reader, ctx, statuses, page.pool, auth.account_id)
    if warned:  # only for a reader with a matching warn filter: the cached bytes are opened again
        body = orjson.dumps(annotate(orjson.loads(body), warned))
    await readcap.spend(ctx, who, len(statuses))
    response = Response(body, media_type=JSON.media_type)
    set_link_header(request, response, page.first_id, page.last_id)
    return response


@router.get("/api/v1/timelines/public")
async def public(request: Request, session: ReadSession, ctx: Ctx, auth: OptionalAuth) -> JSON:
    viewer_id = viewer_reading(auth)
    if auth is None:
        readcap.allow_logged_out_public(ctx.settings)
    who = await admit_reader(request, ctx, auth)
    params = query_params(request)
    page = await timelines.public_timeline(
        session, viewer_id, page_params(request), local=bool(params.bool("local", False)),
        remote=bool(params.bool("remote", False)), only_media=bool(params.bool("only_media", False)))
    return await render_page(request, session, ctx, page, viewer_id, who, "public")


def _tag_names(values: list) -> list[str]:
    names = (normalize_tag(v) for v in values if isinstance(v, str))
    return [n for n in names if n]


@router.get("/api/v1/timelines/tag/{hashtag}")
async def tag(hashtag: str, request: Request, session: ReadSession, ctx: Ctx, auth: OptionalAuth) -> JSON:
    viewer_id = viewer_reading(auth)
    if auth is None:
        readcap.allow_logged_out_public(ctx.settings)
    who = await admit_reader(request, ctx, auth)
    params = query_params(request)
    name = normalize_tag(hashtag)
    if name is None:
        return JSON([])
    page = await timelines.tag_timeline(
        session, viewer_id, page_params(request), name, any_of=_tag_names(params.list("any")),
        all_of=_tag_names(params.list("all")), none_of=_tag_names(params.list("none")),
        local=bool(params.bool("local", False)), remote=bool(params.bool("remote", False)),
        only_media=bool(params.bool("only_media", False)))
    return await render_page(request, session, ctx, page, viewer_id, who, "public")


@router.get("/api/v1/timelines/list/{list_id:int}")
async def list_timeline(list_id: int, request: Request, session: ReadSession, ctx: Ctx,
                        auth: Annotated[Auth, Depends(scoped("read:lists"))]) -> JSON:
    who = await admit_reader(request, ctx, auth)
    page = await timelines.list_timeline(session, auth.account.id, _id(list_id), page_params(request))
    return await render_page(request, session, ctx, page, auth.account.id, who, "home")


@router.get("/api/v1/accounts/{account_id:int}/statuses")
async def account_statuses(account_id: int, request: Request, session: ReadSession, ctx: Ctx,
                           auth: OptionalAuth) -> JSON:
    viewer_id = viewer_reading(auth)
    who = await admit_reader(request, ctx, auth)
    params = query_params(request)
    tagged = params.str("tagged", max_length=200)
    tagged_name = normalize_tag(tagged) if tagged else None
    if tagged and tagged_name is None:
        return JSON([])
    page = await timelines.account_statuses(
        session, _id(account_id), viewer_id, page_params(request),
        exclude_replies=bool(params.bool("exclude_replies", False)),
        exclude_reblogs=bool(params.bool("exclude_reblogs", False)),
        exclude_direct=bool(params.bool("exclude_direct", False)),
        only_media=bool(params.bool("only_media", False)), pinned=bool(params.bool("pinned", False)),
        tagged=tagged_name)
    return await render_page(request, session, ctx, page, viewer_id, who, "account")


@router.get("/api/v1/favourites")
async def favourites(request: Request, session: ReadSession, ctx: Ctx,
                     auth: Annotated[Auth, Depends(scoped("read:favourites"))]) -> JSON:
    page = await timelines.favourited_statuses(session, auth.account.id, page_params(request))
    return await render_page(request, session, ctx, page, auth.account.id)


@router.get("/api/v1/bookmarks")
async def bookmarks(request: Request, session: ReadSession, ctx: Ctx,
                    auth: Annotated[Auth, Depends(scoped("read:bookmarks"))]) -> JSON:
    page = await timelines.bookmarked_statuses(session, auth.account.id, page_params(request))
    return await render_page(request, session, ctx, page, auth.account.id)
