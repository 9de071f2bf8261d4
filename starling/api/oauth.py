"""OAuth 2.0 endpoints apps call directly: token, revoke, and the server metadata (RFC 8414).
Errors here have OAuth's own shape, {"error": code, "error_description": text}."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import unquote

from fastapi import APIRouter, Request

from starling.accounts import oauth, tokens
from starling.accounts.oauth import OAuthError
from starling.api.deps import Ctx, WriteSession
from starling.api.params import Params, body_params
from starling.api.responses import JSON
from starling.errors import StarlingError
from starling.safety.ratelimit import client_ip

router = APIRouter()

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _error(exc: OAuthError, *, basic: bool = False) -> JSON:
    headers = dict(NO_STORE)
    if exc.status == 401 and basic:
        headers["WWW-Authenticate"] = 'Basic realm="starling"'
    return JSON(exc.body(), status_code=exc.status, headers=headers)


def _basic_credentials(request: Request) -> tuple[str, str] | None:
    """client_secret_basic: id and secret, each form-urlencoded, in an HTTP Basic header."""
    header = request.headers.get("authorization", "")
    if header[:6].lower() != "basic ":
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return ("", "")
    client_id, _, secret = decoded.partition(":")
    return unquote(client_id.replace("+", " ")), unquote(secret.replace("+", " "))


async def _params(request: Request) -> Params:
    try:
        return await body_params(request, max_bytes=20_000)
    except StarlingError as exc:
        raise OAuthError("invalid_request", exc.message) from None


def _text(params: Params, name: str) -> str | None:
    try:
        return params.str(name, max_length=2_000)
    except StarlingError:
        raise OAuthError("invalid_request", f"The parameter {name} is malformed.") from None


async def _client(request: Request, session, params: Params):
    basic = _basic_credentials(request)
    if basic is not None:
        client_id, secret = basic
    else:
        client_id, secret = _text(params, "client_id"), _text(params, "client_secret")
    return await oauth.authenticate_client(session, client_id, secret)


def _uses_basic(request: Request) -> bool:
    return request.headers.get("authorization", "")[:6].lower() == "basic "


@router.post("/oauth/token")
async def token(request: Request, ctx: Ctx, session: WriteSession) -> JSON:
    basic = _uses_basic(request)
    try:
        params = await _params(request)
        app = await _client(request, session, params)
        grant = _text(params, "grant_type")
        scope = _text(params, "scope") or _text(params, "scopes")
        if grant == "authorization_code":
            issued = await oauth.redeem_authorization_code(
                session, app, code=_text(params, "code"), redirect_uri=_text(params, "redirect_uri"),
                code_verifier=_text(params, "code_verifier"))
        elif grant == "password":
            issued = await oauth.password_grant(
                session, ctx.settings, app, username=_text(params, "username"),
                password=_text(params, "password"), scope=scope,
                ip=client_ip(request))
        elif grant == "client_credentials":
            issued = await oauth.client_credentials_grant(session, app, scope=scope)
        elif not grant:
            raise OAuthError("invalid_request", "The request is missing a required parameter: grant_type.")
        else:
            raise OAuthError("unsupported_grant_type",
                             "The authorization grant type is not supported by the authorization server.")
    except OAuthError as exc:
        # Returned, not raised: what the failure itself wrote (a replayed code's revocations) commits.
        return _error(exc, basic=basic)
    return JSON(issued.body(), headers=NO_STORE)


@router.post("/oauth/revoke")
async def revoke(request: Request, session: WriteSession) -> JSON:
    basic = _uses_basic(request)
    try:
        params = await _params(request)
        app = await _client(request, session, params)
        await oauth.revoke(session, app, _text(params, "token"))
    except OAuthError as exc:
        return _error(exc, basic=basic)
    return JSON({}, headers=NO_STORE)


@router.get("/.well-known/oauth-authorization-server")
async def authorization_server_metadata(ctx: Ctx) -> JSON:
    base = ctx.settings.base_url
    grants = [g for g in oauth.GRANT_TYPES if g != "password" or ctx.settings.password_grant]
    return JSON({
        "issuer": f"{base}/",
        "service_documentation": "https://docs.joinmastodon.org/",
        "authorization_endpoint": f"{base}/oauth/authorize",
        "token_endpoint": f"{base}/oauth/token",
        "revocation_endpoint": f"{base}/oauth/revoke",
        "app_registration_endpoint": f"{base}/api/v1/apps",
        "scopes_supported": sorted(tokens.ALL_SCOPES),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": grants,
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
    })
