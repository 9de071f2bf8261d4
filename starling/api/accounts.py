"""Accounts: registration, one's own credentials and profile, looking accounts up, preferences."""

from __future__ import annotations

import inspect
from datetime import UTC
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from starling import ids
from starling.accounts import instance as instance_settings
from starling.accounts import oauth, policy, service
from starling.accounts.models import Account
from starling.accounts.service import ProfileChanges
from starling.api.deps import Auth, Ctx, OptionalAuth, ReadSession, WriteSession, scoped
from starling.api.entities.account import account_entity
from starling.api.params import Params, body_params, query_params
from starling.api.responses import JSON
from starling.context import AppContext
from starling.errors import Forbidden, NotFound, TooLarge, Unprocessable
from starling.media import service as media
from starling.safety.ratelimit import client_ip

router = APIRouter()

TEXT_GUARD = 10_000  # far above every real limit: refuses absurd input before any rule runs
BATCH_MAX = 40


async def _credential_entity(session, ctx: AppContext, account: Account) -> dict:
    entity = account_entity(ctx, account, source=True)
    entity["source"]["follow_requests_count"] = await service.follow_requests_count(session, account.id)
    return entity


async def _if_token_reads_accounts(auth: OptionalAuth) -> Auth | None:
    """Anyone may read accounts, but a token, when sent, must hold read:accounts (Mastodon's
    authorize_if_got_token!): 403 for a token that lacks it, rather than answering as if logged out."""
    if auth is not None and not auth.has("read:accounts"):
        raise Forbidden("This action is outside the authorized scopes")
    return auth


MaybeReadAccounts = Annotated[Auth | None, Depends(_if_token_reads_accounts)]


def _visible(account: Account | None) -> Account:
    """Accounts awaiting approval do not exist to others yet; suspended ones show their suspended shape."""
    if account is None or not account.approved:
        raise NotFound()
    return account


@router.post("/api/v1/accounts")
async def register(request: Request, ctx: Ctx, session: WriteSession,
                   auth: Annotated[Auth, Depends(scoped("write:accounts", user=False))]) -> JSON:
    """Sign-up with an app token; returns a token for the new account."""
    if auth.application_id is None:
        raise Forbidden("This method requires an app token")
    app = await oauth.application(session, auth.application_id)
    if app is None:
        raise Forbidden("This method requires an app token")
    params = await body_params(request)
    options = await instance_settings.get_instance_settings(session, ctx.settings)
    account, raw, scopes = await service.register(
        session, options, application=app,
        username=params.str("username", "", max_length=TEXT_GUARD) or "",
        email=params.str("email", "", max_length=TEXT_GUARD) or "",
        password=params.str("password", "", max_length=TEXT_GUARD) or "",
        agreement=bool(params.bool("agreement", False)),
        locale=params.str("locale", max_length=20),
        reason=params.str("reason", "", max_length=TEXT_GUARD) or "",
        invite_code=params.str("invite_code", "", max_length=200) or "", ip=client_ip(request),
        pow_challenge=params.str("pow_challenge", max_length=500),
        pow_nonce=params.str("pow_nonce", max_length=100))
    return JSON({"access_token": raw, "token_type": "Bearer", "scope": scopes,
                 "created_at": int(account.created_at.replace(tzinfo=UTC).timestamp())})


@router.get("/api/v1/accounts/verify_credentials")
async def verify_credentials(ctx: Ctx, session: ReadSession,
                             auth: Annotated[Auth, Depends(scoped("read:accounts", "profile"))]) -> JSON:
    return JSON(await _credential_entity(session, ctx, auth.account))


def _fields(raw: Any) -> list[dict[str, str]] | None:
    """fields_attributes as a hash keyed by any index (in the order given) or as an array."""
    if raw is None:
        return None
    items = list(raw.values()) if isinstance(raw, dict) else raw if isinstance(raw, list) else None
    if items is None:
        raise Unprocessable("Validation failed: fields_attributes must be a hash or an array")
    fields = []
    for item in items[:50]:
        if not isinstance(item, dict):
            raise Unprocessable("Validation failed: each field needs a name and a value")
        entry = Params(item)
        name = (entry.str("name", "", max_length=TEXT_GUARD) or "").strip()
        value = (entry.str("value", "", max_length=TEXT_GUARD) or "").strip()
        if name or value:
            fields.append({"name": name, "value": value})
    return fields


async def _read_upload(ctx: AppContext, upload: UploadFile) -> bytes:
    data = await upload.read(ctx.settings.media_max_bytes + 1)
    if len(data) > ctx.settings.media_max_bytes:
        raise TooLarge("File is too large")
    return data


async def _store_image(ctx: AppContext, data: bytes, kind: str) -> str:
    """Hand the upload to the media capability (it decodes, strips and resizes; CPU work off the loop)."""
    if inspect.iscoroutinefunction(media.store_profile_image):
        return await media.store_profile_image(ctx, data, kind)
    return await run_in_threadpool(media.store_profile_image, ctx, data, kind)


def _domains(params: Params) -> list[str] | None:
    """`attribution_domains[]` (a list; an empty string clears it), None when not sent."""
    raw = params.get("attribution_domains")
    if raw is None:
        return None
    # Read whole (Params.list stops at 100 items), so that one too many is refused rather than dropped.
    if isinstance(raw, dict):  # attribution_domains[0]=a&attribution_domains[1]=b
        raw = [raw[k] for k in sorted(raw, key=lambda k: (len(k), k))]
    items = raw if isinstance(raw, list) else [raw]
    values = [v[:TEXT_GUARD] for v in items[:policy.ATTRIBUTION_DOMAINS_MAX + 1] if isinstance(v, str)]
    return service.normalize_domains(values)


@router.patch("/api/v1/accounts/update_credentials")
async def update_credentials(request: Request, ctx: Ctx, session: WriteSession,
                             auth: Annotated[Auth, Depends(scoped("write:accounts"))]) -> JSON:
    params = await body_params(request, max_bytes=ctx.settings.max_body_bytes)
    source = Params(params.dict("source"))
    changes = ProfileChanges(
        display_name=params.str("display_name", max_length=TEXT_GUARD),
        note=params.str("note", max_length=TEXT_GUARD),
        locked=params.bool("locked"), bot=params.bool("bot"), discoverable=params.bool("discoverable"),
        indexable=params.bool("indexable"), hide_collections=params.bool("hide_collections"),
        fields=_fields(params.get("fields_attributes")),
        avatar_description=params.str("avatar_description", max_length=TEXT_GUARD),
        header_description=params.str("header_description", max_length=TEXT_GUARD),
        privacy=source.str("privacy", max_length=20), sensitive=source.bool("sensitive"),
        language=source.str("language", max_length=20), quote_policy=source.str("quote_policy", max_length=20),
        attribution_domains=_domains(params))
    service.check_profile_changes(changes)
    uploads = {kind: params.file(kind) for kind in ("avatar", "header")}
    blobs = {kind: await _read_upload(ctx, up) for kind, up in uploads.items() if up is not None}
    for kind, data in blobs.items():
        key = await _store_image(ctx, data, kind)
        setattr(changes, f"{kind}_key", key)
    account = await service.update_profile(session, auth.account.id, changes, settings=ctx.settings)
    return JSON(await _credential_entity(session, ctx, account))


@router.delete("/api/v1/profile/{kind}")
async def remove_profile_image(kind: str, ctx: Ctx, session: WriteSession,
                               auth: Annotated[Auth, Depends(scoped("write:accounts"))]) -> JSON:
    """Mastodon 4.2's DELETE /api/v1/profile/avatar and /header: back to the default image."""
    account = await service.remove_profile_image(session, auth.account.id, kind)
    return JSON(await _credential_entity(session, ctx, account))


@router.get("/api/v1/accounts/lookup")
async def lookup(request: Request, ctx: Ctx, session: ReadSession, auth: MaybeReadAccounts) -> JSON:
    acct = query_params(request).str("acct", "", max_length=400) or ""
    account = _visible(await service.lookup(session, ctx.settings, acct))
    return JSON(account_entity(ctx, account))


@router.get("/api/v1/accounts/search")
async def search(request: Request, ctx: Ctx, session: ReadSession,
                 auth: Annotated[Auth, Depends(scoped("read:accounts"))]) -> JSON:
    q = query_params(request)
    limit = max(1, min(q.int("limit", 40) or 40, 80))
    offset = max(0, min(q.int("offset", 0) or 0, 10_000))
    following = bool(q.bool("following", False))
    q.bool("resolve", False)  # validated for shape; there is nothing remote to resolve
    accounts = await service.search(session, q.str("q", "", max_length=400) or "", viewer_id=auth.account.id,
                                    limit=limit, offset=offset, following_only=following)
    return JSON([account_entity(ctx, a) for a in accounts])


@router.get("/api/v1/accounts")
async def accounts_batch(request: Request, ctx: Ctx, session: ReadSession, auth: MaybeReadAccounts) -> JSON:
    """Several accounts at once (`id[]`), in the order asked, skipping unknown ones."""
    wanted = [ids.parse_id(raw) for raw in query_params(request).list("id")][:BATCH_MAX]
    found = await service.accounts_by_ids(session, [i for i in wanted if i is not None])
    seen: set[int] = set()
    out = []
    for account_id in wanted:
        account = found.get(account_id) if account_id is not None else None
        if account is not None and account.approved and account_id not in seen:
            seen.add(account_id)
            out.append(account_entity(ctx, account))
    return JSON(out)


@router.get("/api/v1/accounts/{account_id:int}")
async def show(account_id: int, ctx: Ctx, session: ReadSession, auth: MaybeReadAccounts) -> JSON:
    if account_id >= 2**63:
        raise NotFound()
    account = _visible(await service.account(session, account_id))
    return JSON(account_entity(ctx, account))


@router.get("/api/v1/preferences")
async def preferences(session: ReadSession,
                      auth: Annotated[Auth, Depends(scoped("read:accounts"))]) -> JSON:
    account = auth.account
    return JSON({
        "posting:default:visibility": account.default_privacy,
        "posting:default:sensitive": bool(account.default_sensitive),
        "posting:default:language": account.default_language,
        "reading:expand:media": "default",
        "reading:expand:spoilers": False,
    })
