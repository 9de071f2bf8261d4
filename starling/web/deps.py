"""Who is looking at a page, and whether a form really came from us.

    Viewer          the signed-in account (routes that need one); without a live session the person is
                    sent to /auth/sign_in?next=<this page> and comes back after signing in.
    OptionalViewer  the signed-in account or None (public pages).
    SuspendedViewer the signed-in account even when suspended (the suspension page alone). Everywhere
                    else a suspended account is sent to SUSPENDED_PAGE (by Viewer and OptionalViewer,
                    and before any web route runs: see pages.WebRoute).
    WebSessionId    the id of the browser session (to keep it when others are signed out).
    CsrfForm        the submitted form as `Params`, after checking its CSRF token (403 when missing or
                    wrong). Every POST route takes it.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import Depends, Request

from starling.accounts import sessions
from starling.accounts.models import Account
from starling.api.params import Params, body_params
from starling.errors import Forbidden
from starling.web import csrf

SESSION_COOKIE = "starling_session"
# A suspended account, signed in, may open only these: its suspension page (read why, appeal) and sign out.
SUSPENDED_PAGE = "/suspended"
SUSPENDED_PATHS = frozenset({SUSPENDED_PAGE, f"{SUSPENDED_PAGE}/appeal", "/auth/sign_out"})
CSRF_HEADER = "x-csrf-token"
# Form bodies stay small; only the compose box and profile images upload files (bounded by BodyLimit).
MAX_FORM_BYTES = 200_000


class SignInRequired(Exception):
    """Raised by `Viewer` when nobody is signed in; the web routes answer with a redirect to sign in."""

    def __init__(self, next_path: str):
        super().__init__(next_path)
        self.next_path = next_path


class AccountSuspended(Exception):
    """Raised for a suspended account's session anywhere but its suspension page; the web routes answer
    with a redirect there."""


class CsrfRefused(Forbidden):
    def __init__(self) -> None:
        super().__init__("This form has expired or did not come from this site. Reload the page and try again.")


def secret_of(request: Request) -> str:
    """The instance secret (CSRF signing), read once per process."""
    ctx = request.app.state.ctx
    if "secret_key" not in ctx.extras:
        ctx.extras["secret_key"] = ctx.settings.resolved_secret_key()
    return ctx.extras["secret_key"]


def safe_next(value: str | None, default: str = "/home") -> str:
    """A local path to return to after a form: never another site (`//evil`, `https://…`, `/\\evil`)."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")) or len(value) > 2_000:
        return default
    if any(ch in value for ch in "\r\n\t"):
        return default
    return value


def here(request: Request) -> str:
    """This request's path and query, as a `next` value."""
    path = request.url.path
    return f"{path}?{request.url.query}" if request.url.query else path


async def signed_in(request: Request) -> tuple[int, Account] | None:
    cached = getattr(request.state, "web_session", False)
    if cached is not False:
        return cached
    found = None
    raw = request.cookies.get(SESSION_COOKIE)
    if raw:
        ctx = request.app.state.ctx
        async with ctx.db.read() as session:
            resolved = await sessions.resolve(session, raw)
        if resolved is not None:
            web_session, account = resolved
            if sessions.needs_refresh(web_session):
                async with ctx.db.write() as session:
                    await sessions.refresh(session, ctx.settings, web_session.id)
            found = (web_session.id, account)
    request.state.web_session = found
    return found


async def confined(request: Request) -> bool:
    """Whether this request comes from a suspended account's browser and is not one of the few paths
    such an account may open (so it must be sent to its suspension page)."""
    if request.url.path in SUSPENDED_PATHS or SESSION_COOKIE not in request.cookies:
        return False
    found = await signed_in(request)
    return found is not None and found[1].suspended_at is not None


async def _optional_viewer(request: Request) -> Account | None:
    found = await signed_in(request)
    if found is not None and found[1].suspended_at is not None:
        raise AccountSuspended()
    return found[1] if found else None


async def _suspended_viewer(request: Request) -> Account:
    found = await signed_in(request)
    if found is None:
        raise SignInRequired(SUSPENDED_PAGE)
    return found[1]


async def _viewer(request: Request) -> Account:
    found = await signed_in(request)
    if found is not None and found[1].suspended_at is not None:
        raise AccountSuspended()
    if found is None:
        # An htmx request comes back for a fragment: send the whole page, the one the person was on.
        target = request.headers.get("hx-current-url") if request.headers.get("hx-request") else None
        if target:
            parts = urlsplit(target)
            target = parts.path + (f"?{parts.query}" if parts.query else "")
        next_path = safe_next(target or (here(request) if request.method == "GET" else None), "/home")
        raise SignInRequired(next_path)
    return found[1]


async def _session_id(request: Request) -> int | None:
    found = await signed_in(request)
    return found[0] if found else None


def sign_in_url(next_path: str) -> str:
    return f"/auth/sign_in?next={quote(next_path, safe='/')}"


async def _csrf_form(request: Request) -> Params:
    params = await body_params(request, max_bytes=MAX_FORM_BYTES)
    submitted = request.headers.get(CSRF_HEADER) or params.get("csrf_token")
    if not isinstance(submitted, str) or not csrf.verify(request, secret_of(request), submitted):
        raise CsrfRefused()
    return params


Viewer = Annotated[Account, Depends(_viewer)]
OptionalViewer = Annotated[Account | None, Depends(_optional_viewer)]
WebSessionId = Annotated[int | None, Depends(_session_id)]
CsrfForm = Annotated[Params, Depends(_csrf_form)]
# The signed-in account whether suspended or not: only the suspension page takes it.
SuspendedViewer = Annotated[Account, Depends(_suspended_viewer)]

__all__ = ["Viewer", "OptionalViewer", "SuspendedViewer", "WebSessionId", "CsrfForm", "SignInRequired",
           "CsrfRefused", "AccountSuspended", "SESSION_COOKIE", "SUSPENDED_PAGE", "SUSPENDED_PATHS", "confined",
           "safe_next", "here", "sign_in_url", "secret_of"]
