"""The admin area: admins only (404 for everyone else), instance settings with inline errors, the accounts
list with search and actions (suspend, unsuspend, approve, reset password), the overview's counts, and
the section registry later issues add their pages to."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi import Request
from starlette.responses import Response

from starling.accounts import instance as instance_settings
from starling.accounts.models import Account
from starling.web import admin as web_admin
from tests.test_timelines_support import QueryCounter
from tests.web.forms import sign_in


async def account_row(ctx, account_id: int) -> Account:
    async with ctx.db.read() as session:
        return await session.get(Account, account_id)


ADMIN_PAGES = ("/admin", "/admin/settings", "/admin/accounts")


@pytest.mark.parametrize("path", ADMIN_PAGES)
async def test_admin_pages_are_for_admins_only(client, cast, path):
    anonymous = await client.get(path)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/auth/sign_in?next=")
    await sign_in(client, cast.alice)
    assert (await client.get(path)).status_code == 404


async def test_admin_forms_refuse_other_people_and_forged_requests(client, ctx, cast):
    token = await sign_in(client, cast.alice)
    refused = await client.post(f"/admin/accounts/{cast.bob.id}/suspend", data={"csrf_token": token})
    assert refused.status_code == 404
    assert (await client.post("/admin/settings", data={"csrf_token": token, "title": "Mine"})).status_code == 404
    assert (await client.get(f"/admin/accounts/{cast.bob.id}/reset_password")).status_code == 404
    assert (await client.post(f"/admin/accounts/{cast.bob.id}/reset_password",
                              data={"csrf_token": token})).status_code == 404
    await client.post("/auth/sign_out", data={"csrf_token": token})
    await sign_in(client, cast.admin)
    for missing in ({}, {"csrf_token": "0" * 64}):
        forged = await client.post(f"/admin/accounts/{cast.bob.id}/suspend", data=missing)
        assert forged.status_code == 403
        assert (await client.post("/admin/settings", data=missing | {"title": "Forged"})).status_code == 403
    assert (await account_row(ctx, cast.bob.id)).suspended_at is None
    async with ctx.db.read() as session:
        assert (await instance_settings.get_instance_settings(session, ctx.settings)).title != "Forged"


async def test_overview_shows_the_instance_counts(client, cast):
    await sign_in(client, cast.admin)
    response = await client.get("/admin")
    assert response.status_code == 200
    text = response.text
    assert "<dt>Accounts</dt><dd>5</dd>" in text
    assert "Sign-up: anyone can sign up" in text
    assert "Recent weeks" in text and text.count("<tr>") >= 5
    for section in ("Overview", "Instance settings", "Accounts"):
        assert f">{section}</a>" in text
    assert 'aria-current="page">Overview' in text


async def test_instance_settings_change_and_take_effect(client, ctx, cast):
    token = await sign_in(client, cast.admin)
    form = await client.get("/admin/settings")
    assert form.status_code == 200 and 'name="registrations" value="open" checked' in form.text
    response = await client.post("/admin/settings", data={
        "csrf_token": token, "title": "Starling Bay", "description": "A <b>calm</b> place",
        "registrations": "closed", "max_characters": "640", "contact_email": "ops@example.org"})
    assert response.status_code == 303 and response.headers["location"] == "/admin/settings?saved=1"
    saved = await client.get("/admin/settings?saved=1")
    assert "Instance settings saved." in saved.text and 'value="closed" checked' in saved.text
    assert "A &lt;b&gt;calm&lt;/b&gt; place" in saved.text
    async with ctx.db.read() as session:
        options = await instance_settings.get_instance_settings(session, ctx.settings)
    assert (options.title, options.registrations, options.max_characters) == ("Starling Bay", "closed", 640)
    instance = (await client.get("/api/v2/instance")).json()
    assert instance["title"] == "Starling Bay" and instance["registrations"]["enabled"] is False


async def test_instance_settings_errors_are_inline_and_nothing_is_saved(client, ctx, cast):
    token = await sign_in(client, cast.admin)
    response = await client.post("/admin/settings", data={
        "csrf_token": token, "title": "   ", "description": "kept <i>text</i>", "registrations": "sometimes",
        "max_characters": "lots", "contact_email": ""})
    assert response.status_code == 422
    text = response.text
    assert "Name can&#39;t be blank" in text
    assert "Registrations must be one of open, approval, invite, closed" in text
    assert "Character limit must be an integer" in text
    assert "kept &lt;i&gt;text&lt;/i&gt;" in text and 'value="lots"' in text
    assert 'aria-invalid="true"' in text and 'aria-describedby="e-title"' in text
    async with ctx.db.read() as session:
        options = await instance_settings.get_instance_settings(session, ctx.settings)
    assert options.description == ctx.settings.instance_description


async def test_accounts_list_searches_and_filters(client, cast, make_account):
    await make_account("mallory")
    await sign_in(client, cast.admin)
    everyone = await client.get("/admin/accounts")
    assert everyone.status_code == 200
    for name in ("admin", "alice", "bob", "carol", "eve", "mallory"):
        assert f"@{name}</a>" in everyone.text
    found = await client.get("/admin/accounts", params={"q": "mallo"})
    assert "@mallory</a>" in found.text and "@alice</a>" not in found.text
    by_email = await client.get("/admin/accounts", params={"q": "bob@testserver"})
    assert "@bob</a>" in by_email.text and "@alice</a>" not in by_email.text
    staff = await client.get("/admin/accounts", params={"status": "staff"})
    assert "@admin</a>" in staff.text and "@alice</a>" not in staff.text
    # An admin's own row and other admins' rows carry no action buttons.
    assert f"/admin/accounts/{cast.admin.id}/suspend" not in everyone.text
    assert f"/admin/accounts/{cast.alice.id}/suspend" in everyone.text


async def test_accounts_list_reads_a_fixed_number_of_queries(client, ctx, cast, make_account):
    await sign_in(client, cast.admin)
    with QueryCounter(ctx) as counted:
        await client.get("/admin/accounts")
    few = len(counted.statements)
    for n in range(15):
        await make_account(f"extra{n}")
    with QueryCounter(ctx) as counted:
        many_page = await client.get("/admin/accounts")
    many = len(counted.statements)
    assert many_page.text.count("/reset_password") == 19  # every account but the admin's own
    assert many == few


async def test_suspend_and_unsuspend_take_effect(client, ctx, cast):
    token = await sign_in(client, cast.admin)
    response = await client.post(f"/admin/accounts/{cast.bob.id}/suspend",
                                 data={"csrf_token": token, "back": "/admin/accounts?q=bo"})
    assert response.status_code == 303
    assert response.headers["location"] == "/admin/accounts?q=bo&done=suspend&who=bob"
    assert "@bob suspended." in (await client.get(response.headers["location"])).text
    assert (await account_row(ctx, cast.bob.id)).suspended_at is not None
    # Bob's app token stops working, and he cannot sign in.
    assert (await client.get("/api/v1/accounts/verify_credentials", headers=cast.bob.headers)).status_code == 401
    listed = await client.get("/admin/accounts", params={"status": "suspended"})
    assert "@bob</a>" in listed.text and f"/admin/accounts/{cast.bob.id}/unsuspend" in listed.text
    back = await client.post(f"/admin/accounts/{cast.bob.id}/unsuspend", data={"csrf_token": token})
    assert back.status_code == 303 and back.headers["location"].startswith("/admin/accounts?")
    assert (await account_row(ctx, cast.bob.id)).suspended_at is None


async def test_an_admin_cannot_act_on_themselves_or_other_admins(client, cast, make_account):
    other = await make_account("admin2", role="admin")
    token = await sign_in(client, cast.admin)
    for target in (cast.admin.id, other.id):
        response = await client.post(f"/admin/accounts/{target}/suspend", data={"csrf_token": token})
        assert response.status_code == 422 and "You cannot suspend" in response.text
    unknown = await client.post("/admin/accounts/123/suspend", data={"csrf_token": token})
    assert unknown.status_code == 404
    nonsense = await client.post(f"/admin/accounts/{cast.bob.id}/explode", data={"csrf_token": token})
    assert nonsense.status_code == 404


async def test_back_never_leaves_the_accounts_list(client, cast):
    token = await sign_in(client, cast.admin)
    response = await client.post(f"/admin/accounts/{cast.bob.id}/suspend",
                                 data={"csrf_token": token, "back": "https://evil.example/admin/accounts"})
    assert response.headers["location"].startswith("/admin/accounts?done=suspend")


async def test_reset_password_shows_a_one_time_password_that_works(client, ctx, cast):
    token = await sign_in(client, cast.admin)
    confirm = await client.get(f"/admin/accounts/{cast.eve.id}/reset_password")
    assert confirm.status_code == 200 and "Reset the password" in confirm.text
    assert (await client.get("/admin/accounts/123/reset_password")).status_code == 404
    response = await client.post(f"/admin/accounts/{cast.eve.id}/reset_password", data={"csrf_token": token})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    password = re.search(r'id="new-password"[^>]* value="([^"]+)"', response.text).group(1)
    assert len(password) >= 16
    assert (await client.get("/api/v1/accounts/verify_credentials", headers=cast.eve.headers)).status_code == 401
    await client.post("/auth/sign_out", data={"csrf_token": token})
    cast.eve.password = password
    await sign_in(client, cast.eve)
    assert "eve@testserver" in (await client.get("/settings/account")).text


async def test_approving_a_pending_account_lets_it_in(client, ctx, cast, make_account):
    pending = await make_account("newcomer")
    async with ctx.db.write() as session:
        row = await session.get(Account, pending.id)
        row.approved, row.registration_reason = False, "I ring <b>bells</b> for birds"
    token = await sign_in(client, cast.admin)
    listed = await client.get("/admin/accounts", params={"status": "pending"})
    assert "@newcomer</a>" in listed.text and "Awaiting approval" in listed.text
    assert "I ring &lt;b&gt;bells&lt;/b&gt; for birds" in listed.text
    response = await client.post(f"/admin/accounts/{pending.id}/approve", data={"csrf_token": token})
    assert response.status_code == 303
    assert (await account_row(ctx, pending.id)).approved is True


async def test_user_text_is_escaped_in_the_admin_pages(client, ctx, cast):
    async with ctx.db.write() as session:
        (await session.get(Account, cast.eve.id)).display_name = "<script>alert(1)</script>"
    await sign_in(client, cast.admin)
    listed = await client.get("/admin/accounts")
    assert "<script>alert(1)</script>" not in listed.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in listed.text


async def test_moderators_see_only_the_sections_open_to_them(client, cast, make_account):
    moderator = await make_account("mod", role="moderator")
    before = list(web_admin.ADMIN_SECTIONS)
    web_admin.add_section("queue-test", "Queue", "/admin/queue-test", order=30, moderators=True)

    @web_admin.router.get("/admin/queue-test")
    async def queue(request: Request, viewer: web_admin.ModeratorViewer) -> Response:
        return await web_admin.admin_page(request, viewer, "admin/layout.html", section="queue-test", title="Queue")

    try:
        client._transport.app.include_router(web_admin.router)
        await sign_in(client, moderator)
        page = await client.get("/admin/queue-test")
        assert page.status_code == 200 and ">Queue</a>" in page.text and ">Accounts</a>" not in page.text
        assert (await client.get("/admin/accounts")).status_code == 404
    finally:
        web_admin.ADMIN_SECTIONS[:] = before
        web_admin.router.routes[:] = [r for r in web_admin.router.routes if r.path != "/admin/queue-test"]
    assert web_admin.sections_for(None) == []


def test_sections_register_once_and_sort_by_order():
    before = list(web_admin.ADMIN_SECTIONS)
    try:
        first = web_admin.add_section("zz-test", "Test section", "/admin/zz", order=15)
        again = web_admin.add_section("zz-test", "Other title", "/admin/other", order=99)
        assert again is first
        keys = [s.key for s in web_admin.ADMIN_SECTIONS]
        assert keys.index("settings") < keys.index("zz-test") < keys.index("accounts")
    finally:
        web_admin.ADMIN_SECTIONS[:] = before


async def test_suspending_or_resetting_signs_the_persons_browsers_out(client, app, cast):
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as eve_browser, \
            httpx.AsyncClient(transport=transport, base_url="http://testserver") as bob_browser:
        await sign_in(eve_browser, cast.eve)
        await sign_in(bob_browser, cast.bob)
        assert (await eve_browser.get("/settings/account")).status_code == 200
        token = await sign_in(client, cast.admin)
        await client.post(f"/admin/accounts/{cast.eve.id}/reset_password", data={"csrf_token": token})
        await client.post(f"/admin/accounts/{cast.bob.id}/suspend", data={"csrf_token": token})
        await client.post(f"/admin/accounts/{cast.bob.id}/unsuspend", data={"csrf_token": token})
        for browser in (eve_browser, bob_browser):
            response = await browser.get("/settings/account")
            assert response.status_code == 303 and response.headers["location"].startswith("/auth/sign_in")


async def test_the_accounts_list_pages_to_older_accounts(client, cast, monkeypatch):
    monkeypatch.setattr(web_admin.accounts_admin, "PAGE_SIZE", 3)
    await sign_in(client, cast.admin)
    first = await client.get("/admin/accounts")
    assert [m for m in ("@eve</a>", "@carol</a>", "@bob</a>") if m in first.text] == ["@eve</a>", "@carol</a>",
                                                                                      "@bob</a>"]
    older = re.search(r'href="(/admin/accounts\?[^"]*max_id=\d+)"', first.text).group(1).replace("&amp;", "&")
    second = await client.get(older)
    assert "@alice</a>" in second.text and "@admin</a>" in second.text and "@eve</a>" not in second.text
    assert "Older accounts" not in second.text
