"""Reports and moderation through the API: filing a report, the admin queue and its role checks, each
account and post action with its notice, appeals, and the append-only audit log."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from starling.errors import Forbidden
from starling.safety import moderation

ADMIN_SCOPES = "read write follow push admin:read admin:write"


async def post(client, who, text="hello there", **extra):
    r = await client.post("/api/v1/statuses", json={"status": text, **extra}, headers=who.headers)
    assert r.status_code == 200, r.text
    return r.json()["id"]


async def report(client, who, target, **body):
    return await client.post("/api/v1/reports", json={"account_id": str(target.id), **body}, headers=who.headers)


async def audit(client, cast):
    r = await client.get("/api/v1/admin/audit_log", headers=cast.admin.headers)
    assert r.status_code == 200
    return [e["action"] for e in r.json()]


async def test_file_a_report_in_mastodon_shape(client, cast):
    status_id = await post(client, cast.bob, "buy my stuff")
    r = await report(client, cast.alice, cast.bob, status_ids=[status_id], comment="spam again", category="spam",
                     forward=True)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["category"] == "spam" and body["comment"] == "spam again" and body["forwarded"] is True
    assert body["status_ids"] == [status_id] and body["target_account"]["id"] == str(cast.bob.id)
    assert body["action_taken"] is False

    r = await report(client, cast.alice, cast.bob, rule_ids=["2"])
    assert r.json()["category"] == "violation"


async def test_bad_reports_are_refused(client, cast):
    bob_status = await post(client, cast.bob)
    eve_status = await post(client, cast.eve)
    private = await post(client, cast.bob, "followers only", visibility="private")
    assert (await report(client, cast.alice, cast.alice)).status_code == 422  # oneself
    assert (await report(client, cast.alice, cast.bob, status_ids=[eve_status])).status_code == 422  # not bob's
    assert (await report(client, cast.alice, cast.bob, status_ids=[private])).status_code == 422  # unseen
    assert (await report(client, cast.alice, cast.bob, comment="x" * 1001)).status_code == 422
    assert (await report(client, cast.alice, cast.bob, category="nonsense")).status_code == 422
    r = await client.post("/api/v1/reports", json={"account_id": "99999999"}, headers=cast.alice.headers)
    assert r.status_code == 404
    r = await client.post("/api/v1/reports", json={}, headers=cast.alice.headers)
    assert r.status_code == 422 and "error" in r.json()
    assert (await report(client, cast.alice, cast.bob, status_ids=[bob_status])).status_code == 200


async def test_admin_api_needs_scope_and_role(client, cast, make_account):
    await report(client, cast.alice, cast.bob)
    # A user whose app was granted admin scopes is still not a moderator.
    pretender = await make_account("pretender", scopes=ADMIN_SCOPES)
    for url in ("/api/v1/admin/reports", "/api/v1/admin/accounts", "/api/v1/admin/audit_log"):
        r = await client.get(url, headers=pretender.headers)
        assert r.status_code == 403 and r.json()["error"]
    r = await client.post(f"/api/v1/admin/accounts/{cast.bob.id}/action", json={"type": "suspend"},
                          headers=pretender.headers)
    assert r.status_code == 403
    # A moderator whose token lacks the admin scopes cannot either.
    plain_mod = await make_account("plainmod", role="moderator")
    assert (await client.get("/api/v1/admin/reports", headers=plain_mod.headers)).status_code == 403
    # The sub-scope is enough; the wrong sub-scope is not.
    mod = await make_account("mod", role="moderator", scopes="admin:read:reports")
    assert (await client.get("/api/v1/admin/reports", headers=mod.headers)).status_code == 200
    assert (await client.get("/api/v1/admin/accounts", headers=mod.headers)).status_code == 403
    assert (await client.get("/api/v1/admin/reports")).status_code == 401
    assert "account.suspend" not in await audit(client, cast)


async def test_service_refuses_non_moderators(ctx, cast):
    async with ctx.db.write() as session:
        with pytest.raises(Forbidden):
            await moderation.act_on_account(session, cast.alice.id, cast.bob.id, "suspend", reason="no")


async def test_report_queue_assign_resolve_reopen(client, cast):
    status_id = await post(client, cast.bob, "something rude")
    report_id = (await report(client, cast.alice, cast.bob, status_ids=[status_id], comment="rude")).json()["id"]
    h = cast.admin.headers
    queue = (await client.get("/api/v1/admin/reports", headers=h)).json()
    assert [r["id"] for r in queue] == [report_id]
    entry = queue[0]
    assert entry["account"]["username"] == "alice" and entry["target_account"]["username"] == "bob"
    assert entry["statuses"][0]["id"] == status_id and entry["source"] == "report"

    r = await client.post(f"/api/v1/admin/reports/{report_id}/assign_to_self", headers=h)
    assert r.json()["assigned_account"]["username"] == "admin"
    r = await client.post(f"/api/v1/admin/reports/{report_id}/unassign", headers=h)
    assert r.json()["assigned_account"] is None
    r = await client.post(f"/api/v1/admin/reports/{report_id}/resolve", headers=h)
    assert r.json()["action_taken"] is True and r.json()["action_taken_by_account"]["username"] == "admin"
    assert (await client.get("/api/v1/admin/reports", headers=h)).json() == []
    resolved = (await client.get("/api/v1/admin/reports", params={"resolved": "true"}, headers=h)).json()
    assert [r["id"] for r in resolved] == [report_id]
    r = await client.post(f"/api/v1/admin/reports/{report_id}/reopen", headers=h)
    assert r.json()["action_taken"] is False
    assert (await client.get(f"/api/v1/admin/reports/{report_id}", headers=h)).json()["id"] == report_id
    assert (await client.get("/api/v1/admin/reports/12345", headers=h)).status_code == 404
    assert await audit(client, cast) == ["report.reopen", "report.resolve", "report.unassign", "report.assign"]


async def act(client, cast, target, kind, **body):
    r = await client.post(f"/api/v1/admin/accounts/{target.id}/action", json={"type": kind, **body},
                          headers=cast.admin.headers)
    assert r.status_code == 200, r.text


async def test_limit_hides_posts_from_non_followers_and_resolves_the_report(client, cast):
    r = await client.post(f"/api/v1/accounts/{cast.bob.id}/follow", headers=cast.alice.headers)
    assert r.status_code == 200
    status_id = await post(client, cast.bob, "a limited voice")
    report_id = (await report(client, cast.eve, cast.bob)).json()["id"]
    await act(client, cast, cast.bob, "silence", text="borderline spam", report_id=report_id)

    assert (await client.get(f"/api/v1/statuses/{status_id}", headers=cast.eve.headers)).status_code == 404
    assert (await client.get(f"/api/v1/statuses/{status_id}")).status_code == 404
    assert (await client.get(f"/api/v1/statuses/{status_id}", headers=cast.alice.headers)).status_code == 200
    public = (await client.get("/api/v1/timelines/public", headers=cast.eve.headers)).json()
    assert status_id not in [s["id"] for s in public]
    shown = (await client.get(f"/api/v1/admin/accounts/{cast.bob.id}", headers=cast.admin.headers)).json()
    assert shown["silenced"] is True and shown["account"]["username"] == "bob"
    report_state = (await client.get(f"/api/v1/admin/reports/{report_id}", headers=cast.admin.headers)).json()
    assert report_state["action_taken"] is True

    r = await client.post(f"/api/v1/admin/accounts/{cast.bob.id}/unsilence", headers=cast.admin.headers)
    assert r.json()["silenced"] is False
    assert (await client.get(f"/api/v1/statuses/{status_id}", headers=cast.eve.headers)).status_code == 200
    assert (await audit(client, cast))[:2] == ["account.unsilence", "account.silence"]


async def test_suspend_disable_sensitive_and_their_undoing(client, cast):
    h = cast.admin.headers
    await act(client, cast, cast.eve, "disable", text="compromised")
    refused = await client.get("/api/v1/accounts/verify_credentials", headers=cast.eve.headers)
    assert (refused.status_code, refused.json()) == (403, {"error": "Your login is currently disabled"})
    await client.post(f"/api/v1/admin/accounts/{cast.eve.id}/enable", headers=h)
    assert (await client.get("/api/v1/accounts/verify_credentials", headers=cast.eve.headers)).status_code == 200

    await act(client, cast, cast.carol, "sensitive", text="unmarked gore")
    carol_post = await post(client, cast.carol, "a picture", sensitive=False)
    r = await client.get(f"/api/v1/statuses/{carol_post}", headers=cast.carol.headers)
    assert r.json()["sensitive"] is True
    r = await client.post(f"/api/v1/admin/accounts/{cast.carol.id}/unsensitive", headers=h)
    assert r.json()["sensitized"] is False

    status_id = await post(client, cast.bob, "soon gone")
    await act(client, cast, cast.bob, "suspend", text="ban evasion")
    assert (await client.get("/api/v1/accounts/verify_credentials", headers=cast.bob.headers)).status_code == 401
    assert (await client.get(f"/api/v1/statuses/{status_id}", headers=cast.alice.headers)).status_code == 404
    r = await client.post(f"/api/v1/admin/accounts/{cast.bob.id}/unsuspend", headers=h)
    assert r.json()["suspended"] is False
    assert (await client.get(f"/api/v1/statuses/{status_id}", headers=cast.alice.headers)).status_code == 200
    # Admins are protected from moderators; nobody acts on themselves; unknown types are refused.
    r = await client.post(f"/api/v1/admin/accounts/{cast.admin.id}/action", json={"type": "suspend"}, headers=h)
    assert r.status_code == 422
    r = await client.post(f"/api/v1/admin/accounts/{cast.eve.id}/action", json={"type": "explode"}, headers=h)
    assert r.status_code == 422
    log = await audit(client, cast)
    assert log == ["account.unsuspend", "account.suspend", "account.unsensitive", "account.sensitive",
                   "account.enable", "account.disable"]


async def test_notice_appeal_and_approval_undoes_the_action(client, cast):
    await act(client, cast, cast.bob, "silence", text="You posted the same link 40 times.")
    notes = (await client.get("/api/v1/notifications", headers=cast.bob.headers)).json()
    warning = notes[0]["moderation_warning"]
    assert notes[0]["type"] == "moderation_warning" and notes[0]["account"]["id"] == str(cast.bob.id)
    assert warning["action"] == "silence" and warning["text"] == "You posted the same link 40 times."

    mine = (await client.get("/api/v1/moderation/warnings", headers=cast.bob.headers)).json()
    assert [w["id"] for w in mine] == [warning["id"]] and mine[0]["appeal"] is None
    url = f"/api/v1/moderation/warnings/{warning['id']}/appeal"
    assert (await client.post(url, json={"text": ""}, headers=cast.bob.headers)).status_code == 422
    assert (await client.post(url, json={"text": "not me"}, headers=cast.eve.headers)).status_code == 404
    r = await client.post(url, json={"text": "They were my own shop's links, I'll slow down."},
                          headers=cast.bob.headers)
    assert r.status_code == 200 and r.json()["state"] == "pending"
    assert (await client.post(url, json={"text": "again"}, headers=cast.bob.headers)).status_code == 422

    appeals = (await client.get("/api/v1/admin/appeals", headers=cast.admin.headers)).json()
    assert len(appeals) == 1 and appeals[0]["warning"]["action"] == "silence"
    r = await client.post(f"/api/v1/admin/appeals/{appeals[0]['id']}/approve", json={"text": "fair"},
                          headers=cast.admin.headers)
    assert r.json()["state"] == "approved"
    shown = (await client.get(f"/api/v1/admin/accounts/{cast.bob.id}", headers=cast.admin.headers)).json()
    assert shown["silenced"] is False
    assert (await client.post(f"/api/v1/admin/appeals/{appeals[0]['id']}/reject",
                              headers=cast.admin.headers)).status_code == 422
    assert (await audit(client, cast))[:3] == ["account.unsilence", "appeal.approved", "account.silence"]


async def test_post_actions_delete_sensitive_quarantine_release(client, cast, drain):
    h = cast.admin.headers
    doomed = await post(client, cast.bob, "delete me")
    marked = await post(client, cast.bob, "mark me")
    held = await post(client, cast.bob, "hold me back")
    await drain()

    async def action(status_id, kind):
        r = await client.post(f"/api/v1/admin/statuses/{status_id}/action", json={"type": kind, "text": "why"},
                              headers=h)
        assert r.status_code == 200, r.text

    await action(doomed, "delete")
    assert (await client.get(f"/api/v1/statuses/{doomed}", headers=cast.bob.headers)).status_code == 404
    await action(marked, "sensitive")
    assert (await client.get(f"/api/v1/statuses/{marked}", headers=cast.alice.headers)).json()["sensitive"] is True
    await action(held, "quarantine")
    assert (await client.get(f"/api/v1/statuses/{held}", headers=cast.alice.headers)).status_code == 404
    assert (await client.get(f"/api/v1/statuses/{held}", headers=cast.bob.headers)).status_code == 200
    await action(held, "release")
    await drain()
    assert (await client.get(f"/api/v1/statuses/{held}", headers=cast.alice.headers)).status_code == 200
    r = await client.post(f"/api/v1/admin/statuses/{held}/action", json={"type": "burn"}, headers=h)
    assert r.status_code == 422
    r = await client.post(f"/api/v1/admin/statuses/{held}/action", json={"type": "delete"},
                          headers=cast.alice.headers)
    assert r.status_code == 403

    warnings = (await client.get("/api/v1/moderation/warnings", headers=cast.bob.headers)).json()
    assert [w["action"] for w in warnings] == ["mark_statuses_as_sensitive", "delete_statuses"]
    assert await audit(client, cast) == ["status.release", "status.quarantine", "status.sensitive", "status.delete"]


async def test_admin_accounts_list_filters(client, cast, make_account):
    h = cast.admin.headers
    await act(client, cast, cast.eve, "suspend", text="x")
    r = await client.get("/api/v1/admin/accounts", params={"suspended": "true"}, headers=h)
    assert [a["username"] for a in r.json()] == ["eve"]
    r = await client.get("/api/v1/admin/accounts", params={"staff": "true"}, headers=h)
    assert [a["username"] for a in r.json()] == ["admin"]
    r = await client.get("/api/v1/admin/accounts", params={"username": "ca"}, headers=h)
    assert [a["username"] for a in r.json()] == ["carol"]
    r = await client.get("/api/v1/admin/accounts", params={"limit": 2}, headers=h)
    assert len(r.json()) == 2 and 'rel="next"' in r.headers["link"]
    assert (await client.get("/api/v1/admin/accounts", params={"remote": "true"}, headers=h)).json() == []
    r = await client.get("/api/v2/admin/accounts", params={"status": "suspended"}, headers=h)
    assert [a["username"] for a in r.json()] == ["eve"]
    r = await client.get("/api/v2/admin/accounts", params={"permissions": "staff"}, headers=h)
    assert [a["username"] for a in r.json()] == ["admin"]
    assert (await client.get("/api/v2/admin/accounts", params={"origin": "remote"}, headers=h)).json() == []


async def test_audit_log_is_append_only(ctx, client, cast):
    await act(client, cast, cast.eve, "silence", text="x")
    async with ctx.db.write() as session:
        with pytest.raises(DBAPIError):
            await session.execute(text("UPDATE moderation_log SET reason = 'nothing happened'"))
    async with ctx.db.write() as session:
        with pytest.raises(DBAPIError):
            await session.execute(text("DELETE FROM moderation_log"))
    assert await audit(client, cast) == ["account.silence"]
