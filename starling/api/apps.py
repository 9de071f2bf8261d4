"""Client applications: registration and checking an app's own credentials."""

from __future__ import annotations

from fastapi import APIRouter, Request

from starling.accounts import oauth, policy, tokens
from starling.api.deps import OptionalAuth, ReadSession, WriteSession
from starling.api.entities.application import application_entity
from starling.api.params import body_params
from starling.api.responses import JSON
from starling.errors import NotFound, Unauthorized, Unprocessable

router = APIRouter()


@router.post("/api/v1/apps")
async def create_app(request: Request, session: WriteSession) -> JSON:
    """Public: any client may register; the secret is returned this once."""
    params = await body_params(request)
    raw_uris = params.get("redirect_uris", params.get("redirect_uri"))
    if isinstance(raw_uris, dict):
        raw_uris = list(raw_uris.values())
    scopes_raw = params.get("scopes")
    if isinstance(scopes_raw, list):
        scopes_raw = " ".join(s for s in scopes_raw if isinstance(s, str))
    elif scopes_raw is not None and not isinstance(scopes_raw, str):
        raise Unprocessable("Validation failed: Scopes must be a string")
    try:
        scopes = tokens.parse_scopes(scopes_raw or None, default="read")
    except ValueError as exc:
        raise Unprocessable(f"Validation failed: Scopes are invalid ({exc})") from None
    app, secret = await oauth.create_application(
        session, name=params.str("client_name", "", max_length=1_000) or "",
        redirect_uris=policy.split_redirect_uris(raw_uris), scopes=scopes,
        website=params.str("website", max_length=2_000) or None)
    return JSON(application_entity(app, client_secret=secret))


@router.get("/api/v1/apps/verify_credentials")
async def verify_app_credentials(auth: OptionalAuth, session: ReadSession) -> JSON:
    """Any valid token of the app, user or app-level, may ask."""
    if auth is None:
        raise Unauthorized("The access token is invalid")
    app = await oauth.application(session, auth.application_id) if auth.application_id else None
    if app is None:
        raise NotFound()
    return JSON(application_entity(app))
