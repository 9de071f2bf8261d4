"""The search page: accounts, hashtags and posts for one query, through the API's search service. Post
search needs a signed-in viewer (as on Mastodon); each kind pages on its own with ?type=&offset=."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from starling.api.deps import Ctx, ReadSession
from starling.search import service as search
from starling.web import feed
from starling.web.deps import OptionalViewer
from starling.web.pages import page, web_router
from starling.web.people import person

router = web_router()

MAX_QUERY = 500
PER_KIND = 5  # on the mixed page; one kind alone shows a full page
PAGE_SIZE = 20
MAX_OFFSET = 10_000


@router.get("/search")
async def search_page(request: Request, ctx: Ctx, session: ReadSession, viewer: OptionalViewer) -> Response:
    q = request.query_params
    text = (q.get("q") or "").strip()
    kind = q.get("type") if q.get("type") in search.SEARCH_TYPES else None
    try:
        offset = max(0, min(int(q.get("offset") or 0), MAX_OFFSET))
    except ValueError:
        offset = 0
    context = {"q": text, "kind": kind, "accounts": [], "hashtags": [], "items": [], "searched": False,
               "next_offset": None, "too_long": len(text) > MAX_QUERY}
    if text and not context["too_long"]:
        limit = PAGE_SIZE if kind else PER_KIND
        viewer_id = viewer.id if viewer else None
        # One more than shown tells whether a further page exists.
        found = await search.search(session, search.SearchQuery(q=text, type=kind, limit=limit + 1, offset=offset),
                                    viewer_id, domain=ctx.settings.domain, base_url=ctx.settings.base_url)
        more = any(len(group) > limit for group in (found.accounts, found.hashtags, found.statuses))
        context.update(
            searched=True,
            accounts=[person(ctx, a) for a in found.accounts[:limit]],
            hashtags=found.hashtags[:limit],
            items=await feed.cards(session, ctx, found.statuses[:limit], viewer_id),
            more={name: len(group) > limit for name, group in (("accounts", found.accounts),
                                                               ("hashtags", found.hashtags),
                                                               ("statuses", found.statuses))},
            next_offset=offset + limit if kind and more else None,
            posts_need_sign_in=viewer is None)
    await feed.read_cap(request, len(context["items"]))
    return await page(request, "search/index.html", status_code=422 if context["too_long"] else 200,
                      title=f"Search: {text}" if text else "Search", **context)
