"""The direct messages page: the viewer's conversations with their people and newest message, unread
until marked read, removable, never anyone else's; and its place in the navigation."""

from __future__ import annotations

import re

from tests.web.forms import TOKEN, sign_in


async def direct(client, who, text, **extra) -> dict:
    r = await client.post("/api/v1/statuses", json={"status": text, "visibility": "direct", **extra},
                          headers=who.headers)
    assert r.status_code == 200, r.text
    return r.json()


async def test_the_page_lists_conversations_and_marks_them_read(client, cast, drain):
    await direct(client, cast.alice, "@bob @carol zqsecret plans")
    await drain()
    assert (await client.get("/conversations")).status_code == 303  # signed out: to the sign-in page

    await sign_in(client, cast.bob)
    page = await client.get("/conversations")
    assert page.status_code == 200
    assert "zqsecret plans" in page.text and "Unread" in page.text
    assert re.search(r'With\s*<a href="/@alice">@alice</a>, <a href="/@carol">@carol</a>', page.text)
    assert 'href="/conversations" aria-current="page">Direct messages' in page.text
    assert 'href="/conversations">Direct messages' in (await client.get("/notifications")).text  # the way in

    action = re.search(r'action="(/conversations/\d+/read)"', page.text).group(1)
    token = TOKEN.search(page.text).group(1)
    done = await client.post(action, data={"csrf_token": token, "next": "/conversations"})
    assert done.status_code == 303 and done.headers["location"] == "/conversations"
    page = await client.get("/conversations")
    assert "Unread" not in page.text and "Remove from this list" in page.text

    remove = re.search(r'action="(/conversations/\d+/remove)"', page.text).group(1)
    assert (await client.post(remove, data={"csrf_token": token})).status_code == 303
    assert "zqsecret plans" not in (await client.get("/conversations")).text


async def test_forms_need_csrf_and_the_owner(client, cast, drain):
    await direct(client, cast.alice, "@bob zqprivate words")
    await drain()
    await sign_in(client, cast.alice)
    page = await client.get("/conversations")
    alice_remove = re.search(r'action="(/conversations/\d+/remove)"', page.text).group(1)
    assert (await client.post(alice_remove, data={})).status_code == 403  # no CSRF token

    await client.post("/auth/sign_out", data={"csrf_token": TOKEN.search(page.text).group(1)})
    token = await sign_in(client, cast.eve)
    assert "zqprivate words" not in (await client.get("/conversations")).text
    assert (await client.post(alice_remove, data={"csrf_token": token})).status_code == 404
    assert (await client.post("/conversations/1/explode", data={"csrf_token": token})).status_code == 404


async def test_older_conversations_are_a_page_away(client, cast, drain):
    for i in range(21):  # each a thread of its own, so 21 conversations with bob
        await direct(client, cast.alice, f"@bob zqthread{i:02d}")
    await drain()
    await sign_in(client, cast.bob)
    first = await client.get("/conversations")
    shown = re.findall(r"zqthread(\d\d)", first.text)
    assert shown == [f"{i:02d}" for i in range(20, 0, -1)]
    older = re.search(r'href="(/conversations\?max_id=\d+)"[^>]*>Older conversations', first.text).group(1)
    rest = await client.get(older)
    assert re.findall(r"zqthread(\d\d)", rest.text) == ["00"]
    assert "Older conversations" not in rest.text
