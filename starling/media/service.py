"""Media: decode, strip, resize, preview and blurhash uploaded images; attach them to statuses."""

from __future__ import annotations

from starling.context import AppContext


def store_profile_image(ctx: AppContext, data: bytes, kind: str) -> str:
    """Process an avatar or header upload and return its storage key. Raises Unprocessable on bad images."""
    raise NotImplementedError("being built by the media work")
