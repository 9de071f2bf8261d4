"""A suspended account can still sign in to the web app, as on Mastodon, but sees only its suspension
page: that it is suspended, since when, the moderators' reason, and one appeal (then where the appeal
stands). Every other page and form sends it back there and changes nothing; the API keeps refusing its
tokens. A moderator finds the appeal from the moderation queue and can lift the suspension."""

from __future__ import annotations

from contextlib import asynccontextmanager

import httpx
from sqlalchemy import func, select

from starling.accounts.models import Account
from starling.graph.models import Follow
from starling.posts.models import Status
from starling.safety.models import AccountWarning, Appeal, Report
from starling.web.templating import exact_time, iso_time
from tests.web.forms import TOKEN, sign_in

REASON = "Repeated spam links after two warnings"
# Pages a signed-in person normally opens; a suspended one is sent to /suspended from each.
PAGES = ("/", "/home", "/compose", "/notifications", "/explore", "/local", "/search?q=hello", "/bookmarks",
         "/conversations", "/favourites", "/lists", "/menu", "/settings", "/settings/profile", "/settings/account",
         "/@alice", "/@bob", "/tags/hello", "/moderation/warnings", "/auth/sign_in", "/auth/sign_up", "/auth/password",
         "/admin", "/admin/moderation", "/no-such-page")


@asynccontextmanager
async def browser(app):
    """Another browser (its own cookies) on the same app."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        yield http


async def suspend_through_the_api(client, cast, who, reason: str = REASON):
    r = await client.post(f"/api/v1/admin/accounts/{who.id}/action", json={"type": "suspend", "text": reason},
                          headers=cast.admin.headers)
    assert r.status_code == 200, r.text


async def sign_in_suspended(client, who) -> str:
    """Sign in through the form and land on the suspension page; returns the page's CSRF token."""
    page = await client.get("/auth/sign_in")
    token = TOKEN.search(page.text).group(1)
    response = await client.post("/auth/sign_in", data={"csrf_token": token, "username": who.username,
                                                        "password": who.password, "next": "/home"})
    assert response.status_code == 303 and response.headers["location"] == "/suspended", response.text
    return TOKEN.search((await client.get("/suspended")).text).group(1)


async def count(ctx, stmt) -> int:
    async with ctx.db.read() as session:
        return int(await session.scalar(stmt))


async def test_a_suspended_person_signs_in_and_sees_why(client, ctx, cast):
    await client.post("/api/v1/statuses", json={"status": "before"}, headers=cast.bob.headers)
    await suspend_through_the_api(client, cast, cast.bob)
    await sign_in_suspended(client, cast.bob)
    page = await client.get("/suspended")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert "<h1 id=\"suspended-head\">Your account is suspended</h1>" in page.text
    assert REASON in page.text
    async with ctx.db.read() as session:
        suspended_at = (await session.get(Account, cast.bob.id)).suspended_at
    assert f'datetime="{iso_time(suspended_at)}">{exact_time(suspended_at)}</time>' in page.text
    # A labelled appeal form, and no way into the rest of the app from the navigation.
    assert '<label for="appeal-text">' in page.text and 'id="appeal-text"' in page.text
    assert 'action="/suspended/appeal"' in page.text and 'action="/auth/sign_out"' in page.text
    for elsewhere in ('href="/home"', 'href="/notifications"', 'href="/settings/profile"', 'href="/compose"'):
        assert elsewhere not in page.text


async def test_every_other_page_and_form_sends_a_suspended_person_back(client, ctx, cast):
    await suspend_through_the_api(client, cast, cast.bob)
    token = await sign_in_suspended(client, cast.bob)
    for path in PAGES:
        response = await client.get(path)
        assert response.status_code == 303 and response.headers["location"] == "/suspended", path
    htmx = await client.get("/home", headers={"HX-Request": "true"})
    assert htmx.headers.get("HX-Redirect") == "/suspended"
    warning_id = await _latest_warning(ctx, cast.bob.id)
    forms = {
        "/statuses": {"status": "I am still here"},
        f"/@{cast.alice.username}/follow": {},
        f"/report/{cast.alice.id}": {"category": "spam", "comment": "revenge"},
        "/settings/profile": {"display_name": "Renamed"},
        "/lists": {"title": "Mine"},
        f"/moderation/warnings/{warning_id}/appeal": {"text": "through the back door"},
        "/notifications/clear": {},
    }
    for path, fields in forms.items():
        response = await client.post(path, data={"csrf_token": token, **fields})
        assert response.status_code == 303 and response.headers["location"] == "/suspended", path
    assert await count(ctx, select(func.count()).select_from(Status).where(Status.account_id == cast.bob.id)) == 0
    assert await count(ctx, select(func.count()).select_from(Follow).where(Follow.account_id == cast.bob.id)) == 0
    assert await count(ctx, select(func.count()).select_from(Report).where(Report.account_id == cast.bob.id)) == 0
    assert await count(ctx, select(func.count()).select_from(Appeal)) == 0
    async with ctx.db.read() as session:
        assert (await session.get(Account, cast.bob.id)).display_name != "Renamed"
    # The API still refuses the account's tokens, as it did before web sign-in was allowed.
    refused = await client.get("/api/v1/accounts/verify_credentials", headers=cast.bob.headers)
    assert refused.status_code == 401 and refused.json() == {"error": "The access token is invalid"}
    # Signing out still works.
    out = await client.post("/auth/sign_out", data={"csrf_token": token})
    assert out.status_code == 303 and out.headers["location"] == "/"
    assert (await client.get("/suspended")).headers["location"].startswith("/auth/sign_in")


async def _latest_warning(ctx, account_id: int) -> int:
    async with ctx.db.read() as session:
        return await session.scalar(select(AccountWarning.id).where(AccountWarning.account_id == account_id)
                                    .order_by(AccountWarning.id.desc()).limit(1))


async def test_one_appeal_then_its_state(client, ctx, cast):
    await suspend_through_the_api(client, cast, cast.bob)
    token = await sign_in_suspended(client, cast.bob)
    blank = await client.post("/suspended/appeal", data={"csrf_token": token, "text": "   "})
    assert blank.status_code == 422 and "can&#39;t be blank" in blank.text
    assert 'aria-invalid="true"' in blank.text and 'role="alert"' in blank.text
    forged = await client.post("/suspended/appeal", data={"text": "no token"})
    assert forged.status_code == 403
    sent = await client.post("/suspended/appeal", data={"csrf_token": token, "text": "It was a <b>mistake</b>"})
    assert sent.status_code == 303 and sent.headers["location"] == "/suspended"
    page = (await client.get("/suspended")).text
    assert "It was a &lt;b&gt;mistake&lt;/b&gt;" in page  # as typed, escaped
    assert "Your appeal is waiting for a moderator" in page and 'action="/suspended/appeal"' not in page
    again = await client.post("/suspended/appeal", data={"csrf_token": token, "text": "Please, again"})
    assert again.status_code == 422 and "already been appealed" in again.text
    assert await count(ctx, select(func.count()).select_from(Appeal).where(Appeal.account_id == cast.bob.id)) == 1


async def bob_suspended_and_appealing(client, cast, text: str) -> None:
    await suspend_through_the_api(client, cast, cast.bob)
    token = await sign_in_suspended(client, cast.bob)
    await client.post("/suspended/appeal", data={"csrf_token": token, "text": text})


async def appeal_of_bob(ctx, cast) -> int:
    async with ctx.db.read() as session:
        return await session.scalar(select(Appeal.id).where(Appeal.account_id == cast.bob.id))


async def test_a_moderator_finds_the_appeal_and_lifts_the_suspension(app, client, ctx, cast, make_account):
    await bob_suspended_and_appealing(client, cast, "I will stop, promise")
    moderator = await make_account("mod", role="moderator")
    async with browser(app) as staff:
        mod_token = await sign_in(staff, moderator)
        queue = (await staff.get("/admin/moderation")).text
        assert 'href="/admin/moderation/appeals">1 appeal waiting' in queue
        appeals = (await staff.get("/admin/moderation/appeals")).text
        assert "@bob" in appeals and "I will stop, promise" in appeals and "(suspended)" in appeals
        appeal_id = await appeal_of_bob(ctx, cast)
        decided = await staff.post(f"/admin/moderation/appeals/{appeal_id}/approve", data={"csrf_token": mod_token})
        assert decided.status_code == 303
        assert "appeal waiting" not in (await staff.get("/admin/moderation")).text
    async with ctx.db.read() as session:
        assert (await session.get(Account, cast.bob.id)).suspended_at is None
    # The same browser is back in the app.
    back = await client.get("/suspended")
    assert back.status_code == 303 and back.headers["location"] == "/home"
    assert (await client.get("/home")).status_code == 200


async def test_a_rejected_appeal_says_so_and_the_account_page_can_unsuspend(app, client, ctx, cast, make_account):
    await bob_suspended_and_appealing(client, cast, "Not me")
    moderator = await make_account("mod", role="moderator")
    async with browser(app) as staff:
        mod_token = await sign_in(staff, moderator)
        appeal_id = await appeal_of_bob(ctx, cast)
        await staff.post(f"/admin/moderation/appeals/{appeal_id}/reject", data={"csrf_token": mod_token})
        page = (await client.get("/suspended")).text
        assert "Your appeal was rejected" in page and "The suspension stands" in page
        assert (await client.get("/home")).headers["location"] == "/suspended"
        lifted = await staff.post(f"/admin/moderation/accounts/{cast.bob.id}/action",
                                  data={"csrf_token": mod_token, "type": "unsuspend", "reason": "second chance"})
        assert lifted.status_code == 303
    assert (await client.get("/home")).status_code == 200


async def test_a_suspension_from_the_admin_accounts_page_can_be_appealed_too(app, client, ctx, cast):
    async with browser(app) as admin:
        admin_token = await sign_in(admin, cast.admin)
        done = await admin.post(f"/admin/accounts/{cast.bob.id}/suspend", data={"csrf_token": admin_token})
        assert done.status_code == 303
    token = await sign_in_suspended(client, cast.bob)
    page = (await client.get("/suspended")).text
    assert "The moderators gave no reason." in page and 'action="/suspended/appeal"' in page
    sent = await client.post("/suspended/appeal", data={"csrf_token": token, "text": "Why?"})
    assert sent.status_code == 303
    assert "Your appeal is waiting for a moderator" in (await client.get("/suspended")).text


async def test_disabled_and_pending_accounts_still_cannot_sign_in(client, ctx, cast, make_account):
    pending = await make_account("waiting")
    async with ctx.db.write() as session:
        (await session.get(Account, cast.bob.id)).disabled_at = (await session.get(Account, cast.bob.id)).created_at
        (await session.get(Account, pending.id)).approved = False
    for who, words in ((cast.bob, "Your login is currently disabled."),
                       (pending, "Your login is currently pending approval.")):
        form = await client.get("/auth/sign_in")
        token = TOKEN.search(form.text).group(1)
        refused = await client.post("/auth/sign_in", data={"csrf_token": token, "username": who.username,
                                                           "password": who.password})
        assert refused.status_code == 403 and words in refused.text
    # Nobody who is not suspended is shown the suspension page.
    await sign_in(client, cast.alice)
    assert (await client.get("/suspended")).headers["location"] == "/home"
    token = TOKEN.search((await client.get("/home")).text).group(1)
    assert (await client.post("/suspended/appeal", data={"csrf_token": token, "text": "x"})).status_code == 303
    assert await count(ctx, select(func.count()).select_from(Appeal)) == 0
