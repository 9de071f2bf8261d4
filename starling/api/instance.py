"""What the instance says about itself: the Instance entities, and the discovery documents other
software reads (nodeinfo, WebFinger, host-meta)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

import starling
from starling.accounts import instance as instance_settings
from starling.accounts import service
from starling.api.deps import Ctx, OptionalAuth, ReadSession
from starling.api.entities.account import account_entity
from starling.api.entities.instance import instance_v1, instance_v2
from starling.api.pagination import page_params
from starling.api.params import query_params
from starling.api.responses import JSON
from starling.context import AppContext
from starling.errors import BadRequest, Forbidden, NotFound
from starling.safety import readcap

router = APIRouter()

# Deeper than this the directory stops (an offset walk costs more the further it goes).
MAX_DIRECTORY_OFFSET = 10_000

NODEINFO_SCHEMA = "http://nodeinfo.diaspora.software/ns/schema/2.0"


async def _facts(session, ctx: AppContext):
    options = await instance_settings.get_instance_settings(session, ctx.settings)
    stats = await service.instance_stats(session)
    admin = await service.contact_account(session)
    return options, stats, account_entity(ctx, admin) if admin is not None else None


@router.get("/api/v2/instance")
async def instance(ctx: Ctx, session: ReadSession) -> JSON:
    return JSON(instance_v2(ctx, *await _facts(session, ctx)))


@router.get("/api/v1/instance")
async def instance_legacy(ctx: Ctx, session: ReadSession) -> JSON:
    return JSON(instance_v1(ctx, *await _facts(session, ctx)))


@router.get("/api/v1/instance/peers")
async def peers() -> JSON:
    return JSON([])  # no federation yet


@router.get("/api/v1/instance/rules")
async def rules() -> JSON:
    return JSON([])


@router.get("/api/v1/instance/activity")
async def activity(session: ReadSession) -> JSON:
    return JSON(await service.weekly_activity(session))


@router.get("/api/v1/instance/extended_description")
async def extended_description(ctx: Ctx, session: ReadSession) -> JSON:
    options = await instance_settings.get_instance_settings(session, ctx.settings)
    return JSON({"updated_at": None, "content": options.description})


@router.get("/api/v1/instance/translation_languages")
async def translation_languages() -> JSON:
    """Starling has no translation service: no language pairs (what Mastodon answers without one)."""
    return JSON({})


@router.get("/api/v1/directory")
async def directory(request: Request, ctx: Ctx, session: ReadSession, auth: OptionalAuth) -> JSON:
    """The profile directory (offset-paginated, as in Mastodon). A token, if sent, must be able to read
    accounts; logged out, it follows the instance's choice for public timelines."""
    if auth is None:
        readcap.allow_logged_out_public(ctx.settings)
    elif not auth.has("read:accounts"):
        raise Forbidden("This action is outside the authorized scopes")
    params = query_params(request)
    limit = page_params(request, 40, 80).limit
    offset = max(0, min(params.int("offset", 0) or 0, MAX_DIRECTORY_OFFSET))
    found = await service.directory(session, viewer_id=auth.account_id if auth is not None else None,
                                    order=params.str("order", "active", max_length=20) or "active",
                                    limit=limit, offset=offset)
    return JSON([account_entity(ctx, account) for account in found])


@router.get("/api/v1/custom_emojis")
async def custom_emojis() -> JSON:
    return JSON([])


@router.get("/.well-known/nodeinfo")
async def nodeinfo_links(ctx: Ctx) -> JSON:
    return JSON({"links": [{"rel": NODEINFO_SCHEMA, "href": f"{ctx.settings.base_url}/nodeinfo/2.0"}]})


@router.get("/nodeinfo/2.0")
async def nodeinfo(ctx: Ctx, session: ReadSession) -> JSON:
    options, stats, _ = await _facts(session, ctx)
    body = {
        "version": "2.0",
        "software": {"name": "starling", "version": starling.__version__},
        "protocols": [],  # Starling does not federate yet; claiming activitypub would invite deliveries
        "services": {"outbound": [], "inbound": []},
        "usage": {"users": {"total": stats.users, "activeMonth": stats.active_month},
                  "localPosts": stats.statuses},
        "openRegistrations": options.registrations_open,
        "metadata": {"nodeName": options.title, "nodeDescription": options.description},
    }
    return JSON(body, headers={"Content-Type": f'application/json; profile="{NODEINFO_SCHEMA}#"'})


def _webfinger_username(ctx: AppContext, resource: str) -> str | None:
    """The local username a WebFinger resource names: acct:user@domain or the profile's URL."""
    if resource.lower().startswith("acct:"):
        handle = resource[5:]
        if "@" not in handle.lstrip("@"):
            return None
        return service.local_username(ctx.settings, handle)
    base = ctx.settings.base_url
    for prefix in (f"{base}/@", f"{base}/users/"):
        if resource.startswith(prefix):
            return service.local_username(ctx.settings, resource[len(prefix):])
    return None


# WebFinger and host-meta answer in their own media types (JRD, XRD); they are discovery documents, not
# part of the REST API the OpenAPI document describes.
@router.get("/.well-known/webfinger", include_in_schema=False)
async def webfinger(request: Request, ctx: Ctx, session: ReadSession) -> Response:
    resource = query_params(request).str("resource", "", max_length=500) or ""
    if not resource:
        raise BadRequest("The resource parameter is required")
    username = _webfinger_username(ctx, resource)
    account = await service.lookup(session, ctx.settings, username) if username else None
    if account is None or not account.usable:
        raise NotFound()
    base = ctx.settings.base_url
    profile = f"{base}/@{account.username}"
    return JSON({
        "subject": f"acct:{account.username}@{ctx.settings.domain}",
        "aliases": [profile, f"{base}/users/{account.username}"],
        "links": [{"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": profile}],
    }, headers={"Content-Type": "application/jrd+json; charset=utf-8", "Access-Control-Allow-Origin": "*"})


@router.get("/.well-known/host-meta", include_in_schema=False)
async def host_meta(ctx: Ctx) -> Response:
    template = f"{ctx.settings.base_url}/.well-known/webfinger?resource={{uri}}"
    xml = ('<?xml version="1.0" encoding="UTF-8"?>\n'
           '<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">\n'
           f'  <Link rel="lrdd" template="{template}"/>\n'
           "</XRD>\n")
    return Response(xml, media_type="application/xrd+xml; charset=utf-8")
