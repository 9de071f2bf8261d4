"""The OAuth sign-in and consent page (/oauth/authorize) that Mastodon apps open in a browser."""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit, urlunsplit

from fastapi import APIRouter, Request
from starlette.responses import RedirectResponse, Response

import starling
from starling.accounts import instance as instance_settings
from starling.accounts import oauth, service, throttle
from starling.accounts.oauth import AuthorizationRequest, AuthorizeError
from starling.api.deps import Ctx, ReadSession, WriteSession
from starling.api.params import Params, body_params, query_params
from starling.context import AppContext
from starling.errors import RateLimited, StarlingError
from starling.safety.ratelimit import client_ip
from starling.web import csrf
from starling.web.templating import render

router = APIRouter()

EXPIRED_FORM = "This form has expired or did not come from this site. Go back and try again."

SCOPE_TEXT = {
    "read": "read all your account's data",
    "write": "change all your account's data: post, follow, favourite, edit your profile",
    "follow": "follow, block and mute accounts",
    "push": "receive push notifications",
    "profile": "read only your account's basic profile",
    "admin:read": "read all data on the server (moderation)",
    "admin:write": "act on all data on the server (moderation)",
}
SUB_SCOPE_VERB = {"read": "read your", "write": "change your", "admin:read": "read the server's",
                  "admin:write": "act on the server's"}


def secret_of(ctx: AppContext) -> str:
    """The instance secret (CSRF signing), read once per process."""
    if "secret_key" not in ctx.extras:
        ctx.extras["secret_key"] = ctx.settings.resolved_secret_key()
    return ctx.extras["secret_key"]


def with_query(uri: str, values: dict[str, str | None]) -> str:
    """`uri` with `values` added to its query, whatever its scheme (myapp://callback works too)."""
    parts = urlsplit(uri)
    extra = urlencode({k: v for k, v in values.items() if v is not None})
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def _describe(scopes: list[str]) -> list[dict[str, str]]:
    """Each scope in words a person can judge (`write:statuses` reads "change your statuses")."""
    described = []
    for scope in scopes:
        text = SCOPE_TEXT.get(scope)
        if text is None:
            head, _, sub = scope.rpartition(":")
            text = f"{SUB_SCOPE_VERB.get(head, head)} {sub.replace('_', ' ')}"
        described.append({"name": scope, "text": text})
    return described


async def _request_from(session, params: Params) -> AuthorizationRequest:
    names = ("client_id", "redirect_uri", "response_type", "state", "code_challenge", "code_challenge_method")
    text = {name: params.str(name, max_length=2_000) for name in names}
    scope = params.str("scope", max_length=2_000) or params.str("scopes", max_length=2_000)
    return await oauth.check_authorization_request(session, scope=scope, **text)


def _failure(title: str, exc: AuthorizeError) -> Response:
    if exc.redirect_uri:
        back = {"error": exc.code, "error_description": exc.message, "state": exc.state}
        return RedirectResponse(with_query(exc.redirect_uri, back), status_code=302)
    return render("oauth_error.html", {"instance_title": title, "version": starling.__version__,
                                       "code": exc.code, "description": exc.message},
                  status_code=400, no_store=True)


def _page(ctx: AppContext, request: Request, title: str, req: AuthorizationRequest, *,
          error: str | None = None, username: str = "", status_code: int = 200,
          retry_after: int | None = None) -> Response:
    secret = secret_of(ctx)
    nonce, fresh = csrf.nonce_for(request, secret)
    response = render("authorize.html", {
        "instance_title": title, "version": starling.__version__,
        "app_name": req.app.name, "app_website": req.app.website, "client_id": req.app.client_id,
        "redirect_uri": req.redirect_uri, "scopes": _describe(req.scopes),
        "scope_string": " ".join(req.scopes),
        "state": req.state, "code_challenge": req.code_challenge,
        "code_challenge_method": req.code_challenge_method, "csrf_token": csrf.form_token(secret, nonce),
        "error": error, "username": username,
    }, status_code=status_code, no_store=True)
    if fresh:
        csrf.set_cookie(response, secret, nonce, secure=ctx.settings.https)
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


@router.get("/oauth/authorize", include_in_schema=False)
async def authorize_page(request: Request, ctx: Ctx, session: ReadSession) -> Response:
    title = (await instance_settings.get_instance_settings(session, ctx.settings)).title
    try:
        req = await _request_from(session, query_params(request))
    except AuthorizeError as exc:
        return _failure(title, exc)
    return _page(ctx, request, title, req)


@router.post("/oauth/authorize", include_in_schema=False)
async def authorize_submit(request: Request, ctx: Ctx, session: WriteSession) -> Response:
    title = (await instance_settings.get_instance_settings(session, ctx.settings)).title
    try:
        params = await body_params(request, max_bytes=20_000)
        submitted_token = params.str("csrf_token", max_length=200)
    except StarlingError as exc:
        return _failure(title, AuthorizeError("invalid_request", exc.message))
    if not csrf.verify(request, secret_of(ctx), submitted_token):
        return _failure(title, AuthorizeError("invalid_request", EXPIRED_FORM))
    try:
        req = await _request_from(session, params)
    except AuthorizeError as exc:
        return _failure(title, exc)
    if params.get("decision") == "deny":
        return _failure(title, AuthorizeError(
            "access_denied", "The resource owner or authorization server denied the request.",
            redirect_uri=None if req.out_of_band else req.redirect_uri, state=req.state))
    username = params.str("username", "", max_length=320) or ""
    password = params.str("password", "", max_length=1_000) or ""
    ip = client_ip(request)  # X-Forwarded-For only from trusted proxies
    try:
        await throttle.check(session, ctx.settings, ip=ip, login=username)
    except RateLimited as exc:
        return _page(ctx, request, title, req, error="Too many sign-in attempts. Try again in a few minutes.",
                     username=username, status_code=429, retry_after=exc.retry_after)
    account = await service.authenticate(session, username, password)
    await throttle.record(session, ctx.settings, ip=ip, login=username, succeeded=account is not None)
    if account is None:
        return _page(ctx, request, title, req, error="Invalid username, email or password.",
                     username=username, status_code=401)
    reason = service.unusable_reason(account)
    if reason:
        return _page(ctx, request, title, req, error=reason + ".", username=username, status_code=403)
    code = await oauth.issue_authorization_code(session, req, account)
    if req.out_of_band:
        return render("authorize_code.html", {"instance_title": title, "version": starling.__version__,
                                              "app_name": req.app.name, "code": code}, no_store=True)
    return RedirectResponse(with_query(req.redirect_uri, {"code": code, "state": req.state}), status_code=302)
