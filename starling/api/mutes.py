"""Mastodon's list of the accounts you mute, each with when its mute ends."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from starling import clock
from starling.api.accounts_graph import me
from starling.api.deps import Auth, Ctx, ReadSession, scoped
from starling.api.entities.account import account_entity
from starling.api.pagination import page_params, page_response
from starling.api.responses import JSON
from starling.graph import service as graph

router = APIRouter()


@router.get("/api/v1/mutes")
async def list_mutes(request: Request, session: ReadSession, ctx: Ctx,
                     auth: Annotated[Auth, Depends(scoped("read:mutes"))]) -> JSON:
    rows = await graph.muted_accounts(session, me(auth), page_params(request, 40, 80))
    return page_response(request, [account_entity(ctx, account) | {"mute_expires_at": clock.iso(mute.expires_at)}
                                   for _, mute, account in rows], [row[0] for row in rows])
