"""Timelines through the API: home (with the hybrid merge), public, hashtag, account statuses,
favourites and bookmarks; pagination and Link headers; what must never leak."""

from __future__ import annotations

from tests.test_timelines_support import (
    QueryCounter,
    attach_media,
    block,
    boost,
    feed_of,
    follow,
    many_posts,
    mark,
    mute,
    post,
)

BASE = "http://testserver"


def ids_of(response) -> list[int]:
    assert response.status_code == 200, response.text
    return [int(s["id"]) for s in response.json()]


async def test_home_shows_followed_and_own_posts_newest_first(client, ctx, cast):
    await follow(ctx, cast.alice.id, cast.bob.id)
    first = await post(ctx, cast.bob.id, "one")
    mine = await post(ctx, cast.alice.id, "mine")
    await post(ctx, cast.eve.id, "a stranger")
    last = await post(ctx, cast.bob.id, "two")
    response = await client.get("/api/v1/timelines/home", headers=cast.alice.headers)
    assert ids_of(response) == [last, mine, first]
    assert response.headers["link"] == (
        f'<{BASE}/api/v1/timelines/home?max_id={first}>; rel="next", '
        f'<{BASE}/api/v1/timelines/home?min_id={last}>; rel="prev"')


async def test_home_pagination_max_since_min_and_limit(client, ctx, cast):
    await follow(ctx, cast.alice.id, cast.bob.id)
    posted = await many_posts(ctx, cast.bob.id, 45)
    newest = posted[::-1]
    home = "/api/v1/timelines/home"
    assert ids_of(await client.get(home, headers=cast.alice.headers)) == newest[:20]
    assert ids_of(await client.get(f"{home}?limit=100", headers=cast.alice.headers)) == newest[:40]
    assert ids_of(await client.get(f"{home}?limit=3&max_id={newest[2]}", headers=cast.alice.headers)) \
        == newest[3:6]
    assert ids_of(await client.get(f"{home}?limit=3&since_id={newest[10]}", headers=cast.alice.headers)) \
        == newest[:3]
    response = await client.get(f"{home}?limit=3&min_id={newest[10]}", headers=cast.alice.headers)
    assert ids_of(response) == newest[7:10]
    assert response.headers["link"] == (
        f'<{BASE}{home}?limit=3&max_id={newest[9]}>; rel="next", '
        f'<{BASE}{home}?limit=3&min_id={newest[7]}>; rel="prev"')
    empty = await client.get(f"{home}?min_id={newest[0]}", headers=cast.alice.headers)
    assert ids_of(empty) == [] and "link" not in empty.headers


async def test_home_needs_a_token_with_read(client, make_account):
    assert (await client.get("/api/v1/timelines/home")).status_code == 401
    writer = await make_account("writer", scopes="write")
    response = await client.get("/api/v1/timelines/home", headers=writer.headers)
    assert response.status_code == 403 and "error" in response.json()


async def test_accounts_above_the_threshold_merge_in_at_read_time(client, ctx, cast):
    ctx.settings.fanout_threshold = 1
    await follow(ctx, cast.alice.id, cast.bob.id)
    await follow(ctx, cast.eve.id, cast.bob.id)  # bob now has 2 followers: above the threshold
    mine = await post(ctx, cast.alice.id, "mine")
    popular = [await post(ctx, cast.bob.id, f"popular {n}") for n in range(3)]
    reply_elsewhere = await post(ctx, cast.bob.id, "to carol", reply_to=await post(ctx, cast.carol.id, "hi"))
    assert await feed_of(ctx, cast.alice.id) == [mine]
    response = await client.get("/api/v1/timelines/home", headers=cast.alice.headers)
    assert ids_of(response) == [popular[2], popular[1], popular[0], mine]
    assert reply_elsewhere not in ids_of(response)
    page = await client.get(f"/api/v1/timelines/home?limit=2&max_id={popular[2]}", headers=cast.alice.headers)
    assert ids_of(page) == [popular[1], popular[0]]
    older = await client.get(f"/api/v1/timelines/home?limit=2&min_id={mine}", headers=cast.alice.headers)
    assert ids_of(older) == [popular[1], popular[0]]


async def test_muted_and_blocked_accounts_never_appear_at_home(client, ctx, cast):
    await follow(ctx, cast.alice.id, cast.bob.id)
    await follow(ctx, cast.alice.id, cast.eve.id)
    by_eve = await post(ctx, cast.eve.id, "muted soon")
    carol_post = await post(ctx, cast.carol.id, "carol speaks")
    boosted = await boost(ctx, cast.bob.id, carol_post)
    kept = await post(ctx, cast.bob.id, "still here")
    await mute(ctx, cast.alice.id, cast.eve.id)
    await block(ctx, cast.carol.id, cast.alice.id)  # carol blocks alice: her posts and boosts of them go
    shown = ids_of(await client.get("/api/v1/timelines/home", headers=cast.alice.headers))
    assert kept in shown
    assert by_eve not in shown and boosted not in shown


async def test_public_timeline_is_public_top_level_and_open_to_everyone(client, ctx, cast):
    public = await post(ctx, cast.bob.id, "hello world")
    await post(ctx, cast.bob.id, "unlisted", visibility="unlisted")
    await post(ctx, cast.bob.id, "private", visibility="private")
    await post(ctx, cast.bob.id, "direct @alice", visibility="direct")
    reply = await post(ctx, cast.eve.id, "a reply", reply_to=public)
    thread = await post(ctx, cast.bob.id, "self thread", reply_to=public)
    await boost(ctx, cast.eve.id, public)
    for headers in ({}, cast.alice.headers):
        shown = ids_of(await client.get("/api/v1/timelines/public", headers=headers))
        assert shown == [thread, public]
        assert reply not in shown
    assert ids_of(await client.get("/api/v1/timelines/public?local=true")) == [thread, public]
    assert ids_of(await client.get("/api/v1/timelines/public?remote=true")) == []


async def test_public_timeline_only_media_and_viewer_filters(client, ctx, cast):
    plain = await post(ctx, cast.bob.id, "words")
    pictured = await post(ctx, cast.eve.id, "a picture")
    await attach_media(ctx, cast.eve.id, pictured)
    assert ids_of(await client.get("/api/v1/timelines/public?only_media=true")) == [pictured]
    await mute(ctx, cast.alice.id, cast.eve.id)
    assert ids_of(await client.get("/api/v1/timelines/public", headers=cast.alice.headers)) == [plain]
    await block(ctx, cast.bob.id, cast.alice.id)
    assert ids_of(await client.get("/api/v1/timelines/public", headers=cast.alice.headers)) == []
    assert ids_of(await client.get("/api/v1/timelines/public")) == [pictured, plain]


async def test_public_timeline_link_header_keeps_other_parameters(client, ctx, cast):
    posted = [await post(ctx, cast.bob.id, f"p{n}") for n in range(3)]
    response = await client.get("/api/v1/timelines/public?local=true&limit=2")
    assert ids_of(response) == [posted[2], posted[1]]
    path = f"{BASE}/api/v1/timelines/public"
    assert response.headers["link"] == (
        f'<{path}?local=true&limit=2&max_id={posted[1]}>; rel="next", '
        f'<{path}?local=true&limit=2&min_id={posted[2]}>; rel="prev"')


async def test_tag_timeline_any_all_none(client, ctx, cast):
    cats = await post(ctx, cast.bob.id, "#cats")
    dogs = await post(ctx, cast.bob.id, "#dogs")
    both = await post(ctx, cast.eve.id, "#Cats and #dogs")
    await post(ctx, cast.bob.id, "#cats private", visibility="private")
    await post(ctx, cast.bob.id, "#cats unlisted", visibility="unlisted")
    assert ids_of(await client.get("/api/v1/timelines/tag/cats")) == [both, cats]
    assert ids_of(await client.get("/api/v1/timelines/tag/CATS", headers=cast.alice.headers)) == [both, cats]
    assert ids_of(await client.get("/api/v1/timelines/tag/cats?any[]=dogs")) == [both, dogs, cats]
    assert ids_of(await client.get("/api/v1/timelines/tag/cats?all[]=dogs")) == [both]
    assert ids_of(await client.get("/api/v1/timelines/tag/cats?none[]=dogs")) == [cats]
    assert ids_of(await client.get("/api/v1/timelines/tag/cats?all[]=nosuchtag")) == []
    assert ids_of(await client.get("/api/v1/timelines/tag/nosuchtag")) == []
    assert ids_of(await client.get("/api/v1/timelines/tag/cats?limit=1")) == [both]


async def test_account_statuses_are_filtered_for_each_viewer(client, ctx, cast):
    await follow(ctx, cast.alice.id, cast.bob.id)
    public = await post(ctx, cast.bob.id, "public")
    unlisted = await post(ctx, cast.bob.id, "unlisted", visibility="unlisted")
    private = await post(ctx, cast.bob.id, "private", visibility="private")
    to_eve = await post(ctx, cast.bob.id, "to @eve", visibility="direct")
    path = f"/api/v1/accounts/{cast.bob.id}/statuses"
    assert ids_of(await client.get(path)) == [unlisted, public]
    assert ids_of(await client.get(path, headers=cast.carol.headers)) == [unlisted, public]
    assert ids_of(await client.get(path, headers=cast.alice.headers)) == [private, unlisted, public]
    assert ids_of(await client.get(path, headers=cast.eve.headers)) == [to_eve, unlisted, public]
    assert ids_of(await client.get(path, headers=cast.bob.headers)) == [to_eve, private, unlisted, public]


async def test_account_statuses_filters(client, ctx, cast):
    top = await post(ctx, cast.bob.id, "top #news")
    reply_other = await post(ctx, cast.bob.id, "reply", reply_to=await post(ctx, cast.eve.id, "eve"))
    self_reply = await post(ctx, cast.bob.id, "more", reply_to=top)
    reblog = await boost(ctx, cast.bob.id, await post(ctx, cast.eve.id, "boost me"))
    pictured = await post(ctx, cast.bob.id, "photo")
    await attach_media(ctx, cast.bob.id, pictured)
    await mark(ctx, "pin", cast.bob.id, top)
    path = f"/api/v1/accounts/{cast.bob.id}/statuses"
    assert ids_of(await client.get(path)) == [pictured, reblog, self_reply, reply_other, top]
    assert ids_of(await client.get(f"{path}?exclude_replies=true")) == [pictured, reblog, self_reply, top]
    assert ids_of(await client.get(f"{path}?exclude_reblogs=true")) == \
        [pictured, self_reply, reply_other, top]
    assert ids_of(await client.get(f"{path}?only_media=true")) == [pictured]
    assert ids_of(await client.get(f"{path}?pinned=true")) == [top]
    assert ids_of(await client.get(f"{path}?tagged=News")) == [top]
    assert ids_of(await client.get(f"{path}?tagged=nothing")) == []
    response = await client.get(f"{path}?limit=2")
    assert ids_of(response) == [pictured, reblog]
    assert response.headers["link"] == (
        f'<{BASE}{path}?limit=2&max_id={reblog}>; rel="next", '
        f'<{BASE}{path}?limit=2&min_id={pictured}>; rel="prev"')


async def test_account_statuses_unknown_blocked_and_scoped(client, ctx, cast, make_account):
    await post(ctx, cast.bob.id, "hello")
    assert (await client.get("/api/v1/accounts/12345/statuses")).status_code == 404
    assert (await client.get(f"/api/v1/accounts/{2**64}/statuses")).status_code == 404
    await block(ctx, cast.bob.id, cast.alice.id)
    response = await client.get(f"/api/v1/accounts/{cast.bob.id}/statuses", headers=cast.alice.headers)
    assert ids_of(response) == []
    pusher = await make_account("pusher", scopes="push")
    response = await client.get(f"/api/v1/accounts/{cast.bob.id}/statuses", headers=pusher.headers)
    assert response.status_code == 403


async def test_private_and_direct_never_leak_into_shared_timelines(client, ctx, cast):
    await follow(ctx, cast.alice.id, cast.bob.id)
    private = await post(ctx, cast.bob.id, "#secret private", visibility="private")
    direct = await post(ctx, cast.bob.id, "#secret direct @alice", visibility="direct")
    for headers in ({}, cast.eve.headers, cast.alice.headers):
        for path in ("/api/v1/timelines/public", "/api/v1/timelines/tag/secret"):
            shown = ids_of(await client.get(path, headers=headers))
            assert private not in shown and direct not in shown
    for headers in ({}, cast.eve.headers):
        shown = ids_of(await client.get(f"/api/v1/accounts/{cast.bob.id}/statuses", headers=headers))
        assert private not in shown and direct not in shown
    assert ids_of(await client.get("/api/v1/timelines/home", headers=cast.eve.headers)) == []


async def test_favourites_and_bookmarks_page_by_their_own_ids(client, ctx, cast):
    statuses = [await post(ctx, cast.bob.id, f"s{n}") for n in range(3)]
    # Favourited in an order unlike the statuses' own: newest favourite first.
    favs = [await mark(ctx, "favourite", cast.alice.id, s) for s in (statuses[1], statuses[0], statuses[2])]
    response = await client.get("/api/v1/favourites?limit=2", headers=cast.alice.headers)
    assert ids_of(response) == [statuses[2], statuses[0]]
    assert response.headers["link"] == (
        f'<{BASE}/api/v1/favourites?limit=2&max_id={favs[1]}>; rel="next", '
        f'<{BASE}/api/v1/favourites?limit=2&min_id={favs[2]}>; rel="prev"')
    nxt = await client.get(f"/api/v1/favourites?limit=2&max_id={favs[1]}", headers=cast.alice.headers)
    assert ids_of(nxt) == [statuses[1]]
    marks = [await mark(ctx, "bookmark", cast.alice.id, sid) for sid in (statuses[2], statuses[0])]
    response = await client.get("/api/v1/bookmarks", headers=cast.alice.headers)
    assert ids_of(response) == [statuses[0], statuses[2]]
    assert f"max_id={marks[0]}" in response.headers["link"]
    assert ids_of(await client.get("/api/v1/bookmarks", headers=cast.bob.headers)) == []
    assert (await client.get("/api/v1/favourites")).status_code == 401


async def test_favourites_hide_what_the_viewer_can_no_longer_see(client, ctx, cast):
    liked = await post(ctx, cast.bob.id, "nice")
    await mark(ctx, "favourite", cast.alice.id, liked)
    assert ids_of(await client.get("/api/v1/favourites", headers=cast.alice.headers)) == [liked]
    await block(ctx, cast.bob.id, cast.alice.id)
    assert ids_of(await client.get("/api/v1/favourites", headers=cast.alice.headers)) == []


async def test_a_home_page_takes_a_bounded_number_of_queries(client, ctx, cast, make_account):
    authors = [cast.bob, cast.eve, await make_account("dave"), await make_account("fay")]
    for author in authors:
        await follow(ctx, cast.alice.id, author.id)
    for n in range(6):
        for author in authors:
            await post(ctx, author.id, f"{author.username} {n}")
    await client.get("/api/v1/timelines/home", headers=cast.alice.headers)  # warm up the token cache path
    with QueryCounter(ctx) as counter:
        response = await client.get("/api/v1/timelines/home", headers=cast.alice.headers)
    assert len(ids_of(response)) == 20
    assert len(counter.statements) <= 25, "\n".join(counter.statements)


async def test_home_shows_each_post_once(client, ctx, cast, make_account):
    dave = await make_account("dave")
    await follow(ctx, cast.alice.id, cast.bob.id)
    await follow(ctx, cast.alice.id, cast.eve.id)
    original = await post(ctx, cast.bob.id, "boosted by a followee")
    await boost(ctx, cast.eve.id, original)  # the original is on the page already
    stranger = await post(ctx, dave.id, "boosted twice")
    await boost(ctx, cast.bob.id, stranger)
    newest_boost = await boost(ctx, cast.eve.id, stranger)
    mine = await post(ctx, cast.alice.id, "my own post")
    await boost(ctx, cast.eve.id, mine)  # others boosting the viewer's own post stay out of her home
    shown = ids_of(await client.get("/api/v1/timelines/home", headers=cast.alice.headers))
    assert shown == [mine, newest_boost, original]


async def test_read_time_merge_of_many_accounts_pages_correctly(client, ctx, cast, make_account, monkeypatch):
    from starling.timelines import repository

    monkeypatch.setattr(repository, "UNION_CHUNK", 2)  # three accounts: two queries
    ctx.settings.fanout_threshold = 0  # every followed account is merged at read time
    authors = [cast.bob, cast.eve, await make_account("dave")]
    for author in authors:
        await follow(ctx, cast.alice.id, author.id)
    posted = [await post(ctx, author.id, f"{author.username} {n}") for n in range(3) for author in authors]
    assert await feed_of(ctx, cast.alice.id) == []
    newest = posted[::-1]
    home = "/api/v1/timelines/home"
    assert ids_of(await client.get(f"{home}?limit=4", headers=cast.alice.headers)) == newest[:4]
    assert ids_of(await client.get(f"{home}?limit=4&max_id={newest[3]}", headers=cast.alice.headers)) \
        == newest[4:8]
    assert ids_of(await client.get(f"{home}?limit=4&min_id={newest[8]}", headers=cast.alice.headers)) \
        == newest[4:8]


async def test_account_statuses_exclude_direct_for_the_owner(client, cast):
    public = (await client.post("/api/v1/statuses", json={"status": "hello all"}, headers=cast.alice.headers)).json()
    direct = (await client.post("/api/v1/statuses", json={"status": "@bob just you", "visibility": "direct"},
                                headers=cast.alice.headers)).json()
    path = f"/api/v1/accounts/{cast.alice.id}/statuses"
    everything = [s["id"] for s in (await client.get(path, headers=cast.alice.headers)).json()]
    assert direct["id"] in everything and public["id"] in everything
    filtered = [s["id"] for s in (await client.get(path, params={"exclude_direct": "true"},
                                                   headers=cast.alice.headers)).json()]
    assert public["id"] in filtered and direct["id"] not in filtered
