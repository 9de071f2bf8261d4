"""The Mastodon Tag entity (a hashtag with its last week of use)."""

from __future__ import annotations

from urllib.parse import quote

from starling.context import AppContext
from starling.posts.models import Tag
from starling.search.trends import DayUse


def tag_entity(ctx: AppContext, tag: Tag, history: list[DayUse], *, signed_in: bool,
               following: bool = False) -> dict:
    """`signed_in` adds what only a signed-in viewer is told (following, featuring)."""
    entity = {
        "id": str(tag.id) if tag.id is not None else "",
        "name": tag.display_name or tag.name,
        "url": f"{ctx.settings.base_url}/tags/{quote(tag.name)}",
        "history": [{"day": str(d.day), "uses": str(d.uses), "accounts": str(d.accounts)} for d in history],
    }
    if signed_in:
        entity["following"] = following
        entity["featuring"] = False
    return entity
