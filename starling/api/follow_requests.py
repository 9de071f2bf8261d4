"""Mastodon's follow request routes: list the requests waiting on you, authorize or reject one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from starling.api.accounts_graph import me, path_id
from starling.api.deps import Auth, Ctx, ReadSession, WriteSession, scoped
from starling.api.entities.account import account_entity
from starling.api.entities.relationship import relationship_entity
from starling.api.pagination import page_params, page_response
from starling.api.responses import JSON
from starling.graph import service as graph

router = APIRouter()


@router.get("/api/v1/follow_requests")
async def list_requests(request: Request, session: ReadSession, ctx: Ctx,
                        auth: Annotated[Auth, Depends(scoped("read:follows"))]) -> JSON:
    rows = await graph.follow_requests(session, me(auth), page_params(request, 40, 80))
    return page_response(request, [account_entity(ctx, account) for _, account in rows], [key for key, _ in rows])


@router.post("/api/v1/follow_requests/{account_id:int}/authorize")
async def authorize(account_id: int, session: WriteSession,
                    auth: Annotated[Auth, Depends(scoped("write:follows"))]) -> JSON:
    requester = path_id(account_id)
    await graph.authorize_request(session, me(auth), requester)
    return JSON(relationship_entity(await graph.relationship(session, me(auth), requester)))


@router.post("/api/v1/follow_requests/{account_id:int}/reject")
async def reject(account_id: int, session: WriteSession,
                 auth: Annotated[Auth, Depends(scoped("write:follows"))]) -> JSON:
    requester = path_id(account_id)
    await graph.reject_request(session, me(auth), requester)
    return JSON(relationship_entity(await graph.relationship(session, me(auth), requester)))
