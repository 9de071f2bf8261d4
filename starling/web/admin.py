"""The admin area: overview, instance settings, and accounts (find, suspend, unsuspend, approve, reset a
password). Admins only; to everyone else the area does not exist (404).

Other modules add sections to it (see docs/web.md):

    from starling.web.admin import AdminViewer, add_section, admin_page
    add_section("reports", "Reports", "/admin/reports", order=40)

    @router.get("/admin/reports")
    async def reports(request: Request, viewer: AdminViewer) -> Response:
        return await admin_page(request, viewer, "admin/reports.html", section="reports", ...)

and the template extends "admin/layout.html", filling `{% block admin_content %}`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Depends, Request
from starlette.responses import Response

from starling import ids
from starling.accounts import admin as accounts_admin
from starling.accounts import instance as instance_settings
from starling.accounts.models import Account
from starling.api.deps import Ctx, ReadSession, WriteSession
from starling.api.params import query_params
from starling.errors import NotFound, Unprocessable
from starling.safety import moderation, signup
from starling.web.deps import CsrfForm, Viewer
from starling.web.pages import page, redirect, web_router

router = web_router()


@dataclass(frozen=True)
class AdminSection:
    """One entry of the admin navigation: `key` names it for `admin_page(section=...)`, `path` is where
    its page lives, `order` places it (lower first), and `moderators` shows it to moderators as well as
    admins (its routes then take `ModeratorViewer`)."""

    key: str
    title: str
    path: str
    order: int = 100
    moderators: bool = False


ADMIN_SECTIONS: list[AdminSection] = []


def add_section(key: str, title: str, path: str, *, order: int = 100, moderators: bool = False) -> AdminSection:
    """Register a section of the admin area (once per key; a module imported twice changes nothing)."""
    for existing in ADMIN_SECTIONS:
        if existing.key == key:
            return existing
    section = AdminSection(key=key, title=title, path=path, order=order, moderators=moderators)
    ADMIN_SECTIONS.append(section)
    ADMIN_SECTIONS.sort(key=lambda s: (s.order, s.title))
    return section


add_section("overview", "Overview", "/admin", order=0)
add_section("settings", "Instance settings", "/admin/settings", order=10)
add_section("accounts", "Accounts", "/admin/accounts", order=20)


async def _admin(viewer: Viewer) -> Account:
    if not viewer.is_admin:
        raise NotFound("Page not found")
    return viewer


async def _moderator(viewer: Viewer) -> Account:
    if not viewer.is_moderator:
        raise NotFound("Page not found")
    return viewer


AdminViewer = Annotated[Account, Depends(_admin)]
ModeratorViewer = Annotated[Account, Depends(_moderator)]  # admins and moderators


def sections_for(viewer: Account | None) -> list[AdminSection]:
    """The sections this person's role opens, in navigation order."""
    if viewer is None or not viewer.is_moderator:
        return []
    return [s for s in ADMIN_SECTIONS if viewer.is_admin or s.moderators]


async def admin_page(request: Request, viewer: Account, template: str, *, section: str, status_code: int = 200,
                     no_store: bool = False, **context) -> Response:
    """A page of the admin area for `viewer`: `template` extends admin/layout.html, `section` marks the
    current entry, and the navigation lists the sections the viewer's role opens."""
    return await page(request, template, status_code=status_code, no_store=no_store,
                      admin_sections=sections_for(viewer), admin_section=section, **context)


# --- overview ------------------------------------------------------------------------------------------

@router.get("/admin")
async def overview(request: Request, ctx: Ctx, session: ReadSession, viewer: AdminViewer) -> Response:
    facts = await accounts_admin.overview(session, viewer)
    weeks = [dict(week, start=datetime.fromtimestamp(int(week["week"]), UTC)) for week in facts.weeks]
    configured = (await instance_settings.get_instance_settings(session, ctx.settings)).registrations
    sign_up = await signup.registration_status(session, ctx.settings, configured)
    reports = await moderation.open_reports_count(session, viewer.id)
    return await admin_page(request, viewer, "admin/overview.html", section="overview", title="Overview",
                            counts=facts.accounts, weeks=weeks, sign_up=sign_up, reports=reports)


# --- instance settings ---------------------------------------------------------------------------------

SETTING_LABELS = {"title": "Name", "description": "Description", "registrations": "Registrations",
                  "max_characters": "Character limit", "contact_email": "Contact email"}
FIELD_LIMIT = 10_000  # far above every real limit; the service says what the real one is


def _settings_form(options: instance_settings.InstanceSettings) -> dict[str, str]:
    return {"title": options.title, "description": options.description, "registrations": options.registrations,
            "max_characters": str(options.max_characters), "contact_email": options.contact_email}


async def _settings_page(request: Request, viewer: Account, form: dict[str, str], errors: dict[str, str], *,
                         saved: bool = False, status_code: int = 200) -> Response:
    return await admin_page(request, viewer, "admin/settings.html", section="settings",
                            title="Instance settings", form=form, errors=errors, saved=saved,
                            modes=instance_settings.REGISTRATION_MODES, status_code=status_code)


@router.get("/admin/settings")
async def settings_form(request: Request, ctx: Ctx, session: ReadSession, viewer: AdminViewer) -> Response:
    options = await instance_settings.get_instance_settings(session, ctx.settings)
    saved = request.query_params.get("saved") == "1"
    return await _settings_page(request, viewer, _settings_form(options), {}, saved=saved)


@router.post("/admin/settings")
async def settings_save(request: Request, session: WriteSession, viewer: AdminViewer, form: CsrfForm) -> Response:
    typed = {name: form.str(name, "", max_length=FIELD_LIMIT) or "" for name in SETTING_LABELS}
    try:
        await instance_settings.update_instance_settings(session, dict(typed))
    except Unprocessable as exc:
        errors = {key: f"{SETTING_LABELS.get(key, key)} {problems[0]['description']}"
                  for key, problems in (exc.details or {}).items()}
        return await _settings_page(request, viewer, typed, errors, status_code=422)
    return redirect("/admin/settings?saved=1")


# --- accounts ------------------------------------------------------------------------------------------

ACTIONS = {"suspend": accounts_admin.suspend, "unsuspend": accounts_admin.unsuspend,
           "approve": accounts_admin.approve}
DONE = {"suspend": "suspended", "unsuspend": "unsuspended", "approve": "approved"}


@router.get("/admin/accounts")
async def accounts(request: Request, session: ReadSession, viewer: AdminViewer) -> Response:
    params = query_params(request)
    query = params.str("q", "", max_length=accounts_admin.MAX_QUERY) or ""
    status = params.str("status", "all", max_length=20) or "all"
    if status not in accounts_admin.ACCOUNT_FILTERS:
        status = "all"
    max_id = ids.parse_id(params.str("max_id", max_length=30))
    found = await accounts_admin.find_accounts(session, viewer, query=query, status=status, max_id=max_id,
                                               limit=accounts_admin.PAGE_SIZE + 1)
    more = len(found) > accounts_admin.PAGE_SIZE
    found = found[:accounts_admin.PAGE_SIZE]
    done = params.str("done", max_length=20)
    done_name = params.str("who", max_length=30)
    return await admin_page(request, viewer, "admin/accounts.html", section="accounts", title="Accounts",
                            accounts=found, query=query, status=status, filters=accounts_admin.ACCOUNT_FILTERS,
                            next_max_id=found[-1].id if more else None,
                            done=DONE.get(done or ""), done_name=done_name)


def _account_id(raw: int) -> int:
    if raw >= 2**63:
        raise NotFound()
    return raw


def _back(form, fallback: str = "/admin/accounts") -> str:
    """Where an action returns to: the list the admin was on (a local /admin/accounts URL only)."""
    back = form.str("back", "", max_length=2_000) or ""
    return back if back.startswith("/admin/accounts") and "\n" not in back and "\r" not in back else fallback


def _with(url: str, **values: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}{urlencode(values)}"


@router.get("/admin/accounts/{account_id:int}/reset_password")
async def confirm_reset(account_id: int, request: Request, session: ReadSession, viewer: AdminViewer) -> Response:
    """A password reset cannot be undone: the admin confirms it on its own page first."""
    account = await accounts_admin.get_account(session, viewer, _account_id(account_id))
    return await admin_page(request, viewer, "admin/confirm_reset.html", section="accounts",
                            title="Reset a password", account=account)


@router.post("/admin/accounts/{account_id:int}/{action}")
async def account_action(account_id: int, action: str, request: Request, session: WriteSession,
                         viewer: AdminViewer, form: CsrfForm) -> Response:
    if action == "reset_password":
        return await _reset_password(request, session, viewer, _account_id(account_id))
    act = ACTIONS.get(action)
    if act is None:
        raise NotFound()
    account = await act(session, viewer, _account_id(account_id))
    return redirect(_with(_back(form), done=action, who=account.username))


async def _reset_password(request: Request, session, viewer: Account, account_id: int) -> Response:
    account, password = await accounts_admin.reset_password(session, viewer, account_id)
    # Shown once, never stored in the clear, never cached.
    return await admin_page(request, viewer, "admin/password_reset.html", section="accounts",
                            title="Password reset", account=account, password=password, no_store=True)
