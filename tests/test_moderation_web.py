"""The moderation pages: moderators and admins only (404 for everyone else), the queue with people's
reports and the scorer's flags, a report's evidence, account actions with a reason (kept on error), post
actions, appeals from the account's own page, and the audit log; CSRF on every form."""

from __future__ import annotations

import re

from starling.accounts.models import Account
from starling.posts.models import Status
from tests.web.forms import sign_in

PAGES = ("/admin/moderation", "/admin/moderation/appeals", "/admin/moderation/log")


async def sign_out(client, token):
    await client.post("/auth/sign_out", data={"csrf_token": token})


async def post(client, who, text, **extra):
    r = await client.post("/api/v1/statuses", json={"status": text, **extra}, headers=who.headers)
    assert r.status_code == 200, r.text
    return r.json()["id"]


async def test_moderation_pages_are_for_staff_only(client, cast, make_account):
    for path in PAGES:
        anonymous = await client.get(path)
        assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/auth/sign_in")
    token = await sign_in(client, cast.alice)
    for path in PAGES:
        assert (await client.get(path)).status_code == 404
    refused = await client.post(f"/admin/moderation/accounts/{cast.bob.id}/action",
                                data={"csrf_token": token, "type": "suspend", "reason": "mine"})
    assert refused.status_code == 404
    await sign_out(client, token)
    moderator = await make_account("mod", role="moderator")
    await sign_in(client, moderator)
    for path in PAGES:
        page = await client.get(path)
        assert page.status_code == 200 and "Moderation queue" in page.text
    assert 'href="/admin/moderation"' in (await client.get("/home")).text  # their way in
    assert (await client.get("/admin")).status_code == 404  # the rest of the admin area stays admins' only


async def test_queue_report_evidence_and_actions(client, ctx, cast):
    ctx.settings.spam_blocked_domains = "spam.example"
    flagged = await post(client, cast.eve, "Cheap pills https://spam.example/buy")
    reported = await post(client, cast.bob, "Something rude & <b>loud</b>")
    r = await client.post("/api/v1/reports", json={"account_id": str(cast.bob.id), "status_ids": [reported],
                                                   "comment": "rude", "category": "violation"},
                          headers=cast.alice.headers)
    report_id = r.json()["id"]
    token = await sign_in(client, cast.admin)

    queue = (await client.get("/admin/moderation")).text
    assert "@bob" in queue and "@eve" in queue and "Spam scorer" in queue
    only_auto = (await client.get("/admin/moderation", params={"source": "auto"})).text
    assert "@eve" in only_auto and "@bob" not in only_auto

    detail = await client.get(f"/admin/moderation/reports/{report_id}")
    assert detail.status_code == 200
    assert "Something rude &amp; &lt;b&gt;loud&lt;/b&gt;" in detail.text  # the text as typed, escaped
    assert "rude" in detail.text and "@alice" in detail.text

    # A forged form changes nothing; a missing action keeps the typed reason and says what is wrong.
    forged = await client.post(f"/admin/moderation/accounts/{cast.bob.id}/action",
                               data={"type": "silence", "reason": "x"})
    assert forged.status_code == 403
    missing = await client.post(f"/admin/moderation/accounts/{cast.bob.id}/action",
                                data={"csrf_token": token, "reason": "Keeps shouting", "report_id": report_id})
    assert missing.status_code == 422 and "Keeps shouting" in missing.text and "Choose an action" in missing.text
    done = await client.post(f"/admin/moderation/accounts/{cast.bob.id}/action",
                             data={"csrf_token": token, "type": "silence", "reason": "Keeps shouting",
                                   "report_id": report_id})
    assert done.status_code == 303 and done.headers["location"] == f"/admin/moderation/reports/{report_id}"
    async with ctx.db.read() as session:
        assert (await session.get(Account, cast.bob.id)).silenced_at is not None
    assert "Resolved" in (await client.get(f"/admin/moderation/reports/{report_id}")).text

    # Post actions: release the scorer's catch; delete the rude post.
    r = await client.post(f"/admin/moderation/statuses/{flagged}/action",
                          data={"csrf_token": token, "type": "release", "account_id": cast.eve.id})
    assert r.status_code == 303
    r = await client.post(f"/admin/moderation/statuses/{reported}/action",
                          data={"csrf_token": token, "type": "delete", "report_id": report_id})
    assert r.status_code == 303
    async with ctx.db.read() as session:
        assert (await session.get(Status, int(flagged))).quarantined is False
        assert await session.get(Status, int(reported)) is None

    account_page = (await client.get(f"/admin/moderation/accounts/{cast.bob.id}")).text
    assert "Limited" in account_page and "Keeps shouting" in account_page and "Lift limit" in account_page
    log = (await client.get("/admin/moderation/log")).text
    for action in ("account.silence", "status.release", "status.delete", "auto.quarantine"):
        assert action in log


async def test_report_form_and_appeal_from_the_web(client, ctx, cast):
    status_id = await post(client, cast.bob, "Great deals in my little shop today")
    token = await sign_in(client, cast.alice)
    form = await client.get(f"/report/{cast.bob.id}", params={"status_id": status_id})
    assert form.status_code == 200 and "Great deals in my little shop today" in form.text
    too_long = await client.post(f"/report/{cast.bob.id}", data={"csrf_token": token, "category": "spam",
                                                                 "comment": "y" * 1001, "status_id": status_id})
    assert too_long.status_code == 422 and "y" * 1001 in too_long.text
    sent = await client.post(f"/report/{cast.bob.id}", data={"csrf_token": token, "category": "spam",
                                                             "comment": "bot", "status_id": status_id})
    assert sent.status_code == 200 and "Thank you" in sent.text
    assert (await client.post(f"/report/{cast.bob.id}", data={"category": "spam"})).status_code == 403
    await sign_out(client, token)

    r = await client.post(f"/api/v1/admin/accounts/{cast.bob.id}/action",
                          json={"type": "sensitive", "text": "Unmarked pictures"}, headers=cast.admin.headers)
    assert r.status_code == 200
    token = await sign_in(client, cast.bob)
    mine = await client.get("/moderation/warnings")
    assert "Unmarked pictures" in mine.text
    warning_id = re.search(r'/moderation/warnings/(\d+)/appeal', mine.text).group(1)
    empty = await client.post(f"/moderation/warnings/{warning_id}/appeal", data={"csrf_token": token, "text": ""})
    assert empty.status_code == 422
    filed = await client.post(f"/moderation/warnings/{warning_id}/appeal",
                              data={"csrf_token": token, "text": "They are paintings"})
    assert filed.status_code == 303
    assert "waiting for a moderator" in (await client.get("/moderation/warnings")).text
    await sign_out(client, token)

    token = await sign_in(client, cast.admin)
    appeals = (await client.get("/admin/moderation/appeals")).text
    assert "They are paintings" in appeals
    appeal_id = re.search(r'/admin/moderation/appeals/(\d+)/approve', appeals).group(1)
    r = await client.post(f"/admin/moderation/appeals/{appeal_id}/approve", data={"csrf_token": token})
    assert r.status_code == 303
    async with ctx.db.read() as session:
        assert (await session.get(Account, cast.bob.id)).sensitized_at is None


async def test_report_button_and_notice_link(client, cast):
    status_id = await post(client, cast.bob, "An ordinary post about the canal")
    await sign_in(client, cast.alice)
    page = (await client.get(f"/@bob/{status_id}")).text
    assert f'href="/report/{cast.bob.id}?status_id={status_id}"' in page
    r = await client.post(f"/api/v1/admin/accounts/{cast.alice.id}/action", json={"type": "none", "text": "Be kind"},
                          headers=cast.admin.headers)
    assert r.status_code == 200
    notes = (await client.get("/notifications")).text
    assert "received a notice from the moderators" in notes and 'href="/moderation/warnings"' in notes


async def test_the_admin_accounts_page_actions_are_in_the_audit_log(client, cast):
    token = await sign_in(client, cast.admin)
    r = await client.post(f"/admin/accounts/{cast.bob.id}/suspend", data={"csrf_token": token})
    assert r.status_code == 303
    r = await client.post(f"/admin/accounts/{cast.bob.id}/unsuspend", data={"csrf_token": token})
    assert r.status_code == 303
    log = (await client.get("/api/v1/admin/audit_log", headers=cast.admin.headers)).json()
    assert [e["action"] for e in log] == ["account.unsuspend", "account.suspend"]
    assert log[0]["moderator"]["username"] == "admin" and log[0]["target_account"]["username"] == "bob"


async def test_overview_counts_open_reports_and_flags_apart(client, ctx, cast):
    """Automatic flags notify nobody, so the admin overview says how many of each wait, linking to them."""
    await sign_in(client, cast.admin)
    empty = (await client.get("/admin")).text
    assert "<dt>Open reports</dt><dd>0</dd>" in empty and "<dt>Open automatic flags</dt><dd>0</dd>" in empty

    ctx.settings.spam_blocked_domains = "spam.example"
    await post(client, cast.eve, "Cheap pills https://spam.example/buy")
    for reporter in (cast.alice, cast.carol):
        r = await client.post("/api/v1/reports", json={"account_id": str(cast.bob.id), "comment": "rude"},
                              headers=reporter.headers)
        assert r.status_code == 200, r.text
    text = (await client.get("/admin")).text
    assert '<dt>Open reports</dt><dd><a href="/admin/moderation?source=report">2</a></dd>' in text
    assert '<dt>Open automatic flags</dt><dd><a href="/admin/moderation?source=auto">1</a></dd>' in text

    report_id = r.json()["id"]
    resolved = await client.post(f"/api/v1/admin/reports/{report_id}/resolve", headers=cast.admin.headers)
    assert resolved.status_code == 200, resolved.text
    assert ">1</a></dd>" in (await client.get("/admin")).text.split("<dt>Open reports</dt>")[1][:80]
