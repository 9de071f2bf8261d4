"""Mastodon's admin API for reports: the moderation queue (people's reports and the spam scorer's
automatic flags), one report with its evidence, assign, unassign, resolve, reopen."""

from __future__ import annotations

from fastapi import APIRouter, Request

from starling import ids
from starling.api.accounts_graph import me, path_id
from starling.api.admin_auth import ReadReports, WriteReports
from starling.api.deps import Ctx, ReadSession, WriteSession
from starling.api.entities.moderation import admin_report_entities
from starling.api.pagination import page_params, page_response
from starling.api.params import query_params
from starling.api.responses import JSON
from starling.safety import moderation

router = APIRouter()


@router.get("/api/v1/admin/reports")
async def list_reports(request: Request, session: ReadSession, ctx: Ctx, auth: ReadReports) -> JSON:
    params = query_params(request)
    source = params.str("source", max_length=10)
    views, keys = await moderation.list_reports(
        session, me(auth), page_params(request, 100, 200), resolved=bool(params.bool("resolved", False)),
        account_id=ids.parse_id(params.get("account_id")),
        target_account_id=ids.parse_id(params.get("target_account_id")),
        source=source if source in ("report", "auto") else None)
    return page_response(request, await admin_report_entities(session, ctx, views, me(auth)), keys)


async def _one(session, ctx, auth, view) -> JSON:
    return JSON((await admin_report_entities(session, ctx, [view], me(auth)))[0])


@router.get("/api/v1/admin/reports/{report_id:int}")
async def show(report_id: int, session: ReadSession, ctx: Ctx, auth: ReadReports) -> JSON:
    return await _one(session, ctx, auth, await moderation.get_report(session, me(auth), path_id(report_id)))


@router.post("/api/v1/admin/reports/{report_id:int}/assign_to_self")
async def assign(report_id: int, session: WriteSession, ctx: Ctx, auth: WriteReports) -> JSON:
    view = await moderation.assign_report(session, me(auth), path_id(report_id), assign=True)
    return await _one(session, ctx, auth, view)


@router.post("/api/v1/admin/reports/{report_id:int}/unassign")
async def unassign(report_id: int, session: WriteSession, ctx: Ctx, auth: WriteReports) -> JSON:
    view = await moderation.assign_report(session, me(auth), path_id(report_id), assign=False)
    return await _one(session, ctx, auth, view)


@router.post("/api/v1/admin/reports/{report_id:int}/resolve")
async def resolve(report_id: int, session: WriteSession, ctx: Ctx, auth: WriteReports) -> JSON:
    return await _one(session, ctx, auth, await moderation.resolve_report(session, me(auth), path_id(report_id)))


@router.post("/api/v1/admin/reports/{report_id:int}/reopen")
async def reopen(report_id: int, session: WriteSession, ctx: Ctx, auth: WriteReports) -> JSON:
    view = await moderation.resolve_report(session, me(auth), path_id(report_id), reopen=True)
    return await _one(session, ctx, auth, view)
