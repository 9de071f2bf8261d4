"""Moderators hear about new reports: every active moderator and admin gets an `admin.report`
notification carrying Mastodon's Report entity, written by one statement in the report's own
transaction; the types filters work on it; the web report button notifies too and the moderator's
notifications page links to the report."""

from __future__ import annotations

from sqlalchemy import select

from starling.accounts.models import Account
from starling.notifications.models import Notification
from tests.test_timelines_support import QueryCounter
from tests.web.forms import TOKEN, sign_in

REPORT_KEYS = {"id", "action_taken", "action_taken_at", "category", "comment", "forwarded", "created_at",
               "status_ids", "rule_ids", "target_account"}


async def _post(client, who, text: str) -> str:
    r = await client.post("/api/v1/statuses", json={"status": text}, headers=who.headers)
    assert r.status_code == 200, r.text
    return r.json()["id"]


async def _notes(client, who, **params) -> list[dict]:
    r = await client.get("/api/v1/notifications", params=params, headers=who.headers)
    assert r.status_code == 200, r.text
    return r.json()


async def _staff(ctx, make_account):
    moderator = await make_account("mod", role="moderator", scopes="read write admin:read admin:write")
    gone = await make_account("gonemod", role="moderator")
    async with ctx.db.write() as session:
        (await session.get(Account, gone.id)).suspended_at = (await session.get(Account, gone.id)).created_at
    return moderator, gone


async def test_a_report_notifies_every_active_moderator_with_the_report(client, ctx, cast, make_account):
    moderator, suspended_moderator = await _staff(ctx, make_account)
    status_id = await _post(client, cast.bob, "something rude")
    with QueryCounter(ctx) as counter:
        r = await client.post("/api/v1/reports", json={"account_id": str(cast.bob.id), "status_ids": [status_id],
                                                       "comment": "rude", "category": "violation"},
                              headers=cast.alice.headers)
    assert r.status_code == 200, r.text
    report_id = r.json()["id"]
    inserts = [s for s in counter.statements if s.lstrip().upper().startswith("INSERT INTO NOTIFICATIONS")]
    assert len(inserts) == 1  # one statement for all the moderators

    for who in (cast.admin, moderator):
        notes = await _notes(client, who)
        assert [n["type"] for n in notes] == ["admin.report"]
        note = notes[0]
        assert note["account"]["id"] == str(cast.alice.id)  # the reporter, as Mastodon sends it
        assert set(note["report"]) == REPORT_KEYS
        assert note["report"]["id"] == report_id and note["report"]["comment"] == "rude"
        assert note["report"]["category"] == "violation" and note["report"]["status_ids"] == [status_id]
        assert note["report"]["target_account"]["id"] == str(cast.bob.id)
        assert note["report"]["action_taken"] is False and "status" not in note
        single = await client.get(f"/api/v1/notifications/{note['id']}", headers=who.headers)
        assert single.json()["report"]["id"] == report_id
    for who in (cast.alice, cast.bob, cast.carol, cast.eve):
        assert not [n for n in await _notes(client, who) if n["type"] == "admin.report"]
    async with ctx.db.read() as session:
        rows = list(await session.scalars(select(Notification.account_id).where(Notification.type == "admin.report")))
    assert sorted(rows) == sorted([cast.admin.id, moderator.id])  # the suspended moderator got nothing


async def test_types_filters_and_the_unread_count(client, ctx, cast, make_account):
    await _post(client, cast.admin, "hello @alice")  # a mention for nobody else; alice is not staff
    r = await client.post("/api/v1/reports", json={"account_id": str(cast.eve.id)}, headers=cast.alice.headers)
    assert r.status_code == 200
    await client.post(f"/api/v1/accounts/{cast.admin.id}/follow", headers=cast.bob.headers)
    assert [n["type"] for n in await _notes(client, cast.admin, **{"types[]": "admin.report"})] == ["admin.report"]
    assert "admin.report" not in [n["type"] for n in await _notes(client, cast.admin,
                                                                  **{"exclude_types[]": "admin.report"})]
    count = await client.get("/api/v1/notifications/unread_count", params={"types[]": "admin.report"},
                             headers=cast.admin.headers)
    assert count.json() == {"count": 1}


async def test_a_report_about_a_moderator_is_not_sent_to_them_and_a_refused_one_notifies_nobody(
        client, ctx, cast, make_account):
    moderator, _ = await _staff(ctx, make_account)
    r = await client.post("/api/v1/reports", json={"account_id": str(moderator.id)}, headers=cast.alice.headers)
    assert r.status_code == 200
    assert [n["type"] for n in await _notes(client, cast.admin)] == ["admin.report"]
    assert await _notes(client, moderator) == []
    # A report refused for bad input leaves no notification behind (same transaction).
    refused = await client.post("/api/v1/reports", json={"account_id": str(cast.bob.id), "category": "nonsense"},
                                headers=cast.alice.headers)
    assert refused.status_code == 422
    assert len(await _notes(client, cast.admin)) == 1


async def test_a_demoted_moderator_no_longer_reads_report_notices(client, ctx, cast, make_account):
    moderator, _ = await _staff(ctx, make_account)
    await client.post("/api/v1/reports", json={"account_id": str(cast.bob.id), "comment": "private words"},
                      headers=cast.alice.headers)
    assert len(await _notes(client, moderator)) == 1
    async with ctx.db.write() as session:
        (await session.get(Account, moderator.id)).role = "user"
    assert await _notes(client, moderator) == []


async def test_the_web_report_button_notifies_and_the_page_links_to_the_report(client, ctx, cast, make_account):
    moderator, _ = await _staff(ctx, make_account)
    status_id = await _post(client, cast.bob, "rude words on the web")
    await sign_in(client, cast.alice)
    form = await client.get(f"/report/{cast.bob.id}", params={"status_id": status_id})
    token = TOKEN.search(form.text).group(1)
    sent = await client.post(f"/report/{cast.bob.id}", data={"csrf_token": token, "status_id": status_id,
                                                             "category": "spam", "comment": "from the web"})
    assert sent.status_code == 200, sent.text
    report_id = (await _notes(client, moderator))[0]["report"]["id"]
    client.cookies.clear()
    await sign_in(client, moderator)
    page = await client.get("/notifications")
    assert page.status_code == 200
    assert "filed a report" in page.text
    assert f'href="/admin/moderation/reports/{report_id}"' in page.text and "@bob" in page.text
    assert "from the web" in page.text
    assert (await client.get(f"/admin/moderation/reports/{report_id}")).status_code == 200
