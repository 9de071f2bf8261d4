"""Private, direct and blocked content never leaks, whatever the path: timelines, account pages, search,
threads, notifications, who-favourited lists, batches, lists, trends, bookmarks, and boosts.

Everything is made through the API and the background jobs run (`drain`) before anyone looks, so each
test sees what a real reader would. Every test also shows the same content reaching someone who may see
it, so a test cannot pass because nothing was there to leak.
"""

from __future__ import annotations

import io

import pytest
from PIL import Image

from starling.search import trends


async def call(client, method: str, path: str, who=None, **body):
    headers = who.headers if who is not None else {}
    return await client.request(method, path, headers=headers, json=body or None)


async def ok(client, method: str, path: str, who=None, **body):
    response = await call(client, method, path, who, **body)
    assert response.status_code == 200, f"{method} {path}: {response.text}"
    return response.json()


async def post(client, who, text: str, visibility: str = "public", **fields) -> dict:
    return await ok(client, "POST", "/api/v1/statuses", who, status=text, visibility=visibility, **fields)


async def get_text(client, path: str, who=None) -> str:
    response = await call(client, "GET", path, who)
    assert response.status_code == 200, f"GET {path}: {response.text}"
    return response.text


def status_ids(entities) -> set[str]:
    """IDs of the statuses in a list of entities, boosted originals included."""
    found = set()
    for entity in entities:
        found.add(entity["id"])
        if entity.get("reblog"):
            found.add(entity["reblog"]["id"])
    return found


@pytest.fixture
async def mallory(make_account):
    return await make_account("mallory")


@pytest.fixture
async def posts(client, cast, drain):
    """bob follows alice; alice posts a public, an unlisted, a private and a direct (to carol) post, all
    tagged."""
    await ok(client, "POST", f"/api/v1/accounts/{cast.alice.id}/follow", cast.bob)
    await drain()
    made = {
        "public": await post(client, cast.alice, "zqpublic for everyone #zqtag"),
        "unlisted": await post(client, cast.alice, "zqunlisted quietly #zqtag", "unlisted"),
        "private": await post(client, cast.alice, "zqprivate for followers #zqtag", "private"),
        "direct": await post(client, cast.alice, "@carol zqdirect between us #zqtag", "direct"),
    }
    await drain()
    return made


SECRET_TEXTS = ("zqprivate", "zqdirect")


def assert_no_secrets(text: str, *secrets: str) -> None:
    for secret in secrets or SECRET_TEXTS:
        assert secret not in text, f"{secret!r} leaked: {text[:500]}"


# ---- timelines and account pages ----------------------------------------------------------------

async def test_public_timeline_carries_public_posts_only(client, cast, posts):
    for who in (None, cast.eve, cast.bob, cast.carol):
        for query in ("", "?local=true", "?only_media=false&limit=40"):
            text = await get_text(client, f"/api/v1/timelines/public{query}", who)
            assert "zqpublic" in text
            assert_no_secrets(text, "zqunlisted", *SECRET_TEXTS)


async def test_hashtag_timeline_carries_public_posts_only(client, cast, posts):
    for who in (None, cast.eve, cast.bob, cast.carol):
        for path in ("/api/v1/timelines/tag/zqtag", "/api/v1/timelines/tag/ZQTAG?local=true",
                     "/api/v1/timelines/tag/other?any[]=zqtag", "/api/v1/timelines/tag/zqtag?all[]=zqtag"):
            text = await get_text(client, path, who)
            assert "zqpublic" in text, path
            assert_no_secrets(text, "zqunlisted", *SECRET_TEXTS)


async def test_account_statuses_show_each_reader_only_what_it_may_see(client, cast, posts, mallory):
    await ok(client, "POST", f"/api/v1/accounts/{mallory.id}/block", cast.alice)
    path = f"/api/v1/accounts/{cast.alice.id}/statuses"
    for who in (None, cast.eve):
        text = await get_text(client, path, who)
        assert "zqpublic" in text
        assert_no_secrets(text)
    follower = await get_text(client, path, cast.bob)
    assert "zqprivate" in follower
    assert_no_secrets(follower, "zqdirect")
    for query in ("", "?exclude_replies=true", "?tagged=zqtag", "?pinned=true"):
        assert (await ok(client, "GET", path + query, mallory)) == []


@pytest.mark.parametrize("merged_at_read", [False, True], ids=["fanned_out", "merged_at_read"])
async def test_home_of_a_non_follower_holds_nothing_of_the_author(client, ctx, cast, posts, mallory,
                                                                   merged_at_read):
    if merged_at_read:
        ctx.settings.fanout_threshold = 0  # every followed account is merged into home when read
    bobs = await get_text(client, "/api/v1/timelines/home", cast.bob)
    assert "zqprivate" in bobs and "zqpublic" in bobs
    assert_no_secrets(bobs, "zqdirect")
    for who in (cast.eve, mallory):
        text = await get_text(client, "/api/v1/timelines/home", who)
        assert_no_secrets(text, "zqpublic", *SECRET_TEXTS)


async def test_status_batch_drops_what_the_reader_may_not_see(client, cast, posts, mallory):
    await ok(client, "POST", f"/api/v1/accounts/{mallory.id}/block", cast.alice)
    query = "&".join(f"id[]={posts[k]['id']}" for k in ("public", "private", "direct"))
    path = f"/api/v1/statuses?{query}"
    expected = {None: {"public"}, "eve": {"public"}, "bob": {"public", "private"},
                "carol": {"public", "direct"}, "mallory": set()}
    for name, kinds in expected.items():
        who = None if name is None else mallory if name == "mallory" else getattr(cast, name)
        got = await ok(client, "GET", path, who)
        assert status_ids(got) == {posts[k]["id"] for k in kinds}, name


# ---- search -------------------------------------------------------------------------------------

async def test_search_finds_no_private_or_direct_text_for_outsiders(client, cast, posts):
    own = await ok(client, "GET", "/api/v2/search?q=zqprivate&type=statuses", cast.alice)
    assert posts["private"]["id"] in status_ids(own["statuses"])
    for who in (None, cast.eve):
        for q in ("zqprivate", "zqdirect", "zqtag", "followers", "between"):
            text = await get_text(client, f"/api/v2/search?q={q}", who)
            assert_no_secrets(text)
    bobs = await get_text(client, "/api/v2/search?q=zqdirect&type=statuses", cast.bob)
    assert_no_secrets(bobs, "zqdirect")
    for kind in ("private", "direct"):
        by_url = f"/api/v2/search?q=http://testserver/@alice/{posts[kind]['id']}&resolve=true"
        assert posts[kind]["id"] in await get_text(client, by_url, cast.alice)
        assert posts[kind]["id"] not in await get_text(client, by_url, cast.eve)


async def test_search_hides_a_blocker_and_its_posts(client, cast, posts, mallory):
    await ok(client, "POST", f"/api/v1/accounts/{mallory.id}/block", cast.alice)
    seen = await ok(client, "GET", "/api/v2/search?q=alice&type=accounts", cast.bob)
    assert str(cast.alice.id) in [a["id"] for a in seen["accounts"]]
    for path in ("/api/v2/search?q=alice", "/api/v2/search?q=alice&type=accounts",
                 "/api/v1/accounts/search?q=alice", "/api/v1/accounts/search?q=ali&resolve=true",
                 "/api/v2/search?q=zqpublic&type=statuses",
                 "/api/v2/search?q=http://testserver/@alice&resolve=true",
                 f"/api/v2/search?q=http://testserver/@alice/{posts['public']['id']}&resolve=true"):
        text = await get_text(client, path, mallory)
        assert str(cast.alice.id) not in text, path
        assert_no_secrets(text, "zqpublic")


# ---- threads ------------------------------------------------------------------------------------

async def test_context_leaves_out_private_and_direct_parts_of_a_public_thread(client, cast, drain):
    await ok(client, "POST", f"/api/v1/accounts/{cast.bob.id}/follow", cast.alice)
    root = await post(client, cast.bob, "zqprivateroot bob's followers only", "private")
    reply = await post(client, cast.alice, "a public answer", in_reply_to_id=root["id"], visibility="public")
    below = await post(client, cast.bob, "zqprivatereply to the answer", "private", in_reply_to_id=reply["id"])
    aside = await post(client, cast.carol, "@alice zqdirectreply aside", "direct", in_reply_to_id=reply["id"])
    await drain()

    alices = await ok(client, "GET", f"/api/v1/statuses/{reply['id']}/context", cast.alice)
    assert status_ids(alices["ancestors"]) == {root["id"]}
    assert status_ids(alices["descendants"]) == {below["id"], aside["id"]}
    for who in (None, cast.eve):
        context = await ok(client, "GET", f"/api/v1/statuses/{reply['id']}/context", who)
        assert context == {"ancestors": [], "descendants": []}
        shown = await get_text(client, f"/api/v1/statuses/{reply['id']}", who)
        assert_no_secrets(shown, "zqprivateroot", "zqprivatereply", "zqdirectreply")


async def test_another_accounts_idempotency_key_never_returns_its_post(client, cast, posts):
    key = {"Idempotency-Key": "same-key-for-both"}
    alices = await client.post("/api/v1/statuses", headers=cast.alice.headers | key,
                               json={"status": "zqprivate keyed", "visibility": "private"})
    assert alices.status_code == 200
    eves = await client.post("/api/v1/statuses", headers=cast.eve.headers | key, json={"status": "eve's own"})
    assert eves.status_code == 200
    assert eves.json()["id"] != alices.json()["id"]
    assert_no_secrets(eves.text)


async def test_replying_to_a_post_one_may_not_see_is_not_found(client, cast, posts):
    for kind in ("private", "direct"):
        response = await call(client, "POST", "/api/v1/statuses", cast.eve, status="hello?",
                              in_reply_to_id=posts[kind]["id"])
        assert response.status_code == 404, response.text
        assert_no_secrets(response.text)
        original = await ok(client, "GET", f"/api/v1/statuses/{posts[kind]['id']}", cast.alice)
        assert original["replies_count"] == 0
    assert_no_secrets(await get_text(client, f"/api/v1/accounts/{cast.eve.id}/statuses", cast.eve))


# ---- notifications ------------------------------------------------------------------------------

async def test_a_direct_post_notifies_only_whom_it_mentions(client, cast, drain):
    for follower in (cast.bob, cast.eve):
        await ok(client, "POST", f"/api/v1/accounts/{cast.alice.id}/follow", follower, notify=True)
    await drain()
    await post(client, cast.alice, "@carol zqdirect for carol alone", "direct")
    await post(client, cast.alice, "zqprivate news for followers", "private")
    await drain()
    carols = await ok(client, "GET", "/api/v1/notifications", cast.carol)
    assert [n["type"] for n in carols if "zqdirect" in str(n)] == ["mention"]
    for who in (cast.bob, cast.eve):
        text = await get_text(client, "/api/v1/notifications", who)
        assert "zqprivate" in text  # the followers' news reached them
        assert_no_secrets(text, "zqdirect")
    assert_no_secrets(await get_text(client, "/api/v1/notifications", cast.admin))


async def test_notifications_drop_posts_their_reader_lost_access_to(client, cast, drain):
    await ok(client, "POST", f"/api/v1/accounts/{cast.alice.id}/follow", cast.bob, notify=True)
    await drain()
    await post(client, cast.alice, "zqprivate news", "private")
    await post(client, cast.alice, "@carol zqdirect note", "direct")
    await drain()
    assert "zqprivate" in await get_text(client, "/api/v1/notifications", cast.bob)
    assert "zqdirect" in await get_text(client, "/api/v1/notifications", cast.carol)

    await ok(client, "POST", f"/api/v1/accounts/{cast.alice.id}/unfollow", cast.bob)
    await ok(client, "POST", f"/api/v1/accounts/{cast.carol.id}/block", cast.alice)
    await drain()
    for who, secret in ((cast.bob, "zqprivate"), (cast.carol, "zqdirect")):
        listed = await ok(client, "GET", "/api/v1/notifications", who)
        assert_no_secrets(str(listed), secret)
        for note in listed:
            assert_no_secrets(await get_text(client, f"/api/v1/notifications/{note['id']}", who), secret)


async def test_a_blocked_account_cannot_reach_the_blocker_by_mentioning_it(client, cast, drain, mallory):
    await ok(client, "POST", f"/api/v1/accounts/{mallory.id}/block", cast.alice)
    for visibility in ("public", "private", "direct"):
        await post(client, mallory, f"@alice zqmallory {visibility}", visibility)
    await drain()
    for path in ("/api/v1/notifications", "/api/v1/timelines/home", "/api/v1/timelines/public",
                 "/api/v2/search?q=zqmallory&type=statuses"):
        assert_no_secrets(await get_text(client, path, cast.alice), "zqmallory")
    assert "zqmallory" in await get_text(client, "/api/v1/timelines/public", cast.bob)


# ---- who favourited, who boosted ----------------------------------------------------------------

async def test_favourited_and_reblogged_by_follow_the_post_and_the_blocks(client, cast, posts, mallory):
    await ok(client, "POST", f"/api/v1/statuses/{posts['private']['id']}/favourite", cast.bob)
    for kind in ("private", "direct"):
        for who in (None, cast.eve):
            for what in ("favourited_by", "reblogged_by"):
                response = await call(client, "GET", f"/api/v1/statuses/{posts[kind]['id']}/{what}", who)
                assert response.status_code == 404
                assert posts[kind]["id"] not in response.text
    await ok(client, "POST", f"/api/v1/statuses/{posts['public']['id']}/favourite", cast.carol)
    await ok(client, "POST", f"/api/v1/statuses/{posts['public']['id']}/reblog", cast.carol)
    await ok(client, "POST", f"/api/v1/accounts/{mallory.id}/block", cast.carol)
    for what in ("favourited_by", "reblogged_by"):
        path = f"/api/v1/statuses/{posts['public']['id']}/{what}"
        assert str(cast.carol.id) in await get_text(client, path, cast.eve)
        assert str(cast.carol.id) not in await get_text(client, path, mallory)


async def test_a_followers_only_boost_is_not_listed_among_the_boosters(client, cast, posts, drain):
    # Mastodon lists only public and unlisted boosts: a followers-only boost is for the booster's
    # followers, and reblogged_by would otherwise tell anyone about it.
    public = posts["public"]["id"]
    await ok(client, "POST", f"/api/v1/statuses/{public}/reblog", cast.carol, visibility="private")
    await ok(client, "POST", f"/api/v1/statuses/{public}/reblog", cast.eve, visibility="unlisted")
    await drain()
    for who in (None, cast.bob, cast.alice, cast.carol):
        listed = [a["id"] for a in await ok(client, "GET", f"/api/v1/statuses/{public}/reblogged_by", who)]
        assert listed == [str(cast.eve.id)]


# ---- lists --------------------------------------------------------------------------------------

async def test_list_timeline_shows_members_posts_only_as_the_owner_may_see_them(client, cast, drain, mallory):
    await ok(client, "POST", f"/api/v1/accounts/{cast.bob.id}/follow", cast.alice)
    await ok(client, "POST", f"/api/v1/accounts/{mallory.id}/block", cast.alice)
    lst = await ok(client, "POST", "/api/v1/lists", cast.alice, title="friends")
    await ok(client, "POST", f"/api/v1/lists/{lst['id']}/accounts", cast.alice, account_ids=[str(cast.bob.id)])
    await post(client, cast.bob, "zqlistprivate for followers", "private")
    await post(client, cast.bob, "@carol zqlistdirect for carol", "direct")
    blocked = await post(client, mallory, "zqmallory speaks")
    await ok(client, "POST", f"/api/v1/statuses/{blocked['id']}/reblog", cast.bob)
    await drain()
    text = await get_text(client, f"/api/v1/timelines/list/{lst['id']}", cast.alice)
    assert "zqlistprivate" in text
    assert_no_secrets(text, "zqlistdirect", "zqmallory")


# ---- trends -------------------------------------------------------------------------------------

async def test_private_posts_never_trend_however_liked(client, cast, drain, make_account):
    trends.clear_cache()
    fans = [cast.bob, cast.carol, cast.eve, cast.admin] + [await make_account(f"fan{i}") for i in range(4)]
    for fan in fans:
        await ok(client, "POST", f"/api/v1/accounts/{cast.alice.id}/follow", fan)
    await drain()
    hidden = await post(client, cast.alice, "zqhiddenfavourite #zqhiddentag", "private")
    shown = await post(client, cast.alice, "zqshownfavourite #zqshowntag")
    for fan in fans:
        await ok(client, "POST", f"/api/v1/statuses/{hidden['id']}/favourite", fan)
        await post(client, fan, "me too #zqhiddentag", "private")
    await ok(client, "POST", f"/api/v1/statuses/{shown['id']}/favourite", cast.bob)
    for fan in fans[:2]:
        await post(client, fan, "me too #zqshowntag")
    await drain()
    for who in (None, cast.bob, cast.alice):
        statuses = await get_text(client, "/api/v1/trends/statuses", who)
        assert "zqshownfavourite" in statuses
        assert_no_secrets(statuses, "zqhiddenfavourite")
        tags = await get_text(client, "/api/v1/trends/tags", who)
        assert "zqshowntag" in tags
        assert_no_secrets(tags, "zqhiddentag")
    history = await ok(client, "GET", "/api/v1/tags/zqhiddentag", cast.bob)
    assert all(day["uses"] == "0" and day["accounts"] == "0" for day in history.get("history", []))


# ---- bookmarks and favourites -------------------------------------------------------------------

@pytest.mark.parametrize("loss", ["blocked_by_author", "unfollowed"])
async def test_bookmarks_and_favourites_go_dark_when_access_is_lost(client, cast, posts, drain, loss):
    private = posts["private"]["id"]
    await ok(client, "POST", f"/api/v1/statuses/{private}/bookmark", cast.bob)
    await ok(client, "POST", f"/api/v1/statuses/{private}/favourite", cast.bob)
    for path in ("/api/v1/bookmarks", "/api/v1/favourites"):
        assert private in status_ids(await ok(client, "GET", path, cast.bob))
    if loss == "blocked_by_author":
        await ok(client, "POST", f"/api/v1/accounts/{cast.bob.id}/block", cast.alice)
    else:
        await ok(client, "POST", f"/api/v1/accounts/{cast.alice.id}/unfollow", cast.bob)
    await drain()
    for path in ("/api/v1/bookmarks", "/api/v1/favourites", "/api/v1/timelines/home",
                 f"/api/v1/statuses?id[]={private}"):
        assert_no_secrets(await get_text(client, path, cast.bob), "zqprivate")
    for action in ("bookmark", "favourite", "unbookmark", "unfavourite", "reblog"):
        response = await call(client, "POST", f"/api/v1/statuses/{private}/{action}", cast.bob)
        assert response.status_code == 404, (action, response.text)
        assert_no_secrets(response.text, "zqprivate")


# ---- boosts -------------------------------------------------------------------------------------

async def test_private_and_direct_posts_cannot_be_boosted_by_others(client, cast, posts, drain):
    cases = ((cast.bob, "private", 403), (cast.carol, "direct", 403), (cast.eve, "private", 404),
             (cast.eve, "direct", 404), (cast.alice, "direct", 403))
    for who, kind, code in cases:
        for visibility in (None, "public"):
            body = {"visibility": visibility} if visibility else {}
            response = await call(client, "POST", f"/api/v1/statuses/{posts[kind]['id']}/reblog", who, **body)
            assert response.status_code == code, (who.username, kind, response.text)
            assert_no_secrets(response.text) if code == 404 else None
    await drain()
    for kind in ("private", "direct"):
        original = await ok(client, "GET", f"/api/v1/statuses/{posts[kind]['id']}", cast.alice)
        assert original["reblogs_count"] == 0
        assert await ok(client, "GET", f"/api/v1/statuses/{posts[kind]['id']}/reblogged_by", cast.alice) == []
    for who in (cast.bob, cast.carol, cast.eve):
        assert all(s["reblog"] is None for s in await ok(client, "GET", f"/api/v1/accounts/{who.id}/statuses"))


async def test_an_authors_boost_of_its_private_post_stays_private(client, cast, posts, drain):
    boost = await ok(client, "POST", f"/api/v1/statuses/{posts['private']['id']}/reblog", cast.alice,
                     visibility="public")
    assert boost["visibility"] == "private"
    await drain()
    assert boost["id"] in status_ids(await ok(client, "GET", f"/api/v1/accounts/{cast.alice.id}/statuses",
                                              cast.bob))
    for who in (None, cast.eve):
        for path in (f"/api/v1/accounts/{cast.alice.id}/statuses", "/api/v1/timelines/public",
                     "/api/v1/timelines/tag/zqtag", f"/api/v1/statuses?id[]={boost['id']}",
                     f"/api/v1/statuses/{posts['public']['id']}/context"):
            text = await get_text(client, path, who)
            assert boost["id"] not in text, path
            assert_no_secrets(text)
        assert (await call(client, "GET", f"/api/v1/statuses/{boost['id']}", who)).status_code == 404
    assert_no_secrets(await get_text(client, "/api/v1/timelines/home", cast.eve))


@pytest.mark.parametrize("merged_at_read", [False, True], ids=["fanned_out", "merged_at_read"])
@pytest.mark.parametrize("order", ["block_then_boost", "boost_then_block"])
async def test_boosts_of_a_blocked_account_stay_out_of_the_blockers_timelines(client, ctx, cast, drain, mallory,
                                                                                order, merged_at_read):
    if merged_at_read:
        ctx.settings.fanout_threshold = 0
    await ok(client, "POST", f"/api/v1/accounts/{cast.bob.id}/follow", cast.alice)
    lst = await ok(client, "POST", "/api/v1/lists", cast.alice, title="bob")
    await ok(client, "POST", f"/api/v1/lists/{lst['id']}/accounts", cast.alice, account_ids=[str(cast.bob.id)])
    spoken = await post(client, mallory, "zqmallory says #zqblockedtag")
    bobs = await post(client, cast.bob, "bob's own words")
    if order == "block_then_boost":
        await ok(client, "POST", f"/api/v1/accounts/{mallory.id}/block", cast.alice)
    boost = await ok(client, "POST", f"/api/v1/statuses/{spoken['id']}/reblog", cast.bob)
    await ok(client, "POST", f"/api/v1/statuses/{bobs['id']}/reblog", mallory)
    await drain()
    if order == "boost_then_block":
        home = await get_text(client, "/api/v1/timelines/home", cast.alice)
        assert "zqmallory" in home  # it was there before the block
        await ok(client, "POST", f"/api/v1/accounts/{mallory.id}/block", cast.alice)
        await drain()
    for path in ("/api/v1/timelines/home", f"/api/v1/timelines/list/{lst['id']}", "/api/v1/timelines/public",
                 "/api/v1/timelines/tag/zqblockedtag", f"/api/v1/accounts/{cast.bob.id}/statuses",
                 f"/api/v1/statuses?id[]={boost['id']}&id[]={spoken['id']}", "/api/v1/notifications",
                 f"/api/v1/statuses/{bobs['id']}/reblogged_by"):
        text = await get_text(client, path, cast.alice)
        assert_no_secrets(text, "zqmallory", boost["id"], str(mallory.id))
    assert (await call(client, "GET", f"/api/v1/statuses/{boost['id']}", cast.alice)).status_code == 404
    assert "zqmallory" in await get_text(client, f"/api/v1/accounts/{cast.bob.id}/statuses", cast.eve)


# ---- media --------------------------------------------------------------------------------------

async def test_someone_elses_media_cannot_ride_on_your_post(client, cast):
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (1, 2, 3)).save(buffer, "PNG")
    media = await client.post("/api/v2/media", headers=cast.alice.headers, data={"description": "zqalt"},
                              files={"file": ("a.png", buffer.getvalue(), "image/png")})
    media_id = media.json()["id"]
    for text in ("look", ""):
        response = await call(client, "POST", "/api/v1/statuses", cast.bob, status=text, media_ids=[media_id])
        assert response.status_code == 422, response.text
        assert_no_secrets(response.text, "zqalt")
    bobs = await call(client, "PUT", f"/api/v1/media/{media_id}", cast.bob, description="mine now")
    assert bobs.status_code == 404
    assert (await ok(client, "GET", f"/api/v1/media/{media_id}", cast.alice))["description"] == "zqalt"
    assert (await call(client, "DELETE", f"/api/v1/media/{media_id}", cast.alice)).status_code == 200
