"""Pages of statuses for templates: hydrated in one batch per page (the API's own hydration, so a page
costs a handful of queries whatever its length), paginated by max_id like the API, and answered as a
whole page or, for htmx's infinite scroll, just the next items."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import orjson
from fastapi import Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from starling import ids
from starling.api.entities import hydration
from starling.api.entities.filter import annotate
from starling.api.entities.status import status_entities
from starling.api.pagination import Page
from starling.context import AppContext
from starling.posts.models import Status
from starling.safety import filters, readcap
from starling.safety.ratelimit import client_ip, is_exempt
from starling.timelines import service as timelines
from starling.web.deps import signed_in
from starling.web.pages import fragment, is_htmx, page

PAGE_SIZE = 20


def window(request: Request, limit: int = PAGE_SIZE) -> Page:
    """The page a timeline URL asks for: ?max_id= for older, ?since_id= for newer."""
    q = request.query_params
    return Page(max_id=ids.parse_id(q.get("max_id")), since_id=ids.parse_id(q.get("since_id")), limit=limit)


async def cards(session: AsyncSession, ctx: AppContext, statuses: list[Status], viewer_id: int | None,
                context: str | None = None) -> list[dict]:
    """Statuses as the dicts `_status.html` renders (the Mastodon Status entity), all in one batch. With a
    filter `context` (home, notifications, public, thread, account) the viewer's keyword filters apply:
    `hide` leaves a post out, `warn` fills its `filtered`."""
    warned: dict = {}
    if context is not None:
        statuses, warned = await filters.apply(session, viewer_id, context, statuses)
    return annotate(await status_entities(session, ctx, statuses, viewer_id), warned)


async def home_cards(ctx: AppContext, viewer_id: int, page_window: Page) -> tuple[list[dict], int | None, int | None]:
    """A page of the viewer's home feed, through the same direct read path as the API's home."""
    async with ctx.db.reads() as reader:
        found = await timelines.home_page(reader, viewer_id, page_window, settings=ctx.settings, redis=ctx.redis)
        shown, warned = await filters.apply_direct(reader, ctx.db.read, viewer_id, "home", found.statuses)
        body = await hydration.statuses_json(reader, ctx, shown, found.pool, viewer_id)
    return annotate(orjson.loads(body), warned), found.first_id, found.last_id


async def read_cap(request: Request, served: int) -> None:
    """Count the posts a page shows against the reader's daily read cap (safety.readcap): the page is
    refused, with the cap's explanation, once the cap was used up before it."""
    ctx = request.app.state.ctx
    found = await signed_in(request)
    who = readcap.reader(ctx.settings, found[1] if found else None, client_ip(request), exempt=is_exempt(request))
    await readcap.admit(ctx, who)
    await readcap.spend(ctx, who, served)


def older_url(request: Request, last_id: int | str | None) -> str | None:
    """The next (older) page's URL, or None at the end."""
    if last_id is None:
        return None
    keep = [(k, v) for k, v in request.query_params.multi_items() if k not in ("max_id", "since_id", "min_id")]
    return f"{request.url.path}?{urlencode([*keep, ('max_id', str(last_id))])}"


async def timeline_response(request: Request, template: str, items: list[dict], next_url: str | None,
                            **context: Any) -> Response:
    """The whole page on a plain visit; only the items and the next "load more" link for htmx's
    infinite scroll (a request carrying max_id)."""
    await read_cap(request, len(items))
    if is_htmx(request) and request.query_params.get("max_id"):
        return await fragment(request, "_feed_items.html", items=items, next_url=next_url)
    return await page(request, template, items=items, next_url=next_url, **context)
