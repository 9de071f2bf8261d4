"""The Mastodon List entity."""

from __future__ import annotations

from starling.timelines.models import List


def list_entity(lst: List) -> dict:
    return {"id": str(lst.id), "title": lst.title, "replies_policy": lst.replies_policy,
            "exclusive": bool(lst.exclusive)}
