"""Starling's admin routes around moderation: the audit log, appeals, and blocked link domains."""

from __future__ import annotations

from fastapi import APIRouter, Request

from starling import ids
from starling.api.accounts_graph import me, path_id
from starling.api.admin_auth import ReadReports, WriteReports
from starling.api.deps import ReadSession, WriteSession
from starling.api.entities.moderation import appeal_entity, log_entry_entity
from starling.api.pagination import page_params, page_response
from starling.api.params import body_params, query_params
from starling.api.responses import JSON
from starling.errors import Unprocessable
from starling.safety import moderation, scoring

router = APIRouter()


@router.get("/api/v1/admin/audit_log")
async def audit_log(request: Request, session: ReadSession, auth: ReadReports) -> JSON:
    params = query_params(request)
    entries, accounts = await moderation.audit_log(session, me(auth), page_params(request, 40, 200),
                                                   target_account_id=ids.parse_id(params.get("account_id")))
    return page_response(request, [log_entry_entity(e, accounts) for e in entries], [e.id for e in entries])


@router.get("/api/v1/admin/appeals")
async def appeals(request: Request, session: ReadSession, auth: ReadReports) -> JSON:
    params = query_params(request)
    rows = await moderation.list_appeals(session, me(auth), page_params(request, 40, 200),
                                         pending=params.bool("pending", True) is not False)
    body = [{**appeal_entity(a), "account_id": str(a.account_id),
             "warning": {"id": str(w.id), "action": w.action, "text": w.text} if w else None} for a, w in rows]
    return page_response(request, body, [a.id for a, _ in rows])


async def _decide(request: Request, session, auth, appeal_id: int, approve: bool) -> JSON:
    params = await body_params(request)
    appeal = await moderation.decide_appeal(session, me(auth), path_id(appeal_id), approve=approve,
                                            reason=params.str("text", "", max_length=moderation.MAX_REASON) or "")
    return JSON(appeal_entity(appeal))


@router.post("/api/v1/admin/appeals/{appeal_id:int}/approve")
async def approve_appeal(appeal_id: int, request: Request, session: WriteSession, auth: WriteReports) -> JSON:
    return await _decide(request, session, auth, appeal_id, True)


@router.post("/api/v1/admin/appeals/{appeal_id:int}/reject")
async def reject_appeal(appeal_id: int, request: Request, session: WriteSession, auth: WriteReports) -> JSON:
    return await _decide(request, session, auth, appeal_id, False)


@router.post("/api/v1/admin/link_domain_blocks")
async def block_link_domain(request: Request, session: WriteSession, auth: WriteReports) -> JSON:
    """Block a domain in links: posts linking to it (or its subdomains) score as spam."""
    params = await body_params(request)
    domain = (params.str("domain", "", max_length=253) or "").strip().lower()
    if not domain or "." not in domain or "/" in domain:
        raise Unprocessable("Validation failed: domain must be a host name such as spam.example")
    await moderation.moderator(session, me(auth))
    blocked = params.bool("blocked", True) is not False
    await scoring.block_link_domain(session, domain, blocked=blocked, note=params.str("note", "", max_length=500) or "")
    await moderation.log_link_domain(session, me(auth), domain, blocked)
    return JSON({"domain": domain, "blocked": blocked})
