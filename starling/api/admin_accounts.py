"""Mastodon's admin API for accounts (v1): list with filters, show, act (none, sensitive, disable,
silence, suspend) with a reason and a notice, undo (enable, unsilence, unsuspend, unsensitive),
approve and reject sign-ups; and Starling's action on one post (delete, sensitive, quarantine, release)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from starling import ids
from starling.api.accounts_graph import me, path_id
from starling.api.admin_auth import ReadAccounts, WriteAccounts, WriteReports
from starling.api.deps import Ctx, ReadSession, WriteSession
from starling.api.entities.moderation import admin_account_entity
from starling.api.pagination import page_params, page_response
from starling.api.params import body_params, query_params
from starling.api.responses import JSON
from starling.errors import NotFound, Unprocessable
from starling.safety import moderation

router = APIRouter()

FLAGS = ("pending", "disabled", "silenced", "suspended", "sensitized", "active", "staff", "flagged")


async def _entity(session, ctx, account) -> dict:
    scores = await moderation.account_scores(session, [account.id])
    return admin_account_entity(ctx, account, scores.get(account.id))


async def _account_page(request: Request, session, ctx, auth, params, filters: dict[str, bool]) -> JSON:
    """One page of the accounts list (v1 and v2 differ only in how they spell the filters)."""
    accounts = await moderation.list_accounts(
        session, me(auth), page_params(request, 100, 200), **filters,
        username=params.str("username", max_length=30), display_name=params.str("display_name", max_length=100),
        email=params.str("email", max_length=320))
    scores = await moderation.account_scores(session, [a.id for a in accounts])
    return page_response(request, [admin_account_entity(ctx, a, scores.get(a.id)) for a in accounts],
                         [a.id for a in accounts])


@router.get("/api/v1/admin/accounts")
async def list_accounts(request: Request, session: ReadSession, ctx: Ctx, auth: ReadAccounts) -> JSON:
    params = query_params(request)
    if params.bool("remote", False):
        return JSON([])  # no federation yet: every account is local
    filters = {name: bool(params.bool(name, False)) for name in FLAGS}
    return await _account_page(request, session, ctx, auth, params, filters)


V2_STATUS = {"active": "active", "pending": "pending", "disabled": "disabled", "silenced": "silenced",
             "suspended": "suspended"}


@router.get("/api/v2/admin/accounts")
async def list_accounts_v2(request: Request, session: ReadSession, ctx: Ctx, auth: ReadAccounts) -> JSON:
    """The v2 list: origin, status and permissions instead of v1's flags."""
    params = query_params(request)
    if params.str("origin", max_length=10) == "remote":
        return JSON([])
    filters = dict.fromkeys(FLAGS, False)
    status = params.str("status", max_length=20)
    if status in V2_STATUS:
        filters[V2_STATUS[status]] = True
    filters["staff"] = params.str("permissions", max_length=20) == "staff"
    return await _account_page(request, session, ctx, auth, params, filters)


@router.get("/api/v1/admin/accounts/{account_id:int}")
async def show(account_id: int, session: ReadSession, ctx: Ctx, auth: ReadAccounts) -> JSON:
    return JSON(await _entity(session, ctx, await moderation.get_account(session, me(auth), path_id(account_id))))


def _report_id(raw) -> int | None:
    if raw in (None, ""):
        return None
    parsed = ids.parse_id(raw)
    if parsed is None:
        raise NotFound()
    return parsed


@router.post("/api/v1/admin/accounts/{account_id:int}/action")
async def action(account_id: int, request: Request, session: WriteSession, auth: WriteAccounts) -> JSON:
    params = await body_params(request)
    kind = params.str("type", "none", max_length=20) or "none"
    if kind not in moderation.ACCOUNT_ACTIONS:
        raise Unprocessable(f"Validation failed: type must be one of {', '.join(moderation.ACCOUNT_ACTIONS)}")
    status_ids = [s for s in (ids.parse_id(r) for r in params.list("status_ids")) if s is not None]
    # The account always gets its notice (there is no e-mail to skip: send_email_notification is moot).
    await moderation.act_on_account(
        session, me(auth), path_id(account_id), kind, reason=params.str("text", "", max_length=moderation.MAX_REASON)
        or "", report_id=_report_id(params.get("report_id")), status_ids=status_ids)
    return JSON({})


async def _undo(session, ctx, auth, account_id: int, kind: str) -> JSON:
    account = await moderation.act_on_account(session, me(auth), path_id(account_id), kind)
    return JSON(await _entity(session, ctx, account))


@router.post("/api/v1/admin/accounts/{account_id:int}/enable")
async def enable(account_id: int, session: WriteSession, ctx: Ctx, auth: WriteAccounts) -> JSON:
    return await _undo(session, ctx, auth, account_id, "enable")


@router.post("/api/v1/admin/accounts/{account_id:int}/unsilence")
async def unsilence(account_id: int, session: WriteSession, ctx: Ctx, auth: WriteAccounts) -> JSON:
    return await _undo(session, ctx, auth, account_id, "unsilence")


@router.post("/api/v1/admin/accounts/{account_id:int}/unsuspend")
async def unsuspend(account_id: int, session: WriteSession, ctx: Ctx, auth: WriteAccounts) -> JSON:
    return await _undo(session, ctx, auth, account_id, "unsuspend")


@router.post("/api/v1/admin/accounts/{account_id:int}/unsensitive")
async def unsensitive(account_id: int, session: WriteSession, ctx: Ctx, auth: WriteAccounts) -> JSON:
    return await _undo(session, ctx, auth, account_id, "unsensitive")


@router.post("/api/v1/admin/accounts/{account_id:int}/approve")
async def approve(account_id: int, session: WriteSession, ctx: Ctx, auth: WriteAccounts) -> JSON:
    account = await moderation.approve_account(session, me(auth), path_id(account_id), approve=True)
    return JSON(await _entity(session, ctx, account))


@router.post("/api/v1/admin/accounts/{account_id:int}/reject")
async def reject(account_id: int, session: WriteSession, ctx: Ctx, auth: WriteAccounts) -> JSON:
    account = await moderation.approve_account(session, me(auth), path_id(account_id), approve=False)
    return JSON(admin_account_entity(ctx, account))


@router.post("/api/v1/admin/statuses/{status_id:int}/action")
async def status_action(status_id: int, request: Request, session: WriteSession, auth: WriteReports) -> JSON:
    """Starling's: act on one post (type delete, sensitive, quarantine or release) with a reason."""
    params = await body_params(request)
    kind = params.str("type", max_length=20) or ""
    await moderation.act_on_status(session, me(auth), path_id(status_id), kind,
                                   reason=params.str("text", "", max_length=moderation.MAX_REASON) or "",
                                   report_id=_report_id(params.get("report_id")),
                                   send_notice=params.bool("send_notice", True) is not False)
    return JSON({})
