"""Lists: one's lists, each a timeline of its members' posts; create, rename, delete, and choose the
members among the accounts one follows. Another person's list is not found."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from starling.accounts import service as accounts
from starling.api.deps import Ctx, ReadSession, WriteSession
from starling.errors import NotFound, Unprocessable
from starling.timelines import lists
from starling.timelines import service as timelines
from starling.web import feed
from starling.web.deps import CsrfForm, Viewer
from starling.web.pages import page, redirect, web_router
from starling.web.people import person

router = web_router()

REPLIES_CHOICES = (("list", "Replies to members of this list"), ("followed", "Replies to anyone you follow"),
                   ("none", "No replies"))
MEMBER_SEARCH = 20
MAX_QUERY = 200


def _id(raw: int) -> int:
    if raw >= 2**63:
        raise NotFound()
    return raw


def _problem(exc: Unprocessable) -> str:
    return exc.message.removeprefix("Validation failed: ")


async def _index(request: Request, session, viewer, *, title: str = "", error: str | None = None,
                 status_code: int = 200) -> Response:
    owned = await lists.lists_of(session, viewer.id)
    return await page(request, "lists/index.html", status_code=status_code, lists=owned, title=title,
                      error=error, max_title=lists.MAX_TITLE)


@router.get("/lists")
async def index(request: Request, session: ReadSession, viewer: Viewer) -> Response:
    return await _index(request, session, viewer)


@router.post("/lists")
async def create(request: Request, session: WriteSession, viewer: Viewer, form: CsrfForm) -> Response:
    title = form.str("title", "", max_length=lists.MAX_TITLE * 4) or ""
    try:
        created = await lists.create_list(session, viewer.id, title=title)
    except Unprocessable as exc:
        return await _index(request, session, viewer, title=title, error=_problem(exc), status_code=422)
    return redirect(f"/lists/{created.id}/edit")


@router.get("/lists/{list_id:int}")
async def show(list_id: int, request: Request, ctx: Ctx, session: ReadSession, viewer: Viewer) -> Response:
    lst = await lists.get_list(session, viewer.id, _id(list_id))
    found = await timelines.list_timeline(session, viewer.id, lst.id, feed.window(request))
    items = await feed.cards(session, ctx, found.statuses, viewer.id, "home")
    return await feed.timeline_response(
        request, "lists/show.html", items, feed.older_url(request, found.last_id), list=lst,
        feed_label=f"Posts in the list {lst.title}",
        empty_text="No posts here yet. Add people to this list to see their posts.")


async def _edit(request: Request, ctx, session, viewer, list_id: int, *, title: str | None = None,
                error: str | None = None, member_error: str | None = None, status_code: int = 200) -> Response:
    lst = await lists.get_list(session, viewer.id, list_id)
    members = await lists.members(session, viewer.id, lst.id, None)
    member_ids = {m.id for m in members}
    q = (request.query_params.get("q") or "").strip()[:MAX_QUERY]
    candidates = []
    if q:
        found = await accounts.search(session, q, viewer_id=viewer.id, limit=MEMBER_SEARCH, offset=0,
                                      following_only=True)
        candidates = [person(ctx, a) for a in found if a.id not in member_ids]
    return await page(
        request, "lists/edit.html", status_code=status_code, list=lst, title=lst.title if title is None else title,
        error=error, member_error=member_error, replies_choices=REPLIES_CHOICES, max_title=lists.MAX_TITLE,
        members=[person(ctx, m) for m in members], q=q, candidates=candidates,
        saved=request.query_params.get("saved") == "1")


@router.get("/lists/{list_id:int}/edit")
async def edit(list_id: int, request: Request, ctx: Ctx, session: ReadSession, viewer: Viewer) -> Response:
    return await _edit(request, ctx, session, viewer, _id(list_id))


@router.post("/lists/{list_id:int}/edit")
async def rename(list_id: int, request: Request, ctx: Ctx, session: WriteSession, viewer: Viewer,
                 form: CsrfForm) -> Response:
    title = form.str("title", "", max_length=lists.MAX_TITLE * 4) or ""
    policy = form.str("replies_policy", "list", max_length=20) or "list"
    try:
        await lists.update_list(session, viewer.id, _id(list_id), title=title, replies_policy=policy)
    except Unprocessable as exc:
        return await _edit(request, ctx, session, viewer, _id(list_id), title=title, error=_problem(exc),
                           status_code=422)
    return redirect(f"/lists/{list_id}/edit?saved=1")


@router.post("/lists/{list_id:int}/delete")
async def delete(list_id: int, session: WriteSession, viewer: Viewer, form: CsrfForm) -> Response:
    await lists.delete_list(session, viewer.id, _id(list_id))
    return redirect("/lists")


@router.post("/lists/{list_id:int}/members")
async def add_member(list_id: int, request: Request, ctx: Ctx, session: WriteSession, viewer: Viewer,
                     form: CsrfForm) -> Response:
    account_id = form.int("account_id")
    if account_id is None or not 0 < account_id < 2**63:
        raise NotFound()
    try:
        await lists.add_members(session, viewer.id, _id(list_id), [account_id])
    except Unprocessable as exc:
        return await _edit(request, ctx, session, viewer, _id(list_id),
                           member_error=f"{_problem(exc)}: follow someone before adding them to a list.",
                           status_code=422)
    return redirect(f"/lists/{list_id}/edit")


@router.post("/lists/{list_id:int}/members/{account_id:int}/remove")
async def remove_member(list_id: int, account_id: int, session: WriteSession, viewer: Viewer,
                        form: CsrfForm) -> Response:
    await lists.remove_members(session, viewer.id, _id(list_id), [_id(account_id)])
    return redirect(f"/lists/{list_id}/edit")
