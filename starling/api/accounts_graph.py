"""Mastodon's account relationship routes: follow, unfollow, block, mute, notes, endorsements,
relationships, followers, following and familiar followers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from sqlalchemy import inspect

from starling import ids
from starling.api.accounts import MaybeReadAccounts
from starling.api.deps import Auth, Ctx, ReadSession, WriteSession, scoped
from starling.api.entities.account import account_entity
from starling.api.entities.relationship import relationship_entity
from starling.api.pagination import page_params, page_response
from starling.api.params import body_params, query_params
from starling.api.responses import JSON
from starling.errors import NotFound
from starling.graph import service as graph

router = APIRouter()

WriteFollows = Annotated[Auth, Depends(scoped("write:follows"))]
WriteBlocks = Annotated[Auth, Depends(scoped("write:blocks"))]
WriteMutes = Annotated[Auth, Depends(scoped("write:mutes"))]
ReadFollows = Annotated[Auth, Depends(scoped("read:follows"))]
WriteAccounts = Annotated[Auth, Depends(scoped("write:accounts"))]
ReadAccounts = Annotated[Auth, Depends(scoped("read:accounts"))]


def me(auth: Auth) -> int:
    """The acting account's ID, from its identity key: that outlives the session the token was
    resolved in, whose end expires the account's loaded attributes."""
    return inspect(auth.account).identity[0]


def maybe_me(auth: Auth | None) -> int | None:
    """The acting account's ID, or None for a logged-out request or an app's own token."""
    return me(auth) if auth is not None and auth.account is not None else None


def path_id(value: int) -> int:
    """An ID from the path (already digits via the int converter); too large for 64 bits is unknown."""
    parsed = ids.parse_id(value)
    if parsed is None:
        raise NotFound()
    return parsed


def id_list(values: list) -> list[int]:
    """Client-sent IDs (id[]=...), keeping the valid ones in order."""
    parsed = (ids.parse_id(x) if isinstance(x, str | int) else None for x in values)
    return [v for v in parsed if v is not None]


async def _relationship(session, viewer_id: int, target_id: int) -> JSON:
    return JSON(relationship_entity(await graph.relationship(session, viewer_id, target_id)))


@router.post("/api/v1/accounts/{account_id:int}/follow")
async def follow(account_id: int, request: Request, session: WriteSession, auth: WriteFollows) -> JSON:
    target = path_id(account_id)
    params = await body_params(request)
    await graph.follow(session, me(auth), target, reblogs=params.bool("reblogs"),
                       notify=params.bool("notify"))
    return await _relationship(session, me(auth), target)


@router.post("/api/v1/accounts/{account_id:int}/unfollow")
async def unfollow(account_id: int, session: WriteSession, auth: WriteFollows) -> JSON:
    target = path_id(account_id)
    await graph.unfollow(session, me(auth), target)
    return await _relationship(session, me(auth), target)


@router.post("/api/v1/accounts/{account_id:int}/endorse")
@router.post("/api/v1/accounts/{account_id:int}/pin")  # the name before Mastodon 4.4
async def endorse(account_id: int, session: WriteSession, auth: WriteAccounts) -> JSON:
    target = path_id(account_id)
    await graph.endorse(session, me(auth), target)
    return await _relationship(session, me(auth), target)


@router.post("/api/v1/accounts/{account_id:int}/unendorse")
@router.post("/api/v1/accounts/{account_id:int}/unpin")
async def unendorse(account_id: int, session: WriteSession, auth: WriteAccounts) -> JSON:
    target = path_id(account_id)
    await graph.endorse(session, me(auth), target, on=False)
    return await _relationship(session, me(auth), target)


@router.post("/api/v1/accounts/{account_id:int}/remove_from_followers")
async def remove_from_followers(account_id: int, session: WriteSession, auth: WriteFollows) -> JSON:
    target = path_id(account_id)
    await graph.remove_from_followers(session, me(auth), target)
    return await _relationship(session, me(auth), target)


@router.post("/api/v1/accounts/{account_id:int}/block")
async def block(account_id: int, session: WriteSession, auth: WriteBlocks) -> JSON:
    target = path_id(account_id)
    await graph.block(session, me(auth), target)
    return await _relationship(session, me(auth), target)


@router.post("/api/v1/accounts/{account_id:int}/unblock")
async def unblock(account_id: int, session: WriteSession, auth: WriteBlocks) -> JSON:
    target = path_id(account_id)
    await graph.unblock(session, me(auth), target)
    return await _relationship(session, me(auth), target)


@router.post("/api/v1/accounts/{account_id:int}/mute")
async def mute(account_id: int, request: Request, session: WriteSession, auth: WriteMutes) -> JSON:
    target = path_id(account_id)
    params = await body_params(request)
    await graph.mute(session, me(auth), target, notifications=params.bool("notifications", True),
                     duration=params.int("duration", 0))
    return await _relationship(session, me(auth), target)


@router.post("/api/v1/accounts/{account_id:int}/unmute")
async def unmute(account_id: int, session: WriteSession, auth: WriteMutes) -> JSON:
    target = path_id(account_id)
    await graph.unmute(session, me(auth), target)
    return await _relationship(session, me(auth), target)


@router.post("/api/v1/accounts/{account_id:int}/note")
async def note(account_id: int, request: Request, session: WriteSession,
               auth: Annotated[Auth, Depends(scoped("write:accounts"))]) -> JSON:
    """Set the caller's private note on an account (an empty `comment` clears it)."""
    target = path_id(account_id)
    params = await body_params(request)
    comment = params.str("comment", "", max_length=graph.NOTE_MAX) or ""
    return JSON(relationship_entity(await graph.set_note(session, me(auth), target, comment)))


@router.get("/api/v1/accounts/relationships")
async def relationships(request: Request, session: ReadSession, auth: ReadFollows) -> JSON:
    params = query_params(request)
    rels = await graph.lookup_relationships(session, me(auth), id_list(params.list("id")),
                                            with_suspended=bool(params.bool("with_suspended", False)))
    return JSON([relationship_entity(r) for r in rels])


@router.get("/api/v1/accounts/familiar_followers")
async def familiar_followers(request: Request, session: ReadSession, ctx: Ctx, auth: ReadFollows) -> JSON:
    # Some clients (Mastodon.py) send the ids as a JSON body even on this GET.
    params = await body_params(request, max_bytes=20_000)
    groups = await graph.familiar_followers(session, me(auth), id_list(params.list("id")))
    return JSON([{"id": str(target), "accounts": [account_entity(ctx, a) for a in found]}
                 for target, found in groups])


def _account_page(request: Request, ctx, rows) -> JSON:
    return page_response(request, [account_entity(ctx, account) for _, account in rows], [key for key, _ in rows])


@router.get("/api/v1/accounts/{account_id:int}/followers")
async def followers(account_id: int, request: Request, session: ReadSession, ctx: Ctx,
                    auth: MaybeReadAccounts) -> JSON:
    viewer = maybe_me(auth)
    rows = await graph.followers(session, path_id(account_id), viewer, page_params(request, 40, 80))
    return _account_page(request, ctx, rows)


@router.get("/api/v1/accounts/{account_id:int}/following")
async def following(account_id: int, request: Request, session: ReadSession, ctx: Ctx,
                    auth: MaybeReadAccounts) -> JSON:
    viewer = maybe_me(auth)
    rows = await graph.following(session, path_id(account_id), viewer, page_params(request, 40, 80))
    return _account_page(request, ctx, rows)


@router.get("/api/v1/endorsements")
async def own_endorsements(request: Request, session: ReadSession, ctx: Ctx, auth: ReadAccounts) -> JSON:
    rows = await graph.endorsed(session, me(auth), me(auth), page_params(request, 40, 80))
    return _account_page(request, ctx, rows)


@router.get("/api/v1/accounts/{account_id:int}/endorsements")
async def endorsements(account_id: int, request: Request, session: ReadSession, ctx: Ctx,
                       auth: MaybeReadAccounts) -> JSON:
    viewer = maybe_me(auth)
    rows = await graph.endorsed(session, path_id(account_id), viewer, page_params(request, 40, 80))
    return _account_page(request, ctx, rows)
