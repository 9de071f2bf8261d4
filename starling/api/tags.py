"""Hashtags: one tag with its last week of use."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from starling.api.deps import Auth, Ctx, OptionalAuth, ReadSession, scoped
from starling.api.entities.tag import tag_entity
from starling.api.responses import JSON
from starling.errors import NotFound
from starling.posts.models import Tag
from starling.search import service as search
from starling.search.trends import tag_histories

router = APIRouter()


@router.get("/api/v1/tags/{name}")
async def show(name: str, session: ReadSession, ctx: Ctx, auth: OptionalAuth) -> JSON:
    normalized = search.normalize_tag(name)
    if normalized is None:
        raise NotFound()
    tag = await search.tag_named(session, normalized)
    if tag is None:  # a valid name nobody used yet: Mastodon still describes it
        tag = Tag(id=None, name=normalized, display_name=name.strip().lstrip("#"))
    key = tag.id or 0  # no tag has ID 0: an unused name gets a week of zeros
    history = (await tag_histories(session, [key]))[key]
    signed_in = auth is not None and auth.account is not None
    return JSON(tag_entity(ctx, tag, history, signed_in=signed_in))


@router.get("/api/v1/followed_tags")
async def followed_tags(auth: Annotated[Auth, Depends(scoped("read:follows"))]) -> JSON:
    """Following hashtags is not supported yet, so nobody follows any."""
    return JSON([])
