"""Rendering pages: Jinja2 with autoescaping, the filters every page uses (relative times, counts), and
the headers every HTML response carries."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.responses import HTMLResponse

from starling import clock

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"

_env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                   trim_blocks=True, lstrip_blocks=True)

# Scripts only from our own static folder (htmx and starling.js; no inline script, no eval), and the
# pages may not be framed (a consent page in a frame is a clickjacking target). No form-action: it would
# stop the browser following the OAuth redirect to an app's custom scheme. blob: lets the compose box
# preview an image before it is uploaded.
def content_security_policy(media_origin: str = "") -> str:
    """The pages' CSP; `media_origin` (the configured base URL) is where avatars and media are linked
    from, which differs from 'self' when the site is opened under another name (127.0.0.1 vs localhost)."""
    images = f"'self' {media_origin} data: blob:" if media_origin else "'self' data: blob:"
    return (f"default-src 'none'; script-src 'self'; style-src 'self'; img-src {images}; connect-src 'self'; "
            "frame-ancestors 'none'; base-uri 'none'")


PAGE_HEADERS = {
    "Content-Security-Policy": content_security_policy(),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def _parse(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str) and value:
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def relative_time(value: Any) -> str:
    """"5m", "3h", "2d", or the date for anything older than a week (as timelines usually show it)."""
    moment = _parse(value)
    if moment is None:
        return ""
    seconds = int((clock.utcnow_naive().replace(tzinfo=UTC) - moment).total_seconds())
    if seconds < 60:
        return "now" if seconds < 10 else f"{max(seconds, 0)}s"
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h"
    if seconds < 7 * 86400:
        return f"{seconds // 86400}d"
    return moment.strftime("%-d %b %Y")


def iso_time(value: Any) -> str:
    moment = _parse(value)
    return moment.isoformat().replace("+00:00", "Z") if moment else ""


def exact_time(value: Any) -> str:
    moment = _parse(value)
    return moment.strftime("%-d %B %Y, %H:%M UTC") if moment else ""


def compact_count(value: Any) -> str:
    """1234 → "1.2K": counts in buttons and profile headers stay short."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return "0"
    for limit, suffix in ((1_000_000, "M"), (1_000, "K")):
        if number >= limit:
            text = f"{number / limit:.1f}".rstrip("0").rstrip(".")
            return f"{text}{suffix}"
    return str(number)


_env.filters.update(reltime=relative_time, isotime=iso_time, exacttime=exact_time, count=compact_count)


def render_text(template: str, context: dict[str, Any]) -> str:
    return _env.get_template(template).render(**context)


def render(template: str, context: dict[str, Any], *, status_code: int = 200, no_store: bool = False
           ) -> HTMLResponse:
    """A page from `template`; `no_store` for pages holding secrets or one-time tokens."""
    headers = dict(PAGE_HEADERS)
    if no_store:
        headers["Cache-Control"] = "no-store"
        headers["Pragma"] = "no-cache"
    return HTMLResponse(render_text(template, context), status_code=status_code, headers=headers)
