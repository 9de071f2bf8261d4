"""The JSON response every API route returns: orjson-encoded, no second pass over the content."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import JSONResponse


class JSON(JSONResponse):
    media_type = "application/json"  # JSON is UTF-8 by definition (RFC 8259); no charset parameter

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def error_body(status: int, message: str, details: dict | None = None) -> JSON:
    """Mastodon's error shape: {"error": "..."} (with per-field details on validation errors)."""
    body: dict = {"error": message}
    if details:
        body["details"] = details
    return JSON(body, status_code=status)
