"""Rendering pages: Jinja2 with autoescaping, and the headers every HTML response carries."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.responses import HTMLResponse

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"

_env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                   trim_blocks=True, lstrip_blocks=True)

# Pages carry no scripts and may not be framed (a consent page in a frame is a clickjacking target).
# No form-action: it would stop the browser following a redirect to an app's custom scheme.
PAGE_HEADERS = {
    "Content-Security-Policy": ("default-src 'none'; style-src 'self'; img-src 'self' data:; "
                                "frame-ancestors 'none'; base-uri 'none'"),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def render(template: str, context: dict[str, Any], *, status_code: int = 200, no_store: bool = False
           ) -> HTMLResponse:
    """A page from `template`; `no_store` for pages holding secrets or one-time tokens."""
    headers = dict(PAGE_HEADERS)
    if no_store:
        headers["Cache-Control"] = "no-store"
        headers["Pragma"] = "no-cache"
    body = _env.get_template(template).render(**context)
    return HTMLResponse(body, status_code=status_code, headers=headers)
