"""Search: accounts, hashtags and statuses in one call, as Mastodon's v2 search."""

from __future__ import annotations

from fastapi import APIRouter, Request

from starling import ids
from starling.api.deps import Ctx, OptionalAuth, ReadSession
from starling.api.entities.account import account_entity
from starling.api.entities.status import status_entities
from starling.api.entities.tag import tag_entity
from starling.api.params import query_params
from starling.api.responses import JSON
from starling.api.timelines import admit_reader, viewer_reading
from starling.errors import BadRequest, Unauthorized
from starling.safety import readcap
from starling.search import service as search
from starling.search.trends import tag_histories

router = APIRouter()

MAX_QUERY = 1000
DEFAULT_LIMIT = 20


@router.get("/api/v2/search")
async def search_v2(request: Request, session: ReadSession, ctx: Ctx, auth: OptionalAuth) -> JSON:
    viewer_id = viewer_reading(auth, "read:search")
    who = await admit_reader(request, ctx, auth)
    params = query_params(request)
    q = params.str("q", max_length=MAX_QUERY)
    if q is None or not q.strip():
        raise BadRequest("param is missing or the value is empty: q")
    if viewer_id is None:
        if params.get("offset") not in (None, ""):
            raise Unauthorized("Search queries pagination is not supported without authentication")
        if params.bool("resolve", False):
            raise Unauthorized("Search queries that resolve remote resources are not supported without "
                               "authentication")
    limit = params.int("limit", DEFAULT_LIMIT)
    offset = params.int("offset", 0)
    if limit < 0 or offset < 0:
        raise BadRequest("Pagination values for `offset` and `limit` must be positive")
    kind = params.str("type", max_length=20) or None
    empty = {"accounts": [], "statuses": [], "hashtags": []}
    if kind is not None and kind not in search.SEARCH_TYPES:
        return JSON(empty)
    query = search.SearchQuery(
        q=q, type=kind, limit=min(limit, 2 * DEFAULT_LIMIT), offset=offset,
        following=bool(params.bool("following", False)), resolve=bool(params.bool("resolve", False)),
        account_id=ids.parse_id(params.str("account_id", max_length=30)),
        max_id=ids.parse_id(params.str("max_id", max_length=30)),
        min_id=ids.parse_id(params.str("min_id", max_length=30)))
    found = await search.search(session, query, viewer_id, domain=ctx.settings.domain,
                                base_url=ctx.settings.base_url)
    histories = await tag_histories(session, [t.id for t in found.hashtags])
    await readcap.spend(ctx, who, len(found.statuses))
    return JSON({
        "accounts": [account_entity(ctx, a) for a in found.accounts],
        "statuses": await status_entities(session, ctx, found.statuses, viewer_id),
        "hashtags": [tag_entity(ctx, t, histories[t.id], signed_in=viewer_id is not None)
                     for t in found.hashtags],
    })
