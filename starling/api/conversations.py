"""Mastodon's direct conversations: the list, mark one read, remove one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from starling.api.accounts_graph import path_id
from starling.api.deps import Auth, Ctx, ReadSession, WriteSession, scoped
from starling.api.entities.account import account_entity
from starling.api.entities.status import status_entities
from starling.api.pagination import page_params, page_response
from starling.api.responses import JSON
from starling.context import AppContext
from starling.conversations import service as conversations
from starling.conversations.service import ConversationView

router = APIRouter()

ReadConversations = Annotated[Auth, Depends(scoped("read:statuses"))]
WriteConversations = Annotated[Auth, Depends(scoped("write:conversations"))]


async def conversation_entities(session: AsyncSession, ctx: AppContext, views: list[ConversationView],
                                viewer_id: int) -> list[dict]:
    """Mastodon's Conversation entity for each view; the page's statuses are rendered together."""
    shown = [v.last_status for v in views if v.last_status is not None]
    rendered = dict(zip((s.id for s in shown), await status_entities(session, ctx, shown, viewer_id),
                        strict=True))
    return [{"id": str(v.row.id), "unread": bool(v.row.unread),
             "accounts": [account_entity(ctx, a) for a in v.accounts],
             "last_status": rendered.get(v.row.last_status_id)}
            for v in views]


@router.get("/api/v1/conversations")
async def index(request: Request, session: ReadSession, ctx: Ctx, auth: ReadConversations) -> JSON:
    views = await conversations.list_conversations(session, auth.account_id, page_params(request, maximum=40))
    entities = await conversation_entities(session, ctx, views, auth.account_id)
    return page_response(request, entities, [v.row.last_status_id for v in views])


@router.post("/api/v1/conversations/{conversation_id:int}/read")
async def read(conversation_id: int, session: WriteSession, ctx: Ctx, auth: WriteConversations) -> JSON:
    view = await conversations.mark_read(session, auth.account_id, path_id(conversation_id))
    return JSON((await conversation_entities(session, ctx, [view], auth.account_id))[0])


@router.delete("/api/v1/conversations/{conversation_id:int}")
async def remove(conversation_id: int, session: WriteSession, auth: WriteConversations) -> JSON:
    await conversations.remove(session, auth.account_id, path_id(conversation_id))
    return JSON({})
