"""The page helpers every web route uses.

    router = web_router()                       # an APIRouter whose routes answer errors with pages
    return await page(request, "x.html", ...)   # a whole page, with what base.html needs
    return await fragment(request, "_x.html")   # a piece of a page, for htmx
    return redirect("/home")                    # 303 after a form (htmx follows it too)

`page` supplies: viewer (Account or None), csrf_token, instance (InstanceSettings), instance_title,
version, unread_notifications (int or None), path (this page, for `next`), and sets the CSRF cookie when
the browser has none. Errors (`StarlingError`) raised in a `web_router` route become an HTML error page
(or, for htmx, a message in the page's #flash region); `Viewer` without a session becomes a redirect to
the sign-in page and back; a suspended account's browser is sent to its suspension page from every
route but that page's own (and sign-out).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.routing import APIRoute
from starlette.responses import HTMLResponse, RedirectResponse, Response

import starling
from starling.accounts import instance as instance_settings
from starling.errors import StarlingError
from starling.notifications import service as notifications
from starling.web import csrf
from starling.web.deps import (
    SUSPENDED_PAGE,
    AccountSuspended,
    SignInRequired,
    confined,
    here,
    secret_of,
    sign_in_url,
    signed_in,
)
from starling.web.templating import PAGE_HEADERS, content_security_policy, render_text

UNREAD_LIMIT = 100  # the badge says "99+" beyond this


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def _nonce(request: Request) -> str:
    """One CSRF nonce per request (so every form on a page carries the same token)."""
    if not hasattr(request.state, "csrf_nonce"):
        nonce, fresh = csrf.nonce_for(request, secret_of(request))
        request.state.csrf_nonce = nonce
        request.state.csrf_fresh = fresh
    return request.state.csrf_nonce


def csrf_token(request: Request) -> str:
    return csrf.form_token(secret_of(request), _nonce(request))


def _respond(request: Request, body: str, status_code: int, headers: dict[str, str] | None,
             no_store: bool) -> HTMLResponse:
    all_headers = dict(PAGE_HEADERS)
    all_headers["Content-Security-Policy"] = content_security_policy(request.app.state.ctx.settings.base_url)
    # Pages differ for signed-in people and for htmx requests: never share them through a cache.
    all_headers["Cache-Control"] = "no-store" if no_store else "private, no-cache"
    all_headers["Vary"] = "Cookie, HX-Request"
    all_headers.update(headers or {})
    response = HTMLResponse(body, status_code=status_code, headers=all_headers)
    if getattr(request.state, "csrf_fresh", False):
        csrf.set_cookie(response, secret_of(request), request.state.csrf_nonce,
                        secure=request.app.state.ctx.settings.https)
        request.state.csrf_fresh = False
    return response


async def base_context(request: Request) -> dict[str, Any]:
    """What base.html and every partial may use."""
    ctx = request.app.state.ctx
    found = await signed_in(request)
    viewer = found[1] if found else None
    async with ctx.db.read() as session:
        instance = await instance_settings.get_instance_settings(session, ctx.settings)
        unread = None
        if viewer is not None:
            unread = await notifications.unread_count(session, viewer.id, limit=UNREAD_LIMIT)
    return {"request": request, "viewer": viewer, "csrf_token": csrf_token(request), "instance": instance,
            "instance_title": instance.title, "version": starling.__version__, "unread_notifications": unread,
            "path": here(request), "htmx": is_htmx(request), "settings": ctx.settings}


async def page(request: Request, template: str, *, status_code: int = 200, headers: dict[str, str] | None = None,
               no_store: bool = False, **context: Any) -> HTMLResponse:
    """A whole page from `template` (which extends base.html), with the base context."""
    values = await base_context(request)
    values.update(context)
    return _respond(request, render_text(template, values), status_code, headers, no_store)


async def fragment(request: Request, template: str, *, status_code: int = 200,
                   headers: dict[str, str] | None = None, **context: Any) -> HTMLResponse:
    """Part of a page (an htmx answer). It gets viewer, csrf_token and path, but no instance or unread
    queries: pass what the template needs."""
    found = await signed_in(request)
    values = {"request": request, "viewer": found[1] if found else None, "csrf_token": csrf_token(request),
              "path": here(request), "htmx": is_htmx(request), "settings": request.app.state.ctx.settings}
    values.update(context)
    return _respond(request, render_text(template, values), status_code, headers, False)


def redirect(url: str) -> Response:
    """After a successful form: 303 See Other, so the browser GETs the next page."""
    return RedirectResponse(url, status_code=303)


async def error_page(request: Request, status_code: int, message: str) -> Response:
    if is_htmx(request):
        # Shown in the page's live region instead of replacing whatever the request targeted.
        body = render_text("_flash.html", {"message": message, "kind": "error"})
        return _respond(request, body, status_code, {"HX-Retarget": "#flash", "HX-Reswap": "innerHTML"}, False)
    return await page(request, "error.html", status_code=status_code, message=message,
                      title=_TITLES.get(status_code, "Something went wrong"))


_TITLES = {403: "Not allowed", 404: "Not found", 405: "Not allowed", 413: "Too large", 422: "Not accepted",
           429: "Slow down", 500: "Something went wrong", 503: "Service unavailable"}

# Paths that belong to API clients: their errors keep Mastodon's JSON shape whatever the client accepts.
API_PREFIXES = ("/api/", "/oauth/token", "/oauth/revoke", "/.well-known/", "/nodeinfo/", "/health", "/bench/",
                "/openapi.json", "/static/", "/system/")
JSON_TYPES = ("application/json", "application/activity+json", "application/ld+json")


def wants_page(request: Request) -> bool:
    """Whether an error on this request should be an HTML page rather than `{"error": ...}`: any path
    outside the API's, unless the client asked for JSON and not for HTML (a script poking a web path)."""
    if request.url.path.startswith(API_PREFIXES):
        return False
    accept = request.headers.get("accept", "").lower()
    if "text/html" in accept or "application/xhtml+xml" in accept:
        return True
    return not any(kind in accept for kind in JSON_TYPES)


def _bare_context(request: Request) -> dict[str, Any]:
    """What base.html needs, from settings alone: for pages answered when the database may not be."""
    ctx = request.app.state.ctx
    return {"request": request, "viewer": None, "csrf_token": "", "instance": None,
            "instance_title": ctx.settings.instance_title, "version": starling.__version__,
            "unread_notifications": None, "path": here(request), "htmx": is_htmx(request), "settings": ctx.settings}


async def outside_error_page(request: Request, status_code: int, message: str, *, bare: bool = False,
                             headers: dict[str, str] | None = None) -> Response:
    """The HTML answer to an error raised outside a web route (an unknown path, a database outage, a
    crash). `bare` renders without touching the database: the outage page must not need it, and a page
    whose own rendering fails falls back to it."""
    title = _TITLES.get(status_code, "Something went wrong")
    if is_htmx(request):
        body = render_text("_flash.html", {"message": message, "kind": "error"})
        return _respond(request, body, status_code, {"HX-Retarget": "#flash", "HX-Reswap": "innerHTML",
                                                     **(headers or {})}, True)
    if not bare:
        try:
            if await confined(request):  # a suspended account is shown nothing but its suspension page
                return RedirectResponse(SUSPENDED_PAGE, status_code=303)
            return await page(request, "error.html", status_code=status_code, headers=headers, no_store=True,
                              message=message, title=title)
        except Exception:  # noqa: BLE001 - the database went away while rendering: the bare page needs none
            pass
    values = _bare_context(request)
    values.update(message=message, title=title)
    return _respond(request, render_text("error.html", values), status_code, headers, True)


class WebRoute(APIRoute):
    """A route whose errors are pages: sign-in redirects and StarlingErrors rendered as HTML."""

    def get_route_handler(self) -> Callable:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                if await confined(request):
                    raise AccountSuspended()
                return await handler(request)
            except AccountSuspended:
                if is_htmx(request):
                    return Response(status_code=200, headers={"HX-Redirect": SUSPENDED_PAGE})
                return RedirectResponse(SUSPENDED_PAGE, status_code=303)
            except SignInRequired as exc:
                target = sign_in_url(exc.next_path)
                if is_htmx(request):
                    return Response(status_code=200, headers={"HX-Redirect": target})
                return RedirectResponse(target, status_code=303)
            except StarlingError as exc:
                response = await error_page(request, exc.status, exc.message)
                if exc.status == 429 and hasattr(exc, "retry_after"):
                    response.headers["Retry-After"] = str(exc.retry_after)
                return response

        return handle


def web_router() -> APIRouter:
    """The router every web module uses (`router = web_router()`): HTML errors, no OpenAPI entries."""
    return APIRouter(route_class=WebRoute, include_in_schema=False)
