"""Lists: create, rename, delete, and choose which followed accounts belong to each."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from starling import ids
from starling.api.deps import Auth, Ctx, ReadSession, WriteSession, scoped
from starling.api.entities.account import account_entity
from starling.api.entities.list import list_entity
from starling.api.pagination import page_params, set_link_header
from starling.api.params import Params, body_params
from starling.api.responses import JSON
from starling.errors import NotFound
from starling.timelines import lists

router = APIRouter()

ReadLists = Annotated[Auth, Depends(scoped("read:lists"))]
WriteLists = Annotated[Auth, Depends(scoped("write:lists"))]


def _id(value: int) -> int:
    if value >= 2**63:
        raise NotFound()
    return value


def _account_ids(params: Params) -> list[int]:
    parsed = [ids.parse_id(v) if isinstance(v, str | int) else None for v in params.list("account_ids")]
    if any(v is None for v in parsed):
        raise NotFound()
    return [v for v in parsed if v is not None]


@router.get("/api/v1/lists")
async def index(session: ReadSession, auth: ReadLists) -> JSON:
    return JSON([list_entity(lst) for lst in await lists.lists_of(session, auth.account.id)])


@router.post("/api/v1/lists")
async def create(request: Request, session: WriteSession, auth: WriteLists) -> JSON:
    params = await body_params(request)
    lst = await lists.create_list(
        session, auth.account.id, title=params.str("title", max_length=lists.MAX_TITLE),
        replies_policy=params.str("replies_policy", "list", max_length=20) or "list",
        exclusive=bool(params.bool("exclusive", False)))
    return JSON(list_entity(lst))


@router.get("/api/v1/lists/{list_id:int}")
async def show(list_id: int, session: ReadSession, auth: ReadLists) -> JSON:
    return JSON(list_entity(await lists.get_list(session, auth.account.id, _id(list_id))))


@router.put("/api/v1/lists/{list_id:int}")
async def update(list_id: int, request: Request, session: WriteSession, auth: WriteLists) -> JSON:
    params = await body_params(request)
    lst = await lists.update_list(
        session, auth.account.id, _id(list_id), title=params.str("title", max_length=lists.MAX_TITLE),
        replies_policy=params.str("replies_policy", max_length=20), exclusive=params.bool("exclusive"))
    return JSON(list_entity(lst))


@router.delete("/api/v1/lists/{list_id:int}")
async def destroy(list_id: int, session: WriteSession, auth: WriteLists) -> JSON:
    await lists.delete_list(session, auth.account.id, _id(list_id))
    return JSON({})


@router.get("/api/v1/lists/{list_id:int}/accounts")
async def members(list_id: int, request: Request, session: ReadSession, ctx: Ctx, auth: ReadLists) -> JSON:
    unlimited = request.query_params.get("limit") == "0"
    window = None if unlimited else page_params(request, default=40, maximum=80)
    accounts = await lists.members(session, auth.account.id, _id(list_id), window)
    response = JSON([account_entity(ctx, a) for a in accounts])
    if window is not None and accounts:
        set_link_header(request, response, accounts[0].id, accounts[-1].id)
    return response


@router.post("/api/v1/lists/{list_id:int}/accounts")
async def add_members(list_id: int, request: Request, session: WriteSession, auth: WriteLists) -> JSON:
    params = await body_params(request)
    await lists.add_members(session, auth.account.id, _id(list_id), _account_ids(params))
    return JSON({})


@router.delete("/api/v1/lists/{list_id:int}/accounts")
async def remove_members(list_id: int, request: Request, session: WriteSession, auth: WriteLists) -> JSON:
    params = await body_params(request)
    await lists.remove_members(session, auth.account.id, _id(list_id), _account_ids(params))
    return JSON({})


@router.get("/api/v1/accounts/{account_id:int}/lists")
async def lists_with_account(account_id: int, session: ReadSession, auth: ReadLists) -> JSON:
    found = await lists.lists_with_member(session, auth.account.id, _id(account_id))
    return JSON([list_entity(lst) for lst in found])
