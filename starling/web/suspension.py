"""The one page a suspended account can open: it says the account is suspended, since when and the
moderators' reason, and takes one appeal (then shows where the appeal stands). Every other web page
sends such an account here (web.deps / web.pages); the API keeps refusing its tokens."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from starling.accounts.models import Account
from starling.api.deps import ReadSession, WriteSession
from starling.errors import Unprocessable
from starling.safety import moderation
from starling.web.deps import SUSPENDED_PAGE, CsrfForm, SuspendedViewer
from starling.web.pages import page, redirect, web_router

router = web_router()

TITLE = "Your account is suspended"


async def _suspension_page(request: Request, session, viewer: Account, *, typed: str = "",
                           error: str | None = None, status_code: int = 200) -> Response:
    suspension = await moderation.suspension_of(session, viewer.id)
    if suspension is None:  # lifted (an appeal approved, or a moderator unsuspended it): back to normal
        return redirect("/home")
    return await page(request, "suspended.html", title=TITLE, suspension=suspension, typed=typed, error=error,
                      max_appeal=moderation.MAX_APPEAL, status_code=status_code, no_store=True)


@router.get(SUSPENDED_PAGE)
async def suspended(request: Request, session: ReadSession, viewer: SuspendedViewer) -> Response:
    return await _suspension_page(request, session, viewer)


@router.post(f"{SUSPENDED_PAGE}/appeal")
async def appeal(request: Request, session: WriteSession, viewer: SuspendedViewer, form: CsrfForm) -> Response:
    text = form.str("text", "", max_length=10_000) or ""
    try:
        async with session.begin_nested():
            await moderation.appeal_suspension(session, viewer.id, text)
    except Unprocessable as exc:
        return await _suspension_page(request, session, viewer, typed=text, error=exc.message, status_code=422)
    return redirect(SUSPENDED_PAGE)
