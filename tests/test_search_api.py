"""Search: accounts and hashtags by prefix, statuses by full text, only what the viewer may see; the
query language of FTS5 never reaches the index from user text. Also GET /api/v1/tags/:name."""

from __future__ import annotations

from sqlalchemy import update

from starling import clock
from starling.accounts.models import Account
from starling.posts import service as posts
from tests.test_timelines_support import block, follow, mark, post


async def set_account(ctx, account_id, **values):
    async with ctx.db.write() as session:
        await session.execute(update(Account).where(Account.id == account_id).values(**values))


async def search(client, q, who=None, **params):
    response = await client.get("/api/v2/search", params={"q": q, **params},
                                headers=who.headers if who else {})
    assert response.status_code == 200, response.text
    return response.json()


def status_ids(found):
    return [int(s["id"]) for s in found["statuses"]]


async def test_accounts_by_username_and_display_name_prefix(client, ctx, cast, make_account):
    await make_account("alicia")
    await set_account(ctx, cast.eve.id, display_name="Alice's Evil Twin")
    found = await search(client, "ali", cast.bob, type="accounts")
    assert {a["username"] for a in found["accounts"]} == {"alice", "alicia", "eve"}
    exact = await search(client, "alice", cast.bob, type="accounts")
    assert exact["accounts"][0]["username"] == "alice"
    assert (await search(client, "@alice@testserver", type="accounts"))["accounts"][0]["username"] == "alice"
    assert (await search(client, "@alice@elsewhere.example", type="accounts"))["accounts"] == []
    assert (await search(client, "%", type="accounts"))["accounts"] == []
    assert (await search(client, "_", type="accounts"))["accounts"] == []


async def test_account_search_hides_suspended_and_blocked_and_can_require_following(client, ctx, cast):
    await set_account(ctx, cast.eve.id, suspended_at=clock.utcnow_naive())
    assert (await search(client, "eve", type="accounts"))["accounts"] == []
    await block(ctx, cast.bob.id, cast.alice.id)
    assert (await search(client, "bob", cast.alice, type="accounts"))["accounts"] == []
    assert [a["username"] for a in (await search(client, "bob", type="accounts"))["accounts"]] == ["bob"]
    await follow(ctx, cast.alice.id, cast.carol.id)  # a request: not following yet
    assert (await search(client, "carol", cast.alice, type="accounts", following="true"))["accounts"] == []
    assert len((await search(client, "carol", cast.alice, type="accounts"))["accounts"]) == 1


async def test_hashtags_by_prefix_with_history(client, ctx, cast):
    await post(ctx, cast.bob.id, "#catsofstarling and #cats and #dogs")
    found = await search(client, "#cats", type="hashtags")
    assert [t["name"] for t in found["hashtags"]] == ["cats", "catsofstarling"]
    tag = found["hashtags"][0]
    assert tag["url"] == "http://testserver/tags/cats"
    assert len(tag["history"]) == 7
    assert (tag["history"][0]["uses"], tag["history"][0]["accounts"]) == ("1", "1")
    assert "following" not in tag
    assert (await search(client, "cats", cast.alice, type="hashtags"))["hashtags"][0]["following"] is False
    assert (await search(client, "#", type="hashtags"))["hashtags"] == []


async def test_statuses_match_full_text_and_only_what_the_viewer_may_find(client, ctx, cast):
    await follow(ctx, cast.alice.id, cast.bob.id)
    public = await post(ctx, cast.bob.id, "Kittens are wonderful")
    await post(ctx, cast.bob.id, "kittens for followers", visibility="private")
    to_alice = await post(ctx, cast.eve.id, "@alice secret kittens", visibility="direct")
    await post(ctx, cast.eve.id, "@bob other kittens", visibility="direct")
    await post(ctx, cast.bob.id, "puppies only")
    assert status_ids(await search(client, "kittens", cast.alice)) == [to_alice, public]
    assert status_ids(await search(client, "KITTENS wonderful", cast.carol)) == [public]
    assert status_ids(await search(client, "kitt", cast.carol)) == [public]  # the last word is a prefix
    assert status_ids(await search(client, "kittens", cast.carol, account_id=str(cast.eve.id))) == []
    assert (await search(client, "kittens"))["statuses"] == []  # logged out: no full-text search


async def test_private_posts_are_found_only_by_those_who_interacted(client, ctx, cast):
    await follow(ctx, cast.alice.id, cast.bob.id)
    private = await post(ctx, cast.bob.id, "marmalade recipe", visibility="private")
    assert status_ids(await search(client, "marmalade", cast.alice)) == []
    assert status_ids(await search(client, "marmalade", cast.bob)) == [private]
    await mark(ctx, "bookmark", cast.alice.id, private)
    assert status_ids(await search(client, "marmalade", cast.alice)) == [private]
    assert status_ids(await search(client, "marmalade", cast.eve)) == []


async def test_accounts_that_opt_out_are_not_indexed_for_others(client, ctx, cast):
    await set_account(ctx, cast.bob.id, indexable=False)
    mine = await post(ctx, cast.bob.id, "quiet words")
    assert status_ids(await search(client, "quiet", cast.alice)) == []
    assert status_ids(await search(client, "quiet", cast.bob)) == [mine]


async def test_blocked_and_muted_authors_are_not_found(client, ctx, cast):
    await post(ctx, cast.bob.id, "zebra crossing")
    await post(ctx, cast.eve.id, "zebra stripes")
    await block(ctx, cast.alice.id, cast.bob.id)
    async with ctx.db.write() as session:
        from starling.graph import service as graph
        await graph.mute(session, cast.alice.id, cast.eve.id)
    assert status_ids(await search(client, "zebra", cast.alice)) == []
    assert len(status_ids(await search(client, "zebra", cast.carol))) == 2


FTS_SYNTAX = ['"', '"unbalanced', 'kittens"', "NEAR(a b)", "a NEAR b", "*", "kit*", "^kittens",
              "a AND OR NOT", "text:kittens", "(", ")", "{a b}", "-kittens", "+", "'", "\\",
              "kittens'; DROP TABLE statuses; --", "kit\x00tens", "🐈 kittens", "NOT", "a OR"]


async def test_fts_syntax_in_the_query_is_only_text(client, ctx, cast):
    found_by = await post(ctx, cast.bob.id, "kittens and a NEAR miss")
    for q in FTS_SYNTAX:
        result = await search(client, q, cast.alice)
        assert result["statuses"] == [] or status_ids(result) == [found_by], q
    assert status_ids(await search(client, '"kittens" NEAR', cast.alice)) == [found_by]
    assert status_ids(await search(client, "^kittens*", cast.alice)) == [found_by]


async def test_delete_unindexes_and_edit_reindexes(client, ctx, cast, drain):
    status_id = await post(ctx, cast.bob.id, "ephemeral words")
    async with ctx.db.write() as session:
        await posts.edit_status(session, ctx.settings, account_id=cast.bob.id, status_id=status_id,
                                text="lasting words")
    await drain()
    assert status_ids(await search(client, "ephemeral", cast.alice)) == []
    assert status_ids(await search(client, "lasting", cast.alice)) == [status_id]
    async with ctx.db.write() as session:
        await posts.delete_status(session, await posts.own_status(session, cast.bob.id, status_id))
    await drain()
    assert status_ids(await search(client, "lasting", cast.alice)) == []


async def test_offset_limit_and_id_bounds(client, ctx, cast):
    made = [await post(ctx, cast.bob.id, f"numbered note {n}") for n in range(5)]
    newest = made[::-1]
    assert status_ids(await search(client, "note", cast.alice, type="statuses", limit="2")) == newest[:2]
    assert status_ids(await search(client, "note", cast.alice, type="statuses", limit="2", offset="2")) \
        == newest[2:4]
    assert status_ids(await search(client, "note", cast.alice, max_id=str(newest[1]))) == newest[2:]
    assert status_ids(await search(client, "note", cast.alice, min_id=str(newest[2]))) == newest[:2]
    many = await search(client, "note", cast.alice, limit="1000")
    assert len(many["statuses"]) == 5


async def test_what_mastodon_refuses(client, cast, make_account):
    assert (await client.get("/api/v2/search")).status_code == 400
    assert (await client.get("/api/v2/search?q=%20")).status_code == 400
    offset = await client.get("/api/v2/search?q=a&type=accounts&offset=1")
    assert offset.status_code == 401 and "pagination" in offset.json()["error"]
    assert (await client.get("/api/v2/search?q=a&resolve=true")).status_code == 401
    assert (await client.get("/api/v2/search?q=a&offset=-1", headers=cast.alice.headers)).status_code == 400
    writer = await make_account("writer", scopes="write")
    assert (await client.get("/api/v2/search?q=a", headers=writer.headers)).status_code == 403
    assert (await client.get("/api/v2/search?q=" + "a" * 1001, headers=cast.alice.headers)).status_code == 422
    assert await search(client, "alice", cast.alice, type="nonsense") == {"accounts": [], "statuses": [],
                                                                       "hashtags": []}


async def test_resolving_a_local_url(client, ctx, cast):
    public = await post(ctx, cast.bob.id, "find me by url")
    private = await post(ctx, cast.bob.id, "not you", visibility="private")
    url = f"http://testserver/@bob/{public}"
    assert status_ids(await search(client, url, cast.alice, resolve="true")) == [public]
    hidden = await search(client, f"http://testserver/@bob/{private}", cast.alice, resolve="true")
    assert status_ids(hidden) == []
    found = await search(client, "http://testserver/@bob", cast.alice, resolve="true")
    assert [a["username"] for a in found["accounts"]] == ["bob"]
    assert await search(client, "https://elsewhere.example/@bob/1", cast.alice, resolve="true") == {
        "accounts": [], "statuses": [], "hashtags": []}
    assert (await search(client, url, cast.alice))["statuses"] == []


async def test_tag_endpoint(client, ctx, cast):
    await post(ctx, cast.bob.id, "#Starling rocks")
    await post(ctx, cast.eve.id, "#starling indeed")
    tag = (await client.get("/api/v1/tags/starling")).json()
    assert tag["name"] == "Starling" and tag["url"] == "http://testserver/tags/starling"
    assert tag["history"][0]["uses"] == "2" and tag["history"][0]["accounts"] == "2"
    assert all(day["uses"] == "0" for day in tag["history"][1:])
    days = [int(day["day"]) for day in tag["history"]]
    assert days == sorted(days, reverse=True) and days[0] % 86400 == 0 and days[0] - days[1] == 86400
    assert "following" not in tag
    signed_in = (await client.get("/api/v1/tags/STARLING", headers=cast.alice.headers)).json()
    assert signed_in["following"] is False and signed_in["id"] == tag["id"]
    unused = (await client.get("/api/v1/tags/neverused")).json()
    assert unused["name"] == "neverused" and [d["uses"] for d in unused["history"]] == ["0"] * 7
    assert (await client.get("/api/v1/tags/not-a-tag!")).status_code == 404


async def test_followed_tags_is_an_empty_list(client, cast):
    assert (await client.get("/api/v1/followed_tags", headers=cast.alice.headers)).json() == []
    assert (await client.get("/api/v1/followed_tags")).status_code == 401
