"""Mastodon's follow suggestions: v1 (accounts), v2 (accounts with their source), and dismissing one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from starling.api.accounts_graph import me, path_id
from starling.api.deps import Auth, Ctx, ReadSession, WriteSession, scoped
from starling.api.entities.account import account_entity
from starling.api.pagination import page_params
from starling.api.responses import JSON
from starling.graph import service as graph

router = APIRouter()

# Mastodon asks for the top-level `read` scope on all three routes.
ReadAuth = Annotated[Auth, Depends(scoped("read"))]
SOURCE = "global"  # the most followed discoverable accounts (graph.service.suggestions)


@router.get("/api/v1/suggestions")
async def suggestions_v1(request: Request, session: ReadSession, ctx: Ctx, auth: ReadAuth) -> JSON:
    found = await graph.suggestions(session, me(auth), page_params(request, 40, 80).limit)
    return JSON([account_entity(ctx, account) for account in found])


@router.get("/api/v2/suggestions")
async def suggestions_v2(request: Request, session: ReadSession, ctx: Ctx, auth: ReadAuth) -> JSON:
    found = await graph.suggestions(session, me(auth), page_params(request, 40, 80).limit)
    return JSON([{"source": SOURCE, "sources": ["most_followed"],
                  "account": account_entity(ctx, account)} for account in found])


@router.delete("/api/v1/suggestions/{account_id:int}")
async def dismiss(account_id: int, session: WriteSession, auth: ReadAuth) -> JSON:
    await graph.dismiss_suggestion(session, me(auth), path_id(account_id))
    return JSON({})
