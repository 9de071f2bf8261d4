"""The search page, hashtag pages, and the bookmarks and favourites pages."""

from __future__ import annotations

import re

import pytest

from tests.test_timelines_support import QueryCounter
from tests.web.forms import TOKEN, sign_in


async def post(client, who, text: str, **extra) -> dict:
    response = await client.post("/api/v1/statuses", headers=who.headers, json={"status": text, **extra})
    assert response.status_code == 200, response.text
    return response.json()


async def test_search_finds_accounts_tags_and_posts(client, cast, drain):
    await post(client, cast.bob, "Starlings murmurate at dusk #birdwatching")
    await post(client, cast.bob, "A secret starling note for followers", visibility="private")
    await drain()
    await sign_in(client, cast.eve)
    empty = await client.get("/search")
    assert empty.status_code == 200 and 'role="search"' in empty.text and "Nothing found" not in empty.text
    people = await client.get("/search", params={"q": "bo"})
    assert "@bob</span>" in people.text
    tags = await client.get("/search", params={"q": "#birdwatch"})
    assert 'href="/tags/birdwatching"' in tags.text
    posts = await client.get("/search", params={"q": "murmurate"})
    assert "Starlings murmurate at dusk" in posts.text
    hidden = await client.get("/search", params={"q": "secret"})
    assert "A secret starling note" not in hidden.text and "Nothing found" in hidden.text


async def test_search_never_shows_blocked_accounts_or_their_posts(client, cast, drain):
    await post(client, cast.bob, "murmuration season")
    await client.post(f"/api/v1/accounts/{cast.eve.id}/block", headers=cast.bob.headers)
    await drain()
    await sign_in(client, cast.eve)
    page = await client.get("/search", params={"q": "bob"})
    assert "@bob</span>" not in page.text
    assert "murmuration season" not in (await client.get("/search", params={"q": "murmuration"})).text


async def test_signed_out_search_finds_people_but_asks_to_sign_in_for_posts(client, cast, drain):
    await post(client, cast.bob, "bobbing along")
    await drain()
    page = await client.get("/search", params={"q": "bob"})
    assert page.status_code == 200 and "@bob</span>" in page.text
    assert "bobbing along" not in page.text and "to search posts too" in page.text


async def test_search_escapes_the_query_and_pages_one_kind(client, cast, make_account):
    for n in range(25):
        await make_account(f"robin{n}")
    await sign_in(client, cast.alice)
    evil = await client.get("/search", params={"q": "<script>alert(1)</script>"})
    assert "<script>alert(1)</script>" not in evil.text and "&lt;script&gt;alert(1)&lt;/script&gt;" in evil.text
    mixed = await client.get("/search", params={"q": "robin"})
    assert mixed.text.count('class="account-row"') == 5 and "More people" in mixed.text
    one_kind = await client.get("/search", params={"q": "robin", "type": "accounts"})
    assert one_kind.text.count('class="account-row"') == 20
    more = re.search(r'href="(/search\?[^"]*offset=20)"', one_kind.text).group(1).replace("&amp;", "&")
    assert (await client.get(more)).text.count('class="account-row"') == 5
    too_long = await client.get("/search", params={"q": "x" * 501})
    assert too_long.status_code == 422 and "The search is too long" in too_long.text


async def test_hashtag_page_lists_public_posts_with_the_tag(client, cast, drain):
    await post(client, cast.bob, "Dawn chorus #Birdsong")
    await post(client, cast.bob, "Quiet one #birdsong", visibility="private")
    await post(client, cast.alice, "Something else #other")
    await drain()
    page = await client.get("/tags/birdsong")
    assert page.status_code == 200
    assert "#birdsong" in page.text and "Dawn chorus" in page.text
    assert "Quiet one" not in page.text and "Something else" not in page.text
    assert "1 post in the last 7 days" in page.text
    assert (await client.get("/tags/not-a-tag!")).status_code == 404
    unused = await client.get("/tags/nobodyusedthis")
    assert unused.status_code == 200 and "No public posts tagged #nobodyusedthis yet." in unused.text


async def test_hashtag_page_scrolls_to_older_posts(client, cast, drain):
    for n in range(25):
        await post(client, cast.bob, f"Number {n} #counting")
    await drain()
    page = await client.get("/tags/counting")
    assert page.text.count('<article class="status') == 20
    older = re.search(r'href="(/tags/counting\?max_id=\d+)"', page.text).group(1)
    rest = await client.get(older, headers={"HX-Request": "true"})
    assert rest.text.count('<article class="status') == 5 and "<html" not in rest.text


@pytest.mark.parametrize("kind, action", [("bookmarks", "bookmark"), ("favourites", "favourite")])
async def test_bookmarks_and_favourites_pages(client, cast, kind, action):
    saved = await post(client, cast.bob, f"Worth keeping: {kind}")
    await post(client, cast.bob, "Not this one")
    await client.post(f"/api/v1/statuses/{saved['id']}/{action}", headers=cast.alice.headers)
    anonymous = await client.get(f"/{kind}")
    assert anonymous.status_code == 303
    await sign_in(client, cast.alice)
    page = await client.get(f"/{kind}")
    assert page.status_code == 200
    assert f"Worth keeping: {kind}" in page.text and "Not this one" not in page.text
    await client.post("/auth/sign_out", data={"csrf_token": TOKEN.search(page.text).group(1)})
    await sign_in(client, cast.eve)
    assert f"Worth keeping: {kind}" not in (await client.get(f"/{kind}")).text


async def test_a_bookmarked_post_that_became_invisible_is_not_shown(client, cast):
    saved = await post(client, cast.bob, "Followers only, for now", visibility="private")
    await client.post(f"/api/v1/accounts/{cast.bob.id}/follow", headers=cast.alice.headers)
    await client.post(f"/api/v1/statuses/{saved['id']}/bookmark", headers=cast.alice.headers)
    await client.post(f"/api/v1/accounts/{cast.bob.id}/unfollow", headers=cast.alice.headers)
    await sign_in(client, cast.alice)
    assert "Followers only, for now" not in (await client.get("/bookmarks")).text


async def test_the_search_page_reads_a_fixed_number_of_queries(client, ctx, cast, make_account, drain):
    await sign_in(client, cast.alice)

    async def measure() -> int:
        with QueryCounter(ctx) as counted:
            page = await client.get("/search", params={"q": "wren"})
        assert page.status_code == 200
        return len(counted.statements)

    async def more_wrens(start: int, n: int) -> None:
        for i in range(start, start + n):
            wren = await make_account(f"wren{i}")
            await post(client, wren, f"wren song number {i} #wren")
        await drain()

    await more_wrens(0, 1)
    few = await measure()
    await more_wrens(1, 5)
    many = await measure()
    assert many == few
