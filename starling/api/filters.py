"""Mastodon's filters API: v2 (filters with keywords and posts, warn or hide, contexts, expiry) and the
older v1, where each keyword shows as a filter of its own."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from starling import ids
from starling.api.accounts_graph import me, path_id
from starling.api.deps import Auth, ReadSession, WriteSession, scoped
from starling.api.entities.filter import filter_entity, filter_status_entity, keyword_entity, v1_filter_entity
from starling.api.params import Params, body_params
from starling.api.responses import JSON
from starling.errors import NotFound, Unprocessable
from starling.safety import filters
from starling.safety.filters import KeywordChange

router = APIRouter()

ReadFilters = Annotated[Auth, Depends(scoped("read:filters"))]
WriteFilters = Annotated[Auth, Depends(scoped("write:filters"))]
TRUE = ("1", "true", "t", "on", "yes")


def _truthy(value: Any) -> bool | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in TRUE


def _expires_in(params: Params) -> tuple[int | None, bool]:
    """(seconds, clear): an empty expires_in clears the expiry, as Mastodon's clients send it."""
    if "expires_in" not in params:
        return None, False
    raw = params.get("expires_in")
    if raw in (None, ""):
        return None, True
    try:
        return int(raw), False
    except (TypeError, ValueError):
        raise Unprocessable("Validation failed: expires_in must be a number of seconds") from None


def _keyword_changes(params: Params) -> list[KeywordChange]:
    raw = params.get("keywords_attributes")
    items = list(raw.values()) if isinstance(raw, dict) else raw if isinstance(raw, list) else []
    if len(items) > filters.MAX_KEYWORDS:
        raise Unprocessable(f"Validation failed: at most {filters.MAX_KEYWORDS} keywords per filter")
    changes = []
    for item in items:
        if not isinstance(item, dict):
            raise Unprocessable("Validation failed: keywords_attributes must hold objects")
        keyword_id = ids.parse_id(item.get("id")) if item.get("id") not in (None, "") else None
        keyword = item.get("keyword")
        changes.append(KeywordChange(id=keyword_id, keyword=keyword if isinstance(keyword, str) else None,
                                     whole_word=_truthy(item.get("whole_word")),
                                     destroy=bool(_truthy(item.get("_destroy")))))
    return changes


def _contexts(params: Params) -> list[str] | None:
    if "context" not in params:
        return None
    value = params.get("context")
    return [value] if isinstance(value, str) else [v for v in params.list("context") if isinstance(v, str)]


# ---- v2 ----------------------------------------------------------------------------------------------

@router.get("/api/v2/filters")
async def list_filters(session: ReadSession, auth: ReadFilters) -> JSON:
    return JSON([filter_entity(f) for f in await filters.list_filters(session, me(auth))])


@router.get("/api/v2/filters/{filter_id:int}")
async def show_filter(filter_id: int, session: ReadSession, auth: ReadFilters) -> JSON:
    return JSON(filter_entity(await filters.own_filter(session, me(auth), path_id(filter_id))))


@router.post("/api/v2/filters")
async def create_filter(request: Request, session: WriteSession, auth: WriteFilters) -> JSON:
    params = await body_params(request)
    expires_in, _ = _expires_in(params)
    created = await filters.create_filter(
        session, me(auth), title=params.str("title", max_length=filters.MAX_TITLE), contexts=_contexts(params) or [],
        action=params.str("filter_action", max_length=10), expires_in=expires_in, keywords=_keyword_changes(params))
    return JSON(filter_entity(created))


@router.put("/api/v2/filters/{filter_id:int}")
async def update_filter(filter_id: int, request: Request, session: WriteSession, auth: WriteFilters) -> JSON:
    params = await body_params(request)
    expires_in, clear = _expires_in(params)
    updated = await filters.update_filter(
        session, me(auth), path_id(filter_id), title=params.str("title", max_length=filters.MAX_TITLE),
        contexts=_contexts(params), action=params.str("filter_action", max_length=10), expires_in=expires_in,
        clear_expiry=clear, keywords=_keyword_changes(params))
    return JSON(filter_entity(updated))


@router.delete("/api/v2/filters/{filter_id:int}")
async def delete_filter(filter_id: int, session: WriteSession, auth: WriteFilters) -> JSON:
    await filters.delete_filter(session, me(auth), path_id(filter_id))
    return JSON({})


@router.get("/api/v2/filters/{filter_id:int}/keywords")
async def list_keywords(filter_id: int, session: ReadSession, auth: ReadFilters) -> JSON:
    found = await filters.own_filter(session, me(auth), path_id(filter_id))
    return JSON([keyword_entity(k) for k in found.keywords])


@router.post("/api/v2/filters/{filter_id:int}/keywords")
async def add_keyword(filter_id: int, request: Request, session: WriteSession, auth: WriteFilters) -> JSON:
    params = await body_params(request)
    keyword = await filters.add_keyword(session, me(auth), path_id(filter_id),
                                        params.str("keyword", max_length=filters.MAX_KEYWORD),
                                        params.bool("whole_word"))
    return JSON(keyword_entity(keyword))


@router.get("/api/v2/filters/keywords/{keyword_id:int}")
async def show_keyword(keyword_id: int, session: ReadSession, auth: ReadFilters) -> JSON:
    return JSON(keyword_entity(await filters.own_keyword(session, me(auth), path_id(keyword_id))))


@router.put("/api/v2/filters/keywords/{keyword_id:int}")
async def update_keyword(keyword_id: int, request: Request, session: WriteSession, auth: WriteFilters) -> JSON:
    params = await body_params(request)
    keyword = await filters.update_keyword(session, me(auth), path_id(keyword_id),
                                           params.str("keyword", max_length=filters.MAX_KEYWORD),
                                           params.bool("whole_word"))
    return JSON(keyword_entity(keyword))


@router.delete("/api/v2/filters/keywords/{keyword_id:int}")
async def delete_keyword(keyword_id: int, session: WriteSession, auth: WriteFilters) -> JSON:
    await filters.delete_keyword(session, me(auth), path_id(keyword_id))
    return JSON({})


@router.get("/api/v2/filters/{filter_id:int}/statuses")
async def list_statuses(filter_id: int, session: ReadSession, auth: ReadFilters) -> JSON:
    found = await filters.own_filter(session, me(auth), path_id(filter_id))
    return JSON([filter_status_entity(s) for s in found.statuses])


@router.post("/api/v2/filters/{filter_id:int}/statuses")
async def add_status(filter_id: int, request: Request, session: WriteSession, auth: WriteFilters) -> JSON:
    params = await body_params(request)
    status_id = ids.parse_id(params.get("status_id"))
    if status_id is None:
        raise NotFound()
    return JSON(filter_status_entity(await filters.add_status(session, me(auth), path_id(filter_id), status_id)))


@router.get("/api/v2/filters/statuses/{entry_id:int}")
async def show_status(entry_id: int, session: ReadSession, auth: ReadFilters) -> JSON:
    return JSON(filter_status_entity(await filters.own_status_entry(session, me(auth), path_id(entry_id))))


@router.delete("/api/v2/filters/statuses/{entry_id:int}")
async def delete_status(entry_id: int, session: WriteSession, auth: WriteFilters) -> JSON:
    await filters.delete_status_entry(session, me(auth), path_id(entry_id))
    return JSON({})


# ---- v1: one keyword, one filter ---------------------------------------------------------------------

async def _v1(session, account_id: int, keyword_id: int) -> dict:
    keyword = await filters.own_keyword(session, account_id, keyword_id)
    return v1_filter_entity(await filters.own_filter(session, account_id, keyword.filter_id), keyword)


@router.get("/api/v1/filters")
async def v1_list(session: ReadSession, auth: ReadFilters) -> JSON:
    return JSON([v1_filter_entity(f, k) for f in await filters.list_filters(session, me(auth)) for k in f.keywords])


@router.get("/api/v1/filters/{keyword_id:int}")
async def v1_show(keyword_id: int, session: ReadSession, auth: ReadFilters) -> JSON:
    return JSON(await _v1(session, me(auth), path_id(keyword_id)))


@router.post("/api/v1/filters")
async def v1_create(request: Request, session: WriteSession, auth: WriteFilters) -> JSON:
    params = await body_params(request)
    phrase = params.str("phrase", max_length=filters.MAX_KEYWORD)
    expires_in, _ = _expires_in(params)
    created = await filters.create_filter(
        session, me(auth), title=phrase, contexts=_contexts(params) or [],
        action="hide" if params.bool("irreversible", False) else "warn", expires_in=expires_in,
        keywords=[KeywordChange(keyword=phrase, whole_word=params.bool("whole_word", True))])
    return JSON(v1_filter_entity(created, created.keywords[0]))


@router.put("/api/v1/filters/{keyword_id:int}")
async def v1_update(keyword_id: int, request: Request, session: WriteSession, auth: WriteFilters) -> JSON:
    params = await body_params(request)
    keyword = await filters.own_keyword(session, me(auth), path_id(keyword_id))
    expires_in, clear = _expires_in(params)
    irreversible = params.bool("irreversible")
    await filters.update_filter(
        session, me(auth), keyword.filter_id, contexts=_contexts(params),
        action=None if irreversible is None else ("hide" if irreversible else "warn"),
        expires_in=expires_in, clear_expiry=clear,
        keywords=[KeywordChange(id=keyword.id, keyword=params.str("phrase", max_length=filters.MAX_KEYWORD),
                                whole_word=params.bool("whole_word"))])
    return JSON(await _v1(session, me(auth), keyword.id))


@router.delete("/api/v1/filters/{keyword_id:int}")
async def v1_delete(keyword_id: int, session: WriteSession, auth: WriteFilters) -> JSON:
    keyword = await filters.own_keyword(session, me(auth), path_id(keyword_id))
    found = await filters.own_filter(session, me(auth), keyword.filter_id)
    if len(found.keywords) <= 1 and not found.statuses:
        await filters.delete_filter(session, me(auth), found.row.id)
    else:
        await filters.delete_keyword(session, me(auth), keyword.id)
    return JSON({})
