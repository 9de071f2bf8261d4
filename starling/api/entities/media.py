"""The Mastodon MediaAttachment entity."""

from __future__ import annotations

from starling.context import AppContext
from starling.media.models import MediaAttachment


def _dimensions(width: int, height: int) -> dict:
    return {"width": width, "height": height, "size": f"{width}x{height}",
            "aspect": round(width / height, 6) if height else 0}


def media_entity(ctx: AppContext, media: MediaAttachment) -> dict:
    return {
        "id": str(media.id),
        "type": media.type,
        "url": ctx.storage.url(media.file_key),
        "preview_url": ctx.storage.url(media.preview_key),
        "remote_url": None,
        "preview_remote_url": None,
        "text_url": None,
        "meta": {
            "original": _dimensions(media.width, media.height),
            "small": _dimensions(media.preview_width, media.preview_height),
            "focus": {"x": media.focus_x, "y": media.focus_y},
        },
        "description": media.description or None,
        "blurhash": media.blurhash,
    }
