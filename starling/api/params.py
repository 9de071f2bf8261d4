"""Request parameters as Mastodon clients send them: JSON, form or multipart bodies, with Rails-style
`key[]` arrays and `key[sub]` hashes, and the same in query strings."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

import orjson
from fastapi import Request
from starlette.datastructures import UploadFile

from starling.errors import BadRequest, TooLarge, Unprocessable

_KEY = re.compile(r"([^\[\]]+)|\[([^\[\]]*)\]")
MAX_ARRAY = 100


def _assign(target: dict, key: str, value: Any) -> None:
    parts = [m.group(1) if m.group(1) is not None else m.group(2) for m in _KEY.finditer(key)]
    if not parts:
        return
    node: Any = target
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        nxt = None if last else parts[i + 1]
        if part == "":  # an array append: key[]
            if not isinstance(node, list):
                return
            if last:
                if len(node) < MAX_ARRAY:
                    node.append(value)
                return
            child: Any = {} if nxt != "" else []
            node.append(child)
            node = child
            continue
        if not isinstance(node, dict):
            return
        if last:
            node[part] = value
            return
        if part not in node or not isinstance(node[part], list | dict):
            node[part] = [] if nxt == "" else {}
        node = node[part]


def without_nul(value: Any) -> Any:
    """`value` with NUL characters dropped from every string in it: no client means one, and
    PostgreSQL text cannot hold it (SQLite would store it), so both backends see the same text."""
    if isinstance(value, str):
        return value.replace("\x00", "") if "\x00" in value else value
    if isinstance(value, list):
        return [without_nul(item) for item in value]
    if isinstance(value, dict):
        return {without_nul(key): without_nul(item) for key, item in value.items()}
    return value


def nest(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """Turn flat `a[]=1&a[]=2&b[c]=3` pairs into {'a': ['1', '2'], 'b': {'c': '3'}}."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        _assign(out, without_nul(key), without_nul(value))
    return out


class Params(dict):
    """A parsed body or query with typed, validating getters."""

    def str(self, name: str, default: str | None = None, *, max_length: int | None = None) -> str | None:
        value = self.get(name)
        if value is None:
            return default
        if isinstance(value, bool | int | float):
            value = "true" if value is True else "false" if value is False else repr(value)
        if not isinstance(value, str):
            raise Unprocessable(f"Validation failed: {name} must be a string")
        if max_length is not None and len(value) > max_length:
            raise Unprocessable(f"Validation failed: {name} is too long (maximum is {max_length} characters)")
        return value

    def bool(self, name: str, default: bool | None = None) -> bool | None:
        value = self.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("1", "true", "t", "on", "yes"):
            return True
        if text in ("0", "false", "f", "off", "no"):
            return False
        raise Unprocessable(f"Validation failed: {name} must be a boolean")

    def int(self, name: str, default: int | None = None) -> int | None:
        value = self.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            raise Unprocessable(f"Validation failed: {name} must be an integer")
        try:
            return int(value)
        except (TypeError, ValueError):
            raise Unprocessable(f"Validation failed: {name} must be an integer") from None

    def list(self, name: str) -> list:
        """`name[]` or a bare `name`, as a list (a lone value becomes a one-item list)."""
        value = self.get(name)
        if value is None:
            return []
        if isinstance(value, list):
            return value[:MAX_ARRAY]
        if isinstance(value, dict):  # name[0]=a&name[1]=b
            return [value[k] for k in sorted(value, key=lambda k: (len(k), k))][:MAX_ARRAY]
        return [value]

    def dict(self, name: str) -> dict:
        value = self.get(name)
        return value if isinstance(value, dict) else {}

    def file(self, name: str) -> UploadFile | None:
        value = self.get(name)
        return value if isinstance(value, UploadFile) else None


def query_params(request: Request) -> Params:
    return Params(nest(list(request.query_params.multi_items())))


async def body_params(request: Request, *, max_bytes: int = 1_000_000) -> Params:
    """The request body, whatever encoding the client chose, merged over the query string."""
    params = query_params(request)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        raw = await request.body()
        if len(raw) > max_bytes:
            raise TooLarge("Request body too large")
        if raw.strip():
            try:
                data = orjson.loads(raw)
            except orjson.JSONDecodeError:
                raise BadRequest("Malformed JSON body") from None
            if not isinstance(data, dict):
                raise Unprocessable("Request body must be a JSON object")
            params.update(without_nul(data))
    elif content_type == "application/x-www-form-urlencoded":
        raw = await request.body()
        if len(raw) > max_bytes:
            raise TooLarge("Request body too large")
        try:
            # Strict: a percent-escape that is not UTF-8 is refused, never turned into U+FFFD.
            pairs = parse_qsl(raw.decode("ascii"), keep_blank_values=True, encoding="utf-8", errors="strict",
                              max_num_fields=1000)
        except (UnicodeDecodeError, ValueError):
            raise BadRequest("Malformed form body: not valid UTF-8 form encoding") from None
        params.update(nest(pairs))
    elif content_type == "multipart/form-data":
        try:
            form = await request.form(max_files=10, max_fields=1000)
        except Exception:
            raise BadRequest("Malformed form body") from None
        params.update(nest(list(form.multi_items())))
    return params
