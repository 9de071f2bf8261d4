"""Posting, the post page with its whole thread, and what one does to a post: reply, boost, favourite,
bookmark, mute its conversation, edit, delete. Each action is a plain form POST (redirecting back) that
htmx also posts, getting the re-rendered card in answer."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from starling import ids
from starling.accounts import service as accounts
from starling.api.deps import Ctx, ReadSession, WriteSession
from starling.api.entities.filter import annotate
from starling.api.entities.status import status_entities
from starling.api.params import Params
from starling.errors import NotFound, StarlingError, Unprocessable
from starling.media import service as media
from starling.posts import service as posts
from starling.safety import filters
from starling.web import feed
from starling.web.deps import CsrfForm, OptionalViewer, Viewer, safe_next
from starling.web.pages import fragment, is_htmx, page, redirect, web_router
from starling.web.timelines import compose_context

router = web_router()

MAX_TEXT = 100_000  # raw bound; the instance's character limit is the service's rule
MAX_IMAGE_BYTES_READ = 64 * 1024 * 1024  # the media service applies the real limit

ACTIONS = {
    "favourite": posts.favourite, "unfavourite": posts.unfavourite,
    "reblog": posts.reblog, "unreblog": posts.unreblog,
    "bookmark": posts.bookmark, "unbookmark": posts.unbookmark,
    "mute": posts.mute_conversation, "unmute": posts.unmute_conversation,
}


def _id(raw: str | int | None) -> int:
    value = ids.parse_id(str(raw)) if raw not in (None, "") else None
    if value is None:
        raise NotFound()
    return value


def _draft(form: Params) -> dict[str, str]:
    draft = {name: form.str(name, "", max_length=MAX_TEXT) or ""
             for name in ("status", "spoiler_text", "visibility", "description")}
    draft["sensitive"] = "1" if form.bool("sensitive", False) else ""
    return draft


async def _compose_again(request: Request, viewer, draft: dict, message: str, reply_to: int | None) -> Response:
    """The compose box again, with the error and what was typed (422)."""
    ctx = request.app.state.ctx
    async with ctx.db.read() as session:
        values = await compose_context(request, session, viewer)
    values.update(draft=draft, compose_errors={"form": message}, reply_to=reply_to)
    if is_htmx(request):
        return await fragment(request, "_compose.html", status_code=422, **values)
    return await page(request, "compose.html", status_code=422, **values)


@router.post("/statuses")
async def create(request: Request, ctx: Ctx, viewer: Viewer, form: CsrfForm) -> Response:
    draft = _draft(form)
    reply_raw = form.get("in_reply_to_id")
    reply_to = _id(reply_raw) if reply_raw not in (None, "") else None
    image = form.file("image")
    try:
        media_ids = []
        if image is not None and image.filename:
            data = await image.read(MAX_IMAGE_BYTES_READ + 1)
            if data:
                # The upload is stored in its own short transaction before the post is written.
                attachment = await media.create_attachment(ctx, viewer.id, data,
                                                           description=draft["description"] or None)
                media_ids.append(attachment.id)
        async with ctx.db.write() as session:
            await posts.create_status(
                session, ctx.settings, account_id=viewer.id, text=draft["status"],
                spoiler_text=draft["spoiler_text"], visibility=draft["visibility"] or None,
                sensitive=True if draft["sensitive"] else None,
                in_reply_to_id=reply_to, media_ids=media_ids)
    except (Unprocessable, NotFound) as exc:
        message = "The post you are replying to is gone." if isinstance(exc, NotFound) else exc.message
        return await _compose_again(request, viewer, draft, message.removeprefix("Validation failed: "), reply_to)
    except StarlingError as exc:  # a refused image (too large, not an image)
        return await _compose_again(request, viewer, draft, exc.message, reply_to)
    if is_htmx(request) and reply_to is not None:
        # A reply: back to the thread, which now shows it.
        return Response(status_code=200, headers={"HX-Redirect": safe_next(form.str("next", max_length=2_000))})
    if is_htmx(request):
        async with ctx.db.read() as session:
            values = await compose_context(request, session, viewer)
        values.update(reply_to=reply_to, compose_next=safe_next(form.str("next", max_length=2_000)))
        # A fresh box; the timeline's poller hears "starling:posted" and fetches the new post.
        return await fragment(request, "_compose.html", headers={"HX-Trigger": "starling:posted"},
                              flash="Posted.", **values)
    return redirect(safe_next(form.str("next", max_length=2_000)))


@router.get("/compose")
async def compose_page(request: Request, session: ReadSession, viewer: Viewer) -> Response:
    return await page(request, "compose.html", **await compose_context(request, session, viewer))


async def _card(request: Request, session, card_id: int, status_id: int, viewer_id: int) -> Response:
    """The card the action came from, re-rendered (the original when the card was a boost now undone)."""
    ctx = request.app.state.ctx
    shown = await posts.visible_statuses(session, [card_id], viewer_id) or await posts.visible_statuses(
        session, [status_id], viewer_id)
    items = await status_entities(session, ctx, shown, viewer_id)
    if not items:
        return await fragment(request, "_empty.html")
    return await fragment(request, "_card.html", item=items[0])


@router.post("/statuses/{status_id:int}/{action}")
async def act(status_id: int, action: str, request: Request, session: WriteSession, viewer: Viewer,
              form: CsrfForm) -> Response:
    target = _id(status_id)
    if action == "delete":
        status = await posts.own_status(session, viewer.id, target)
        await posts.delete_status(session, status)
        if is_htmx(request):
            return await fragment(request, "_empty.html")
        back = safe_next(form.str("next", max_length=2_000))
        return redirect("/home" if back.endswith(f"/{target}") else back)
    if action == "edit":
        return await _edit(request, session, viewer, target, form)
    operation = ACTIONS.get(action)
    if operation is None:
        raise NotFound()
    await operation(session, account_id=viewer.id, status_id=target)
    if is_htmx(request):
        card = form.get("card")
        return await _card(request, session, _id(card) if card else target, target, viewer.id)
    return redirect(safe_next(form.str("next", max_length=2_000)))


@router.get("/statuses/{status_id:int}/edit")
async def edit_form(status_id: int, request: Request, ctx: Ctx, session: ReadSession, viewer: Viewer) -> Response:
    status = await posts.own_status(session, viewer.id, _id(status_id))
    values = await compose_context(request, session, viewer)
    return await page(request, "edit.html", status_id=status.id, text=status.text,
                      spoiler_text=status.spoiler_text or "", error=None, **values)


async def _edit(request: Request, session, viewer, status_id: int, form: Params) -> Response:
    text = form.str("status", "", max_length=MAX_TEXT) or ""
    spoiler = form.str("spoiler_text", "", max_length=MAX_TEXT) or ""
    try:
        status = await posts.edit_status(session, request.app.state.ctx.settings, account_id=viewer.id,
                                         status_id=status_id, text=text, spoiler_text=spoiler)
    except Unprocessable as exc:
        values = await compose_context(request, session, viewer)
        return await page(request, "edit.html", status_code=422, status_id=status_id, text=text,
                          spoiler_text=spoiler, error=exc.message.removeprefix("Validation failed: "), **values)
    return redirect(f"/@{viewer.username}/{status.id}")


@router.get("/@{username}/{status_id:int}")
async def show(username: str, status_id: int, request: Request, ctx: Ctx, session: ReadSession,
               viewer: OptionalViewer) -> Response:
    viewer_id = viewer.id if viewer else None
    status = await posts.get_visible(session, _id(status_id), viewer_id)
    if status.reblog_of_id is not None:
        original = await posts.get_visible(session, status.reblog_of_id, viewer_id)
        author = await accounts.account(session, original.account_id)
        return redirect(f"/@{author.username}/{original.id}")
    ancestors, descendants = await posts.context(session, status.id, viewer_id)
    ancestors, warned = await filters.apply(session, viewer_id, "thread", ancestors)
    descendants, warned_below = await filters.apply(session, viewer_id, "thread", descendants)
    items = annotate(await feed.cards(session, ctx, [*ancestors, status, *descendants], viewer_id),
                     {**warned, **warned_below})
    focus = items[len(ancestors)]
    if focus["account"]["username"].lower() != username.lower():
        raise NotFound()
    await feed.read_cap(request, len(items))
    values = {}
    if viewer is not None:
        values = await compose_context(request, session, viewer)
        mentions = [f"@{m['acct']}" for m in focus["mentions"] if m["acct"] != viewer.username]
        if focus["account"]["username"] != viewer.username:
            mentions.insert(0, f"@{focus['account']['acct']}")
        values.update(prefill=" ".join(dict.fromkeys(mentions)) + (" " if mentions else ""),
                      default_visibility=focus["visibility"] if focus["visibility"] != "public"
                      else viewer.default_privacy)
    return await page(request, "status.html", ancestors=items[:len(ancestors)], focus=focus,
                      descendants=items[len(ancestors) + 1:], reply_to=focus["id"], in_thread=True, **values)
