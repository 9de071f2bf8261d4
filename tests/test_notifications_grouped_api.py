"""Grouped notifications (`/api/v2/notifications`, Mastodon 4.3): favourites and boosts of one post and
follows of one day group together, everything else stands alone; pages of groups with Link headers that
neither skip nor repeat; one group, its accounts, dismissing it; the unread count; and nobody else's."""

from __future__ import annotations

from urllib.parse import urlsplit

from starling.notifications import service as notifications
from tests.test_timelines_support import QueryCounter

URL = "/api/v2/notifications"


async def notify(ctx, recipient, sender, type="follow", status_id=None):
    async with ctx.db.write() as s:
        await notifications.notify(s, recipient_id=recipient.id, from_id=sender.id, type=type,
                                   status_id=status_id)


async def post(client, who, text: str) -> str:
    r = await client.post("/api/v1/statuses", json={"status": text}, headers=who.headers)
    assert r.status_code == 200, r.text
    return r.json()["id"]


async def grouped(client, who, **params) -> dict:
    r = await client.get(URL, params=params, headers=who.headers)
    assert r.status_code == 200, r.text
    return r.json()


def shape(body: dict) -> list[tuple[str, str, int, list[str]]]:
    return [(g["type"], g["group_key"].split("-")[0], g["notifications_count"], g["sample_account_ids"])
            for g in body["notification_groups"]]


async def test_favourites_of_a_post_and_follows_group_and_the_rest_stand_alone(client, cast, ctx, drain):
    status_id = await post(client, cast.bob, "group these")
    for who in (cast.alice, cast.carol, cast.eve):
        assert (await client.post(f"/api/v1/statuses/{status_id}/favourite", headers=who.headers)).status_code == 200
    await notify(ctx, cast.bob, cast.alice, "follow")
    await notify(ctx, cast.bob, cast.carol, "follow")
    await post(client, cast.eve, "@bob hello")
    await drain()

    body = await grouped(client, cast.bob)
    assert shape(body) == [
        ("mention", "ungrouped", 1, [str(cast.eve.id)]),
        ("follow", "follow", 2, [str(cast.carol.id), str(cast.alice.id)]),
        ("favourite", "favourite", 3, [str(cast.eve.id), str(cast.carol.id), str(cast.alice.id)])]
    favourites = body["notification_groups"][2]
    assert favourites["group_key"] == f"favourite-{status_id}" and favourites["status_id"] == status_id
    assert int(favourites["page_min_id"]) < int(favourites["page_max_id"]) == int(
        favourites["most_recent_notification_id"])
    assert favourites["latest_page_notification_at"].endswith("Z")
    # Every account and status a group names comes once in the page's lists.
    assert sorted(a["id"] for a in body["accounts"]) == sorted(
        {str(c.id) for c in (cast.alice, cast.carol, cast.eve)})
    assert {s["id"] for s in body["statuses"]} == {status_id, body["notification_groups"][0]["status_id"]}

    # The same notifications in v1 carry the same keys; asking to group only follows splits the favourites.
    v1 = (await client.get("/api/v1/notifications", headers=cast.bob.headers)).json()
    assert {n["group_key"] for n in v1 if n["type"] == "favourite"} == {f"favourite-{status_id}"}
    only_follows = await grouped(client, cast.bob, **{"grouped_types[]": "follow"})
    assert [t for t, *_ in shape(only_follows)] == ["mention", "follow", "favourite", "favourite", "favourite"]


async def test_pages_of_groups_neither_skip_nor_repeat(client, cast, drain):
    for i in range(10):
        await post(client, cast.alice, f"@bob hey {i}")
    await drain()

    first = await client.get(URL, params={"limit": 4}, headers=cast.bob.headers)
    seen = [g["most_recent_notification_id"] for g in first.json()["notification_groups"]]
    assert len(seen) == 4
    link = first.headers["link"]
    while 'rel="next"' in link:
        older = urlsplit(link.split(">")[0].lstrip("<"))
        page = await client.get(f"{older.path}?{older.query}", headers=cast.bob.headers)
        groups = page.json()["notification_groups"]
        if not groups:
            break
        seen += [g["most_recent_notification_id"] for g in groups]
        link = page.headers.get("link", "")
    assert len(seen) == 10 and len(set(seen)) == 10
    assert seen == sorted(seen, key=int, reverse=True)

    # Back up from the oldest page: the newer groups, nearest first.
    back = await client.get(URL, params={"limit": 3, "min_id": seen[-1]}, headers=cast.bob.headers)
    assert [g["most_recent_notification_id"] for g in back.json()["notification_groups"]] == seen[-4:-1]


async def test_a_page_ends_before_a_group_that_does_not_fit(client, cast, drain):
    posts = [await post(client, cast.bob, f"post {i}") for i in range(3)]
    # Newest first the favourites read: c on post 2, a on post 1, c on post 1, a on post 0.
    for who, status_id in ((cast.alice, posts[0]), (cast.carol, posts[1]), (cast.alice, posts[1]),
                           (cast.carol, posts[2])):
        await client.post(f"/api/v1/statuses/{status_id}/favourite", headers=who.headers)
    await drain()

    first = await client.get(URL, params={"limit": 2}, headers=cast.bob.headers)
    assert [(g["status_id"], g["notifications_count"]) for g in first.json()["notification_groups"]] == [
        (posts[2], 1), (posts[1], 2)]
    older = urlsplit(first.headers["link"].split(">")[0].lstrip("<"))
    rest = (await client.get(f"{older.path}?{older.query}", headers=cast.bob.headers)).json()
    assert [(g["status_id"], g["notifications_count"]) for g in rest["notification_groups"]] == [(posts[0], 1)]


async def test_one_group_its_accounts_and_dismissing_it(client, cast, drain):
    status_id = await post(client, cast.bob, "dismiss me")
    for who in (cast.alice, cast.carol):
        await client.post(f"/api/v1/statuses/{status_id}/favourite", headers=who.headers)
    await drain()
    key = f"favourite-{status_id}"

    one = await client.get(f"{URL}/{key}", headers=cast.bob.headers)
    assert one.status_code == 200
    assert [(g["group_key"], g["notifications_count"]) for g in one.json()["notification_groups"]] == [(key, 2)]
    accounts = await client.get(f"{URL}/{key}/accounts", headers=cast.bob.headers)
    assert [a["username"] for a in accounts.json()] == ["carol", "alice"]

    for path in (f"{URL}/{key}", f"{URL}/{key}/accounts", f"{URL}/nonsense", f"{URL}/favourite-x",
                 f"{URL}/follow-{2**62}", f"{URL}/follow-2932896", f"{URL}/follow-2932895", f"{URL}/ungrouped-{2**64}"):
        assert (await client.get(path, headers=cast.alice.headers)).status_code == 404
    assert (await client.post(f"{URL}/{key}/dismiss", headers=cast.alice.headers)).status_code == 404

    assert (await client.post(f"{URL}/{key}/dismiss", headers=cast.bob.headers)).json() == {}
    assert (await client.get(f"{URL}/{key}", headers=cast.bob.headers)).status_code == 404
    assert (await grouped(client, cast.bob))["notification_groups"] == []


async def test_unread_count_counts_groups_after_the_marker(client, cast, ctx, drain):
    status_id = await post(client, cast.bob, "count me")
    for who in (cast.alice, cast.carol):
        await client.post(f"/api/v1/statuses/{status_id}/favourite", headers=who.headers)
    await notify(ctx, cast.bob, cast.eve, "follow")
    await drain()
    r = await client.get(f"{URL}/unread_count", headers=cast.bob.headers)
    assert r.json() == {"count": 2}

    newest = (await grouped(client, cast.bob))["notification_groups"][0]["most_recent_notification_id"]
    await client.post("/api/v1/markers", json={"notifications": {"last_read_id": newest}}, headers=cast.bob.headers)
    assert (await client.get(f"{URL}/unread_count", headers=cast.bob.headers)).json() == {"count": 0}


async def test_grouped_notifications_need_the_notifications_scopes(client, cast, make_account):
    assert (await client.get(URL)).status_code == 401
    narrow = await make_account("narrow", scopes="read:statuses write:statuses")
    assert (await client.get(URL, headers=narrow.headers)).status_code == 403
    assert (await client.post(f"{URL}/ungrouped-1/dismiss", headers=narrow.headers)).status_code == 403


async def test_a_page_reads_the_same_number_of_statements_for_few_or_many_groups(client, ctx, cast,
                                                                                  make_account, drain):
    async def measure() -> int:
        await client.get(URL, headers=cast.bob.headers)  # warm per-process caches
        with QueryCounter(ctx) as counted:
            r = await client.get(URL, headers=cast.bob.headers)
        assert r.status_code == 200
        return len(counted.statements)

    async def activity(start: int, n: int) -> None:
        for i in range(start, start + n):
            fan = await make_account(f"fan{i}")
            status_id = await post(client, cast.bob, f"post {i}")
            await client.post(f"/api/v1/statuses/{status_id}/favourite", headers=fan.headers)
            await client.post(f"/api/v1/accounts/{cast.bob.id}/follow", headers=fan.headers)
            await post(client, fan, f"@bob hello {i}")
        await drain()

    await activity(0, 2)
    few = await measure()
    await activity(2, 8)
    assert len((await grouped(client, cast.bob))["notification_groups"]) > 10
    assert await measure() == few
