"""The notifications page: what it lists, the unread badge and marking read, follow requests answered
from it, dismissing and clearing, paging, and the page's query count."""

from __future__ import annotations

import re

from tests.test_timelines_support import QueryCounter
from tests.web.forms import sign_in

BADGE = re.compile(r'id="unread-count"[^>]*>([^<]+)<')


async def post(client, who, text: str, **extra) -> dict:
    response = await client.post("/api/v1/statuses", headers=who.headers, json={"status": text, **extra})
    assert response.status_code == 200, response.text
    return response.json()


async def test_notifications_need_a_session(client):
    response = await client.get("/notifications")
    assert response.status_code == 303 and response.headers["location"] == "/auth/sign_in?next=/notifications"


async def test_notifications_list_and_the_badge_clears_when_read(client, cast, drain):
    mine = await post(client, cast.alice, "Hello from alice")
    await client.post(f"/api/v1/statuses/{mine['id']}/favourite", headers=cast.bob.headers)
    await client.post(f"/api/v1/accounts/{cast.alice.id}/follow", headers=cast.eve.headers)
    await post(client, cast.bob, "@alice look <script>alert(1)</script>")
    await drain()
    await sign_in(client, cast.alice)
    before = await client.get("/settings/profile")
    assert BADGE.search(before.text).group(1) == "3"
    page = await client.get("/notifications")
    assert page.status_code == 200
    text = page.text
    assert "favourited your post" in text and "followed you" in text and "mentioned you" in text
    assert "Hello from alice" in text and "Load older notifications" not in text
    assert "<script>alert(1)</script>" not in text and "&lt;script&gt;" in text
    after = await client.get("/settings/profile")
    assert BADGE.search(after.text) is None
    unread = (await client.get("/api/v1/notifications/unread_count", headers=cast.alice.headers)).json()
    assert unread["count"] == 0


async def test_mentions_tab_shows_only_mentions(client, cast, drain):
    await post(client, cast.bob, "@alice hi there")
    await client.post(f"/api/v1/accounts/{cast.alice.id}/follow", headers=cast.eve.headers)
    await drain()
    await sign_in(client, cast.alice)
    page = await client.get("/notifications?show=mentions")
    assert "mentioned you" in page.text and "followed you" not in page.text
    assert BADGE.search(page.text) is not None  # the follow is still unread


async def test_follow_requests_are_answered_from_the_notification(client, cast, drain):
    await client.post(f"/api/v1/accounts/{cast.carol.id}/follow", headers=cast.alice.headers)
    await client.post(f"/api/v1/accounts/{cast.carol.id}/follow", headers=cast.bob.headers)
    await drain()
    token = await sign_in(client, cast.carol)
    page = await client.get("/notifications")
    assert page.text.count("asked to follow you") == 2
    accept = await client.post(f"/notifications/requests/{cast.alice.id}/authorize", data={"csrf_token": token})
    reject = await client.post(f"/notifications/requests/{cast.bob.id}/reject", data={"csrf_token": token})
    assert accept.status_code == 303 and reject.status_code == 303
    relationships = (await client.get("/api/v1/accounts/relationships", headers=cast.carol.headers,
                                      params={"id[]": [str(cast.alice.id), str(cast.bob.id)]})).json()
    assert [r["followed_by"] for r in relationships] == [True, False]
    forged = await client.post(f"/notifications/requests/{cast.eve.id}/authorize", data={})
    assert forged.status_code == 403


async def test_dismiss_and_clear(client, cast, drain):
    for who in (cast.bob, cast.eve):
        await client.post(f"/api/v1/accounts/{cast.alice.id}/follow", headers=who.headers)
    await drain()
    token = await sign_in(client, cast.alice)
    page = await client.get("/notifications")
    first = re.search(r'/notifications/(\d+)/dismiss', page.text).group(1)
    htmx = await client.post(f"/notifications/{first}/dismiss", data={"csrf_token": token},
                             headers={"HX-Request": "true"})
    assert htmx.status_code == 200 and htmx.text == ""
    assert len((await client.get("/api/v1/notifications", headers=cast.alice.headers)).json()) == 1
    assert (await client.post(f"/notifications/{first}/dismiss", data={"csrf_token": token})).status_code == 404
    assert (await client.post("/notifications/clear", data={})).status_code == 403
    assert (await client.post("/notifications/clear", data={"csrf_token": token})).status_code == 303
    assert (await client.get("/api/v1/notifications", headers=cast.alice.headers)).json() == []


async def test_one_cannot_dismiss_someone_elses_notification(client, cast, drain):
    await client.post(f"/api/v1/accounts/{cast.alice.id}/follow", headers=cast.bob.headers)
    await drain()
    theirs = (await client.get("/api/v1/notifications", headers=cast.alice.headers)).json()[0]["id"]
    token = await sign_in(client, cast.eve)
    assert (await client.post(f"/notifications/{theirs}/dismiss", data={"csrf_token": token})).status_code == 404
    assert len((await client.get("/api/v1/notifications", headers=cast.alice.headers)).json()) == 1


async def test_older_notifications_page_by_max_id(client, cast, make_account, drain):
    followers = [await make_account(f"fan{n}") for n in range(35)]
    for fan in followers:
        await client.post(f"/api/v1/accounts/{cast.alice.id}/follow", headers=fan.headers)
    await drain()
    await sign_in(client, cast.alice)
    first = await client.get("/notifications")
    assert first.text.count("followed you") == 30
    older = re.search(r'href="(/notifications\?show=all&amp;max_id=\d+)"', first.text).group(1).replace("&amp;", "&")
    rest = await client.get(older, headers={"HX-Request": "true"})
    assert rest.text.count("followed you") == 5 and "<html" not in rest.text
    assert "Load older notifications" not in rest.text


async def test_the_page_reads_a_fixed_number_of_queries(client, ctx, cast, make_account, drain):
    await sign_in(client, cast.alice)

    async def measure() -> int:
        with QueryCounter(ctx) as counted:
            assert (await client.get("/notifications")).status_code == 200
        return len(counted.statements)

    async def activity(n: int) -> None:
        for i in range(n):
            fan = await make_account(f"f{n}x{i}")
            await client.post(f"/api/v1/accounts/{cast.alice.id}/follow", headers=fan.headers)
            status = await post(client, fan, f"@alice note {i}")
            await client.post(f"/api/v1/statuses/{status['id']}/favourite", headers=cast.alice.headers)
        await drain()

    await activity(2)
    await measure()  # the first visit moves the marker; measure steady visits
    few = await measure()
    await activity(8)
    await measure()
    many = await measure()
    assert many == few
