"""Mastodon pagination: max_id / since_id / min_id / limit in, a Link header out. Every list uses it."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from fastapi import Request, Response
from sqlalchemy import Select

from starling import ids
from starling.api.responses import JSON


@dataclass(frozen=True)
class Page:
    max_id: int | None = None
    since_id: int | None = None
    min_id: int | None = None
    limit: int = 20

    def apply(self, stmt: Select, column) -> Select:
        """Filter and order `stmt` by `column` (an ID-like, time-sortable column)."""
        if self.max_id is not None:
            stmt = stmt.where(column < self.max_id)
        if self.since_id is not None:
            stmt = stmt.where(column > self.since_id)
        if self.min_id is not None:
            return stmt.where(column > self.min_id).order_by(column.asc()).limit(self.limit)
        return stmt.order_by(column.desc()).limit(self.limit)

    def order(self, rows: list, key=lambda row: row) -> list:
        """Rows fetched with `apply` come back newest first, as clients expect."""
        return sorted(rows, key=key, reverse=True) if self.min_id is not None else rows


def page_params(request: Request, default: int = 20, maximum: int | None = None) -> Page:
    """The page a list request asks for. A limit beyond the maximum is clamped, as Mastodon does."""
    maximum = maximum or request.app.state.ctx.settings.max_page_limit
    q = request.query_params
    raw_limit = q.get("limit")
    try:
        limit = int(raw_limit) if raw_limit not in (None, "") else default
    except ValueError:
        limit = default
    limit = max(1, min(limit, maximum))
    return Page(max_id=ids.parse_id(q.get("max_id")), since_id=ids.parse_id(q.get("since_id")),
                min_id=ids.parse_id(q.get("min_id")), limit=limit)


def set_link_header(request: Request, response: Response, first_id: int | str | None,
                    last_id: int | str | None) -> None:
    """`next` pages to older items (max_id = last), `prev` to newer ones (min_id = first)."""
    if first_id is None or last_id is None:
        return
    # request.url.path, without building a whole URL (which parses the Host header) for it.
    path = request.scope["path"].replace("?", "%3F").replace("#", "%23").replace("\\", "%5C")
    base = f"{request.app.state.ctx.settings.base_url}{path}"
    if not request.scope.get("query_string"):  # the common first page: nothing to carry over
        next_url, prev_url = f"{base}?max_id={last_id}", f"{base}?min_id={first_id}"
    else:
        keep = [(k, v) for k, v in request.query_params.multi_items()
                if k not in ("max_id", "since_id", "min_id")]
        next_url = f"{base}?{urlencode(keep + [('max_id', str(last_id))])}"
        prev_url = f"{base}?{urlencode(keep + [('min_id', str(first_id))])}"
    response.headers["Link"] = f'<{next_url}>; rel="next", <{prev_url}>; rel="prev"'


def page_response(request: Request, entities: list, keys: list) -> JSON:
    """A list endpoint's answer: the entities, with the Link header built from the page's first and last
    pagination keys (row ids, which for follows, blocks and the like are not the entities' own ids)."""
    response = JSON(entities)
    if keys:
        set_link_header(request, response, keys[0], keys[-1])
    return response
