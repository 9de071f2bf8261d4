"""Signing up, in and out of the web app, and changing the password."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import Request
from starlette.responses import Response

from starling.accounts import instance as instance_settings
from starling.accounts import service, sessions, throttle
from starling.api.deps import Ctx, WriteSession
from starling.errors import RateLimited, Unprocessable
from starling.safety.ratelimit import client_ip
from starling.web.deps import SESSION_COOKIE, SUSPENDED_PAGE, CsrfForm, OptionalViewer, Viewer, WebSessionId, safe_next
from starling.web.pages import page, redirect, web_router

router = web_router()

BAD_LOGIN = "Invalid username, email or password."


def _set_session_cookie(response: Response, request: Request, raw: str) -> None:
    settings = request.app.state.ctx.settings
    response.set_cookie(SESSION_COOKIE, raw, max_age=settings.web_session_days * 86400, path="/", httponly=True,
                        samesite="lax", secure=settings.https)


def field_errors(exc: Unprocessable) -> dict[str, str]:
    """Per-field messages ("Username has already been taken") from a service's validation error."""
    errors = {}
    for name, problems in (exc.details or {}).items():
        label = name.replace("_", " ").capitalize()
        errors[name] = "; ".join(f"{label} {p['description']}" for p in problems)
    return errors or {"form": exc.message}


@router.get("/auth/sign_in")
async def sign_in_form(request: Request, viewer: OptionalViewer, next: str = "/home") -> Response:
    if viewer is not None:
        return redirect(safe_next(next))
    return await page(request, "auth/sign_in.html", next=safe_next(next), username="", error=None)


@router.post("/auth/sign_in")
async def sign_in(request: Request, ctx: Ctx, session: WriteSession, form: CsrfForm) -> Response:
    username = form.str("username", "", max_length=320) or ""
    password = form.str("password", "", max_length=1_000) or ""
    next_path = safe_next(form.str("next", max_length=2_000))
    ip = client_ip(request)  # X-Forwarded-For only from trusted proxies

    async def again(error: str, status_code: int, **headers: str) -> Response:
        return await page(request, "auth/sign_in.html", status_code=status_code, next=next_path,
                          username=username, error=error, headers=headers)

    try:
        await throttle.check(session, ctx.settings, ip=ip, login=username)
    except RateLimited as exc:
        return await again("Too many sign-in attempts. Try again in a few minutes.", 429,
                           **{"Retry-After": str(exc.retry_after)})
    account = await service.authenticate(session, username, password)
    await throttle.record(session, ctx.settings, ip=ip, login=username, succeeded=account is not None)
    if account is None:
        return await again(BAD_LOGIN, 401)
    reason = sessions.sign_in_refusal(account)
    if reason:
        return await again(reason + ".", 403)
    if account.suspended_at is not None:
        next_path = SUSPENDED_PAGE
    # A sign-in always starts a new session; the one this browser held (if any) ends.
    await sessions.end(session, request.cookies.get(SESSION_COOKIE))
    raw = await sessions.start(session, ctx.settings, account.id,
                               user_agent=request.headers.get("user-agent", ""))
    response = redirect(next_path)
    _set_session_cookie(response, request, raw)
    return response


@router.post("/auth/sign_out")
async def sign_out(request: Request, session: WriteSession, form: CsrfForm) -> Response:
    await sessions.end(session, request.cookies.get(SESSION_COOKIE))
    response = redirect("/")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


async def _instance(request: Request, session):
    return await instance_settings.get_instance_settings(session, request.app.state.ctx.settings)


@router.get("/auth/sign_up")
async def sign_up_form(request: Request, viewer: OptionalViewer) -> Response:
    if viewer is not None:
        return redirect("/home")
    invite = (request.query_params.get("invite") or "")[:64]
    return await page(request, "auth/sign_up.html", values={"invite_code": invite}, errors={})


@router.get("/invite/{code}")
async def invite_link(code: str) -> Response:
    """An admin's invite link: the sign-up form with the code filled in."""
    return redirect("/auth/sign_up?" + urlencode({"invite": code[:64]}))


@router.post("/auth/sign_up")
async def sign_up(request: Request, ctx: Ctx, session: WriteSession, form: CsrfForm) -> Response:
    values = {name: form.str(name, "", max_length=limit) or ""
              for name, limit in (("username", 30 * 4), ("email", 320), ("reason", 1_000), ("invite_code", 200))}
    password = form.str("password", "", max_length=1_000) or ""
    instance = await _instance(request, session)
    try:
        account = await sessions.sign_up(session, ctx.settings, instance, username=values["username"].strip(),
                                         email=values["email"], password=password,
                                         agreement=bool(form.bool("agreement", False)), reason=values["reason"],
                                         invite_code=values["invite_code"], ip=client_ip(request),
                                         pow_challenge=form.str("pow_challenge", max_length=500),
                                         pow_nonce=form.str("pow_nonce", max_length=100))
    except Unprocessable as exc:
        return await page(request, "auth/sign_up.html", status_code=422, values=values, errors=field_errors(exc))
    if not account.approved:
        return await page(request, "auth/pending.html", username=account.username)
    raw = await sessions.start(session, ctx.settings, account.id, user_agent=request.headers.get("user-agent", ""))
    response = redirect("/home")
    _set_session_cookie(response, request, raw)
    return response


@router.get("/menu")
async def menu(request: Request, viewer: Viewer) -> Response:
    """Every destination in one list: the phone layout's navigation shows only the main ones."""
    return await page(request, "menu.html")


@router.get("/auth/password")
async def password_form(request: Request, viewer: Viewer) -> Response:
    return await page(request, "auth/password.html", errors={}, done=False)


@router.post("/auth/password")
async def change_password(request: Request, session: WriteSession, viewer: Viewer, session_id: WebSessionId,
                          form: CsrfForm) -> Response:
    current = form.str("current_password", "", max_length=1_000) or ""
    new = form.str("password", "", max_length=1_000) or ""
    if new != (form.str("password_confirmation", "", max_length=1_000) or ""):
        errors = {"password_confirmation": "The two new passwords do not match."}
        return await page(request, "auth/password.html", status_code=422, errors=errors, done=False)
    try:
        await sessions.change_password(session, viewer.id, current=current, new=new, keep_session_id=session_id)
    except Unprocessable as exc:
        return await page(request, "auth/password.html", status_code=422, errors=field_errors(exc), done=False)
    return await page(request, "auth/password.html", errors={}, done=True)
