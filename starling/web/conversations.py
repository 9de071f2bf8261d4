"""Direct messages: the viewer's conversations (the same list as the API's /api/v1/conversations),
newest message first, each with the other people, its newest message, and whether it is unread; mark
one read, or take it off the list."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from starling.api.accounts_graph import path_id
from starling.api.deps import Ctx, ReadSession, WriteSession
from starling.conversations import service as conversations
from starling.errors import NotFound
from starling.web import feed
from starling.web.deps import CsrfForm, Viewer, safe_next
from starling.web.pages import page, redirect, web_router

router = web_router()


@router.get("/conversations")
async def index(request: Request, ctx: Ctx, session: ReadSession, viewer: Viewer) -> Response:
    views = await conversations.list_conversations(session, viewer.id, feed.window(request))
    shown = [v.last_status for v in views if v.last_status is not None]
    cards = {card["id"]: card for card in await feed.cards(session, ctx, shown, viewer.id)}
    items = [(view, cards.get(str(view.row.last_status_id))) for view in views]
    await feed.read_cap(request, len(shown))
    next_url = feed.older_url(request, views[-1].row.last_status_id) if len(views) == feed.PAGE_SIZE else None
    return await page(request, "conversations.html", items=items, next_url=next_url)


@router.post("/conversations/{row_id:int}/{action}")
async def act(row_id: int, action: str, session: WriteSession, viewer: Viewer, form: CsrfForm) -> Response:
    if action == "read":
        await conversations.mark_read(session, viewer.id, path_id(row_id))
    elif action == "remove":
        await conversations.remove(session, viewer.id, path_id(row_id))
    else:
        raise NotFound()
    return redirect(safe_next(form.str("next", max_length=2_000), "/conversations"))
