"""Lists in the web app: create, rename, delete, add and remove members (only accounts one follows),
the list's timeline, and nobody else's list reachable."""

from __future__ import annotations

import re

from tests.test_timelines_support import QueryCounter
from tests.web.forms import sign_in


async def create_list(client, token: str, title: str) -> int:
    response = await client.post("/lists", data={"csrf_token": token, "title": title})
    assert response.status_code == 303, response.text
    return int(re.match(r"/lists/(\d+)/edit", response.headers["location"]).group(1))


async def test_lists_need_a_session(client):
    assert (await client.get("/lists")).headers["location"] == "/auth/sign_in?next=/lists"


async def test_create_rename_and_delete_a_list(client, cast):
    token = await sign_in(client, cast.alice)
    list_id = await create_list(client, token, "Birders <3")
    index = await client.get("/lists")
    assert "Birders &lt;3" in index.text and f'href="/lists/{list_id}"' in index.text
    renamed = await client.post(f"/lists/{list_id}/edit", data={"csrf_token": token, "title": "Bird people",
                                                                 "replies_policy": "followed"})
    assert renamed.status_code == 303
    api = (await client.get(f"/api/v1/lists/{list_id}", headers=cast.alice.headers)).json()
    assert api["title"] == "Bird people" and api["replies_policy"] == "followed"
    deleted = await client.post(f"/lists/{list_id}/delete", data={"csrf_token": token})
    assert deleted.status_code == 303 and deleted.headers["location"] == "/lists"
    assert (await client.get(f"/api/v1/lists/{list_id}", headers=cast.alice.headers)).status_code == 404


async def test_list_errors_are_inline_and_keep_what_was_typed(client, cast):
    token = await sign_in(client, cast.alice)
    blank = await client.post("/lists", data={"csrf_token": token, "title": "   "})
    assert blank.status_code == 422 and "Title can&#39;t be blank" in blank.text
    list_id = await create_list(client, token, "Keep")
    bad = await client.post(f"/lists/{list_id}/edit", data={"csrf_token": token, "title": "New <name>",
                                                            "replies_policy": "everyone"})
    assert bad.status_code == 422 and "Replies policy is not included in the list" in bad.text
    assert 'value="New &lt;name&gt;"' in bad.text
    api = (await client.get(f"/api/v1/lists/{list_id}", headers=cast.alice.headers)).json()
    assert api["title"] == "Keep" and api["replies_policy"] == "list"


async def test_members_are_found_among_followed_accounts_added_and_removed(client, cast, drain):
    await client.post(f"/api/v1/accounts/{cast.bob.id}/follow", headers=cast.alice.headers)
    await client.post("/api/v1/statuses", headers=cast.bob.headers, json={"status": "Bob's list-worthy post"})
    await client.post("/api/v1/statuses", headers=cast.eve.headers, json={"status": "Eve is not in the list"})
    await drain()
    token = await sign_in(client, cast.alice)
    list_id = await create_list(client, token, "Friends")
    found = await client.get(f"/lists/{list_id}/edit", params={"q": "b"})
    assert "@bob</span>" in found.text
    assert "@eve" not in (await client.get(f"/lists/{list_id}/edit", params={"q": "eve"})).text
    added = await client.post(f"/lists/{list_id}/members", data={"csrf_token": token, "account_id": cast.bob.id})
    assert added.status_code == 303
    timeline = await client.get(f"/lists/{list_id}")
    assert "list-worthy post" in timeline.text and "Eve is not in the list" not in timeline.text
    refused = await client.post(f"/lists/{list_id}/members", data={"csrf_token": token, "account_id": cast.eve.id})
    assert refused.status_code == 422 and "Account must be following" in refused.text
    removed = await client.post(f"/lists/{list_id}/members/{cast.bob.id}/remove", data={"csrf_token": token})
    assert removed.status_code == 303
    assert (await client.get(f"/api/v1/lists/{list_id}/accounts", headers=cast.alice.headers)).json() == []


async def test_someone_elses_list_is_not_found_and_forged_forms_are_refused(client, cast):
    alice_token = await sign_in(client, cast.alice)
    list_id = await create_list(client, alice_token, "Private list")
    assert (await client.post(f"/lists/{list_id}/delete", data={})).status_code == 403
    await client.post("/auth/sign_out", data={"csrf_token": alice_token})
    token = await sign_in(client, cast.eve)
    for path in (f"/lists/{list_id}", f"/lists/{list_id}/edit"):
        assert (await client.get(path)).status_code == 404
    for path, data in ((f"/lists/{list_id}/edit", {"title": "Mine now"}), (f"/lists/{list_id}/delete", {}),
                       (f"/lists/{list_id}/members", {"account_id": cast.eve.id})):
        assert (await client.post(path, data={"csrf_token": token, **data})).status_code == 404
    api = (await client.get(f"/api/v1/lists/{list_id}", headers=cast.alice.headers)).json()
    assert api["title"] == "Private list"


async def test_the_list_edit_page_reads_a_fixed_number_of_queries(client, ctx, cast, make_account):
    token = await sign_in(client, cast.alice)
    list_id = await create_list(client, token, "Many")
    async def add_members(names: list[str]) -> None:
        for name in names:
            member = await make_account(name)
            await client.post(f"/api/v1/accounts/{member.id}/follow", headers=cast.alice.headers)
            await client.post(f"/lists/{list_id}/members", data={"csrf_token": token, "account_id": member.id})

    async def measure() -> int:
        with QueryCounter(ctx) as counted:
            page = await client.get(f"/lists/{list_id}/edit", params={"q": "m"})
        assert page.status_code == 200
        return len(counted.statements)

    await add_members(["m0"])
    few = await measure()
    await add_members([f"m{n}" for n in range(1, 8)])
    many = await measure()
    assert many == few
