"""Settings pages: profile, account (email; the password form is /auth/password), privacy, muted and
blocked accounts, and the apps one has authorised. Each form goes through the same service functions
as the API, and shows its errors inline with what was typed."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from fastapi import Request
from starlette.datastructures import UploadFile
from starlette.responses import Response

from starling import ids
from starling.accounts import authorizations, credentials, policy
from starling.accounts import service as accounts
from starling.accounts.models import Account
from starling.accounts.service import ProfileChanges
from starling.api.deps import Ctx, ReadSession, WriteSession
from starling.api.pagination import Page
from starling.api.params import Params
from starling.context import AppContext
from starling.errors import NotFound, TooLarge, Unprocessable
from starling.graph import service as graph
from starling.media import service as media
from starling.web.deps import CsrfForm, Viewer, WebSessionId
from starling.web.pages import page, redirect, web_router
from starling.web.people import MISSING_AVATAR, MISSING_HEADER, image_url, person

router = web_router()


@dataclass(frozen=True)
class SettingsSection:
    key: str
    title: str
    path: str


SETTINGS_SECTIONS = (
    SettingsSection("profile", "Profile", "/settings/profile"),
    SettingsSection("account", "Account", "/settings/account"),
    SettingsSection("privacy", "Privacy", "/settings/privacy"),
    SettingsSection("mutes", "Muted accounts", "/settings/mutes"),
    SettingsSection("blocks", "Blocked accounts", "/settings/blocks"),
    SettingsSection("applications", "Apps and browsers", "/settings/applications"),
)
TEXT_GUARD = 10_000  # far above every real limit: the service says what the real one is
LIST_PAGE = 40
VISIBILITY_CHOICES = (("public", "Public: anyone can see, and it shows in public timelines"),
                      ("unlisted", "Unlisted: anyone can see, but not in public timelines"),
                      ("private", "Followers only"))


async def settings_page(request: Request, template: str, *, section: str, title: str, status_code: int = 200,
                        **context) -> Response:
    return await page(request, template, status_code=status_code, settings_sections=SETTINGS_SECTIONS,
                      settings_section=section, title=title, **context)


def field_errors(exc: Unprocessable, labels: dict[str, str]) -> dict[str, str]:
    """A service's 422 as one sentence per form field ("Display name is too long ..."); problems with no
    field of their own go under "form"."""
    errors: dict[str, str] = {}
    for key, problems in (exc.details or {}).items():
        name = key.split(".")[-1]
        description = problems[0]["description"]
        errors[name] = description if description[:1].isupper() else f"{labels.get(name, name)} {description}"
    if not errors:
        errors["form"] = exc.message
    return errors


# --- profile -------------------------------------------------------------------------------------------

PROFILE_LABELS = {"display_name": "Display name", "note": "Bio", "fields": "Extra fields", "avatar": "Avatar",
                  "header": "Header", "avatar_description": "Avatar description",
                  "header_description": "Header description"}


def _profile_form(account: Account) -> dict:
    fields = [{"name": f.get("name", ""), "value": f.get("value", "")} for f in (account.fields or [])]
    fields += [{"name": "", "value": ""}] * (policy.FIELDS_MAX - len(fields))
    return {"display_name": account.display_name, "note": account.note, "bot": account.bot, "fields": fields,
            "avatar_description": account.avatar_description, "header_description": account.header_description}


async def _profile_page(request: Request, ctx: AppContext, account: Account, form: dict, errors: dict[str, str],
                        *, saved: bool = False, status_code: int = 200) -> Response:
    return await settings_page(
        request, "settings/profile.html", section="profile", title="Profile", form=form, errors=errors,
        saved=saved, status_code=status_code, limits=policy,
        avatar_url=image_url(ctx, account.avatar_key, MISSING_AVATAR),
        header_url=image_url(ctx, account.header_key, MISSING_HEADER))


@router.get("/settings")
async def settings_index() -> Response:
    return redirect("/settings/profile")


@router.get("/settings/profile")
async def profile_form(request: Request, ctx: Ctx, viewer: Viewer) -> Response:
    saved = request.query_params.get("saved") == "1"
    return await _profile_page(request, ctx, viewer, _profile_form(viewer), {}, saved=saved)


def _typed_fields(form: Params) -> list[dict[str, str]]:
    rows = []
    for index in range(policy.FIELDS_MAX):
        name = form.str(f"field_name_{index}", "", max_length=TEXT_GUARD) or ""
        value = form.str(f"field_value_{index}", "", max_length=TEXT_GUARD) or ""
        rows.append({"name": name.strip(), "value": value.strip()})
    return rows


async def _read_image(ctx: AppContext, upload: UploadFile | None) -> bytes | None:
    if upload is None or not upload.filename:
        return None
    data = await upload.read(ctx.settings.media_max_bytes + 1)
    if len(data) > ctx.settings.media_max_bytes:
        raise TooLarge("File is too large")
    return data or None


@router.post("/settings/profile")
async def profile_save(request: Request, ctx: Ctx, session: WriteSession, viewer: Viewer,
                       form: CsrfForm) -> Response:
    typed_fields = _typed_fields(form)
    typed = {"display_name": form.str("display_name", "", max_length=TEXT_GUARD) or "",
             "note": form.str("note", "", max_length=TEXT_GUARD) or "",
             "bot": bool(form.bool("bot", False)), "fields": typed_fields,
             "avatar_description": form.str("avatar_description", "", max_length=TEXT_GUARD) or "",
             "header_description": form.str("header_description", "", max_length=TEXT_GUARD) or ""}
    changes = ProfileChanges(display_name=typed["display_name"], note=typed["note"], bot=typed["bot"],
                             fields=[f for f in typed_fields if f["name"] or f["value"]],
                             avatar_description=typed["avatar_description"],
                             header_description=typed["header_description"])
    errors: dict[str, str] = {}
    try:
        accounts.check_profile_changes(changes)
        for kind in ("avatar", "header"):
            try:
                data = await _read_image(ctx, form.file(kind))
                if data is None:
                    continue
                key = await asyncio.to_thread(media.store_profile_image, ctx, data, kind)
            except (Unprocessable, TooLarge) as exc:
                errors[kind] = f"{PROFILE_LABELS[kind]}: {exc.message}"
                continue
            setattr(changes, f"{kind}_key", key)
    except Unprocessable as exc:
        errors.update(field_errors(exc, PROFILE_LABELS))
    if errors:
        return await _profile_page(request, ctx, viewer, typed, errors, status_code=422)
    await accounts.update_profile(session, viewer.id, changes, settings=ctx.settings)
    return redirect("/settings/profile?saved=1")


# --- account -------------------------------------------------------------------------------------------

@router.get("/settings/account")
async def account_form(request: Request, viewer: Viewer) -> Response:
    saved = request.query_params.get("saved") == "1"
    return await settings_page(request, "settings/account.html", section="account", title="Account",
                               form={"email": viewer.email or ""}, errors={}, saved=saved)


@router.post("/settings/account/email")
async def email_save(request: Request, session: WriteSession, viewer: Viewer, form: CsrfForm) -> Response:
    email = form.str("email", "", max_length=TEXT_GUARD) or ""
    try:
        await credentials.change_email(session, viewer.id, email=email,
                                       current_password=form.str("current_password", "", max_length=1_000) or "")
    except Unprocessable as exc:
        return await settings_page(request, "settings/account.html", section="account", title="Account",
                                   form={"email": email}, errors=field_errors(exc, {}), status_code=422)
    return redirect("/settings/account?saved=1")


# --- privacy -------------------------------------------------------------------------------------------

PRIVACY_FLAGS = ("locked", "discoverable", "indexable", "hide_collections")


@router.get("/settings/privacy")
async def privacy_form(request: Request, viewer: Viewer) -> Response:
    form = {flag: getattr(viewer, flag) for flag in PRIVACY_FLAGS} | {"privacy": viewer.default_privacy}
    return await settings_page(request, "settings/privacy.html", section="privacy", title="Privacy", form=form,
                               errors={}, choices=VISIBILITY_CHOICES,
                               saved=request.query_params.get("saved") == "1")


@router.post("/settings/privacy")
async def privacy_save(request: Request, ctx: Ctx, session: WriteSession, viewer: Viewer, form: CsrfForm) -> Response:
    typed = {flag: bool(form.bool(flag, False)) for flag in PRIVACY_FLAGS}
    typed["privacy"] = form.str("privacy", "", max_length=20) or ""
    try:
        await accounts.update_profile(session, viewer.id, ProfileChanges(**typed), settings=ctx.settings)
    except Unprocessable as exc:
        errors = field_errors(exc, {"privacy": "Default visibility"})
        return await settings_page(request, "settings/privacy.html", section="privacy", title="Privacy",
                                   form=typed, errors=errors, choices=VISIBILITY_CHOICES, status_code=422)
    return redirect("/settings/privacy?saved=1")


# --- muted and blocked accounts ------------------------------------------------------------------------

def _page_of(request: Request) -> Page:
    return Page(max_id=ids.parse_id(request.query_params.get("max_id")), limit=LIST_PAGE + 1)


def _target(raw: int) -> int:
    if raw >= 2**63:
        raise NotFound()
    return raw


@router.get("/settings/mutes")
async def mutes(request: Request, ctx: Ctx, session: ReadSession, viewer: Viewer) -> Response:
    rows = await graph.muted_accounts(session, viewer.id, _page_of(request))
    more = len(rows) > LIST_PAGE
    rows = rows[:LIST_PAGE]
    people = [person(ctx, account, until=mute.expires_at, notifications=mute.hide_notifications)
              for _, mute, account in rows]
    return await settings_page(request, "settings/mutes.html", section="mutes", title="Muted accounts",
                               people=people, next_max_id=rows[-1][0] if more else None,
                               done=request.query_params.get("done") == "1")


@router.post("/settings/mutes/{account_id:int}/unmute")
async def unmute(account_id: int, session: WriteSession, viewer: Viewer, form: CsrfForm) -> Response:
    await graph.unmute(session, viewer.id, _target(account_id))
    return redirect("/settings/mutes?done=1")


@router.get("/settings/blocks")
async def blocks(request: Request, ctx: Ctx, session: ReadSession, viewer: Viewer) -> Response:
    rows = await graph.blocked_accounts(session, viewer.id, _page_of(request))
    more = len(rows) > LIST_PAGE
    rows = rows[:LIST_PAGE]
    people = [person(ctx, account) for _, account in rows]
    return await settings_page(request, "settings/blocks.html", section="blocks", title="Blocked accounts",
                               people=people, next_max_id=rows[-1][0] if more else None,
                               done=request.query_params.get("done") == "1")


@router.post("/settings/blocks/{account_id:int}/unblock")
async def unblock(account_id: int, session: WriteSession, viewer: Viewer, form: CsrfForm) -> Response:
    await graph.unblock(session, viewer.id, _target(account_id))
    return redirect("/settings/blocks?done=1")


# --- authorised apps -----------------------------------------------------------------------------------

@router.get("/settings/applications")
async def applications(request: Request, session: ReadSession, viewer: Viewer, current: WebSessionId) -> Response:
    granted = await authorizations.authorizations(session, viewer.id)
    browsers = await authorizations.browser_sessions(session, viewer.id)
    return await settings_page(request, "settings/applications.html", section="applications",
                               title="Apps and browsers", authorizations=granted, browsers=browsers,
                               current_session=current, done=request.query_params.get("done"))


@router.post("/settings/applications/{application}/revoke")
async def revoke(application: str, session: WriteSession, viewer: Viewer, form: CsrfForm) -> Response:
    """`application` is an app's id, or "none" for the tokens issued without an app."""
    application_id = None if application == "none" else ids.parse_id(application)
    if application != "none" and application_id is None:
        raise NotFound()
    await authorizations.revoke_authorization(session, viewer.id, application_id)
    return redirect("/settings/applications?done=app")


@router.post("/settings/browsers/{session_id:int}/sign_out")
async def sign_out_browser(session_id: int, session: WriteSession, viewer: Viewer, current: WebSessionId,
                           form: CsrfForm) -> Response:
    """Sign another browser out (this one signs out with the button in the navigation)."""
    if session_id == current or session_id >= 2**63:
        raise NotFound()
    await authorizations.end_browser_session(session, viewer.id, session_id)
    return redirect("/settings/applications?done=browser")
