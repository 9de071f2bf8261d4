"""Mastodon's list of the accounts you block."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from starling.api.accounts_graph import me
from starling.api.deps import Auth, Ctx, ReadSession, scoped
from starling.api.entities.account import account_entity
from starling.api.pagination import page_params, page_response
from starling.api.responses import JSON
from starling.graph import service as graph

router = APIRouter()


@router.get("/api/v1/blocks")
async def list_blocks(request: Request, session: ReadSession, ctx: Ctx,
                      auth: Annotated[Auth, Depends(scoped("read:blocks"))]) -> JSON:
    rows = await graph.blocked_accounts(session, me(auth), page_params(request, 40, 80))
    return page_response(request, [account_entity(ctx, account) for _, account in rows], [key for key, _ in rows])
