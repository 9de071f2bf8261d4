"""Moderation pages. In the admin area (moderators and admins; to everyone else it does not exist): the
queue of people's reports and the spam scorer's flags, a report with its evidence, an account with its
score, warnings and history and the actions on it, appeals, and the audit log. For everyone signed in:
a report form, and one's own warnings with an appeal form."""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from starling import ids
from starling.accounts.models import Account
from starling.api.deps import ReadSession, WriteSession
from starling.api.pagination import Page
from starling.api.params import query_params
from starling.errors import NotFound, Unprocessable
from starling.posts import service as posts
from starling.safety import moderation
from starling.web.admin import ModeratorViewer, add_section, admin_page
from starling.web.deps import CsrfForm, Viewer
from starling.web.pages import page, redirect, web_router

router = web_router()

add_section("moderation", "Moderation queue", "/admin/moderation", order=30, moderators=True)
add_section("appeals", "Appeals", "/admin/moderation/appeals", order=32, moderators=True)
add_section("audit", "Audit log", "/admin/moderation/log", order=34, moderators=True)

PAGE_SIZE = 30
ACTION_LABELS = {"none": "Warn only", "sensitive": "Mark media sensitive", "silence": "Limit",
                 "disable": "Disable sign-in", "suspend": "Suspend"}
UNDO_LABELS = {"unsensitive": "Unmark sensitive", "unsilence": "Lift limit", "enable": "Enable sign-in",
               "unsuspend": "Unsuspend"}
STATUS_LABELS = {"delete": "Delete", "sensitive": "Mark sensitive", "quarantine": "Quarantine",
                 "release": "Release"}


def _id(raw: int) -> int:
    if raw >= 2**63:
        raise NotFound()
    return raw


def _page(request: Request) -> Page:
    return Page(max_id=ids.parse_id(query_params(request).str("max_id", max_length=30)), limit=PAGE_SIZE + 1)


def _more(rows: list) -> tuple[list, bool]:
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE


# --- the queue ------------------------------------------------------------------------------------------

@router.get("/admin/moderation")
async def queue(request: Request, session: ReadSession, viewer: ModeratorViewer) -> Response:
    params = query_params(request)
    state = params.str("state", "open", max_length=10) or "open"
    source = params.str("source", "all", max_length=10) or "all"
    views, _ = await moderation.list_reports(
        session, viewer.id, _page(request), resolved=state == "resolved",
        source=source if source in ("report", "auto") else None)
    views, more = _more(views)
    appeals_waiting = await moderation.pending_appeals_count(session, viewer.id)
    return await admin_page(request, viewer, "admin/moderation_queue.html", section="moderation",
                            title="Moderation queue", views=views, state=state, source=source,
                            appeals_waiting=appeals_waiting, next_max_id=views[-1].report.id if more else None)


async def _report_page(request: Request, session, viewer: Account, report_id: int, *, form: dict | None = None,
                       error: str | None = None, status_code: int = 200) -> Response:
    view = await moderation.get_report(session, viewer.id, report_id)
    return await admin_page(request, viewer, "admin/moderation_report.html", section="moderation",
                            title=f"Report {view.report.id}", view=view, actions=ACTION_LABELS,
                            status_actions=STATUS_LABELS, form=form or {}, error=error, status_code=status_code)


@router.get("/admin/moderation/reports/{report_id:int}")
async def report_detail(report_id: int, request: Request, session: ReadSession, viewer: ModeratorViewer) -> Response:
    return await _report_page(request, session, viewer, _id(report_id))


@router.post("/admin/moderation/reports/{report_id:int}/{op}")
async def report_op(report_id: int, op: str, request: Request, session: WriteSession, viewer: ModeratorViewer,
                    form: CsrfForm) -> Response:
    report_id = _id(report_id)
    if op in ("assign", "unassign"):
        await moderation.assign_report(session, viewer.id, report_id, assign=op == "assign")
    elif op in ("resolve", "reopen"):
        await moderation.resolve_report(session, viewer.id, report_id, reopen=op == "reopen")
    else:
        raise NotFound()
    return redirect(f"/admin/moderation/reports/{report_id}")


# --- accounts -------------------------------------------------------------------------------------------

async def _account_page(request: Request, session, viewer: Account, account_id: int, *, form: dict | None = None,
                        error: str | None = None, status_code: int = 200) -> Response:
    account = await moderation.get_account(session, viewer.id, account_id)
    score = (await moderation.account_scores(session, [account.id])).get(account.id)
    views, _ = await moderation.list_reports(session, viewer.id, Page(limit=20), resolved=None,
                                             target_account_id=account.id)
    entries, names = await moderation.audit_log(session, viewer.id, Page(limit=20), target_account_id=account.id)
    warnings = await moderation.warnings_for(session, account.id)
    undo = {k: v for k, v in UNDO_LABELS.items() if getattr(account, {
        "unsensitive": "sensitized_at", "unsilence": "silenced_at", "enable": "disabled_at",
        "unsuspend": "suspended_at"}[k]) is not None}
    return await admin_page(request, viewer, "admin/moderation_account.html", section="moderation",
                            title=f"@{account.username}", account=account, score=score, reports=views,
                            entries=entries, names=names, warnings=warnings, actions=ACTION_LABELS, undo=undo,
                            form=form or {}, error=error, status_code=status_code)


@router.get("/admin/moderation/accounts/{account_id:int}")
async def account_detail(account_id: int, request: Request, session: ReadSession,
                         viewer: ModeratorViewer) -> Response:
    return await _account_page(request, session, viewer, _id(account_id))


@router.post("/admin/moderation/accounts/{account_id:int}/action")
async def account_action(account_id: int, request: Request, session: WriteSession, viewer: ModeratorViewer,
                         form: CsrfForm) -> Response:
    account_id = _id(account_id)
    kind = form.str("type", "", max_length=20) or ""
    reason = form.str("reason", "", max_length=10_000) or ""
    report_id = ids.parse_id(form.str("report_id", "", max_length=30) or None)
    typed = {"type": kind, "reason": reason}
    try:
        if kind not in ACTION_LABELS and kind not in UNDO_LABELS:
            raise Unprocessable("Choose an action")
        async with session.begin_nested():
            await moderation.act_on_account(session, viewer.id, account_id, kind, reason=reason,
                                            report_id=report_id)
    except Unprocessable as exc:
        if report_id is not None:
            return await _report_page(request, session, viewer, report_id, form=typed, error=exc.message,
                                      status_code=422)
        return await _account_page(request, session, viewer, account_id, form=typed, error=exc.message,
                                   status_code=422)
    if report_id is not None:
        return redirect(f"/admin/moderation/reports/{report_id}")
    return redirect(f"/admin/moderation/accounts/{account_id}")


@router.post("/admin/moderation/statuses/{status_id:int}/action")
async def status_action(status_id: int, request: Request, session: WriteSession, viewer: ModeratorViewer,
                        form: CsrfForm) -> Response:
    kind = form.str("type", "", max_length=20) or ""
    report_id = ids.parse_id(form.str("report_id", "", max_length=30) or None)
    account_id = ids.parse_id(form.str("account_id", "", max_length=30) or None)
    await moderation.act_on_status(session, viewer.id, _id(status_id), kind,
                                   reason=form.str("reason", "", max_length=moderation.MAX_REASON) or "")
    if report_id is not None:
        return redirect(f"/admin/moderation/reports/{report_id}")
    return redirect(f"/admin/moderation/accounts/{account_id}" if account_id else "/admin/moderation")


# --- appeals and the log --------------------------------------------------------------------------------

@router.get("/admin/moderation/appeals")
async def appeals(request: Request, session: ReadSession, viewer: ModeratorViewer) -> Response:
    pending = query_params(request).str("state", "pending", max_length=10) != "decided"
    rows, more = _more(await moderation.list_appeals(session, viewer.id, _page(request), pending=pending))
    names = await moderation.appellants(session, viewer.id, [appeal.account_id for appeal, _ in rows])
    return await admin_page(request, viewer, "admin/moderation_appeals.html", section="appeals", title="Appeals",
                            rows=rows, names=names, pending=pending, next_max_id=rows[-1][0].id if more else None)


@router.post("/admin/moderation/appeals/{appeal_id:int}/{decision}")
async def decide(appeal_id: int, decision: str, request: Request, session: WriteSession, viewer: ModeratorViewer,
                 form: CsrfForm) -> Response:
    if decision not in ("approve", "reject"):
        raise NotFound()
    await moderation.decide_appeal(session, viewer.id, _id(appeal_id), approve=decision == "approve",
                                   reason=form.str("reason", "", max_length=moderation.MAX_REASON) or "")
    return redirect("/admin/moderation/appeals")


@router.get("/admin/moderation/log")
async def audit_log(request: Request, session: ReadSession, viewer: ModeratorViewer) -> Response:
    entries, names = await moderation.audit_log(session, viewer.id, _page(request))
    entries, more = _more(entries)
    return await admin_page(request, viewer, "admin/moderation_log.html", section="audit", title="Audit log",
                            entries=entries, names=names, next_max_id=entries[-1].id if more else None)


# --- for everyone: reporting, and one's own warnings ----------------------------------------------------

async def _report_form(request: Request, session, viewer: Account, account_id: int, *, form: dict,
                       error: str | None = None, status_code: int = 200) -> Response:
    target = await moderation.reportable_account(session, account_id)
    status = None
    if form.get("status_id"):
        found = await posts.visible_statuses(session, [int(form["status_id"])], viewer.id)
        status = found[0] if found and found[0].account_id == target.id else None
    return await page(request, "report.html", title=f"Report @{target.username}", target=target, status=status,
                      form=form, error=error, categories=moderation.CATEGORIES, status_code=status_code)


@router.get("/report/{account_id:int}")
async def report_form(account_id: int, request: Request, session: ReadSession, viewer: Viewer) -> Response:
    status_id = ids.parse_id(query_params(request).str("status_id", max_length=30))
    return await _report_form(request, session, viewer, _id(account_id),
                              form={"status_id": str(status_id) if status_id else "", "category": "spam"})


@router.post("/report/{account_id:int}")
async def file_report(account_id: int, request: Request, session: WriteSession, viewer: Viewer,
                      form: CsrfForm) -> Response:
    typed = {"status_id": form.str("status_id", "", max_length=30) or "",
             "category": form.str("category", "other", max_length=20) or "other",
             "comment": form.str("comment", "", max_length=10_000) or ""}
    status_id = ids.parse_id(typed["status_id"] or None)
    try:
        async with session.begin_nested():
            await moderation.file_report(session, reporter_id=viewer.id, target_account_id=_id(account_id),
                                         status_ids=[status_id] if status_id else [], comment=typed["comment"],
                                         category=typed["category"])
    except Unprocessable as exc:
        return await _report_form(request, session, viewer, _id(account_id), form=typed, error=exc.message,
                                  status_code=422)
    return await page(request, "report_sent.html", title="Report sent")


async def _warnings_page(request: Request, session, viewer: Account, *, typed: dict | None = None,
                         error_for: int | None = None, error: str | None = None, status_code: int = 200) -> Response:
    return await page(request, "moderation_warnings.html", title="Notices from the moderators",
                      warnings=await moderation.warnings_for(session, viewer.id), typed=typed or {},
                      error_for=error_for, error=error, status_code=status_code)


@router.get("/moderation/warnings")
async def my_warnings(request: Request, session: ReadSession, viewer: Viewer) -> Response:
    return await _warnings_page(request, session, viewer)


@router.post("/moderation/warnings/{warning_id:int}/appeal")
async def appeal(warning_id: int, request: Request, session: WriteSession, viewer: Viewer,
                 form: CsrfForm) -> Response:
    text = form.str("text", "", max_length=10_000) or ""
    try:
        async with session.begin_nested():
            await moderation.file_appeal(session, viewer.id, _id(warning_id), text)
    except Unprocessable as exc:
        return await _warnings_page(request, session, viewer, typed={warning_id: text}, error_for=warning_id,
                                    error=exc.message, status_code=422)
    return redirect("/moderation/warnings")
