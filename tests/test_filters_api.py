"""Keyword filters: the v2 API (filters, keywords, posts), the v1 view, and how `warn` and `hide` apply to
home, lists, public and hashtag timelines, profiles, threads and notifications."""

from __future__ import annotations

from datetime import timedelta

from starling import clock

V2 = "/api/v2/filters"


async def post(client, who, text, **extra):
    r = await client.post("/api/v1/statuses", json={"status": text, **extra}, headers=who.headers)
    assert r.status_code == 200, r.text
    return r.json()["id"]


async def make_filter(client, who, *keywords, context=("home", "public", "thread", "account", "notifications"),
                      action="warn", **extra):
    body = {"title": "no spoilers", "context": list(context), "filter_action": action,
            "keywords_attributes": [{"keyword": k, "whole_word": True} for k in keywords], **extra}
    r = await client.post(V2, json=body, headers=who.headers)
    assert r.status_code == 200, r.text
    return r.json()


def by_id(statuses):
    return {s["id"]: s for s in statuses}


async def test_v2_crud_and_validation(client, cast):
    created = await make_filter(client, cast.alice, "finale", "dragon")
    assert created["title"] == "no spoilers" and created["filter_action"] == "warn"
    assert [k["keyword"] for k in created["keywords"]] == ["finale", "dragon"]
    assert created["expires_at"] is None and created["statuses"] == []
    fid = created["id"]
    assert [f["id"] for f in (await client.get(V2, headers=cast.alice.headers)).json()] == [fid]
    assert (await client.get(f"{V2}/{fid}", headers=cast.bob.headers)).status_code == 404

    dragon = created["keywords"][1]["id"]
    r = await client.put(f"{V2}/{fid}", json={"title": "shows", "filter_action": "hide", "expires_in": 3600,
                                              "keywords_attributes": [{"id": dragon, "_destroy": True},
                                                                      {"keyword": "cliffhanger"}]},
                         headers=cast.alice.headers)
    body = r.json()
    assert body["title"] == "shows" and body["filter_action"] == "hide" and body["expires_at"]
    assert [k["keyword"] for k in body["keywords"]] == ["finale", "cliffhanger"]

    r = await client.post(f"{V2}/{fid}/keywords", json={"keyword": "season", "whole_word": False},
                          headers=cast.alice.headers)
    keyword = r.json()
    assert keyword["whole_word"] is False
    r = await client.put(f"{V2}/keywords/{keyword['id']}", json={"keyword": "episode"}, headers=cast.alice.headers)
    assert r.json()["keyword"] == "episode"
    assert (await client.get(f"{V2}/keywords/{keyword['id']}", headers=cast.bob.headers)).status_code == 404
    assert (await client.delete(f"{V2}/keywords/{keyword['id']}", headers=cast.alice.headers)).status_code == 200
    assert len((await client.get(f"{V2}/{fid}/keywords", headers=cast.alice.headers)).json()) == 2

    for bad in ({"title": "", "context": ["home"]}, {"title": "x", "context": []},
                {"title": "x", "context": ["everywhere"]}, {"title": "x", "context": ["home"], "filter_action": "nuke"},
                {"title": "x", "context": ["home"], "expires_in": -5},
                {"title": "x", "context": ["home"], "keywords_attributes": [{"keyword": ""}]},
                {"title": "x" * 201, "context": ["home"]}):
        r = await client.post(V2, json=bad, headers=cast.alice.headers)
        assert r.status_code == 422 and r.json()["error"], bad
    assert (await client.get(V2)).status_code == 401
    assert (await client.delete(f"{V2}/{fid}", headers=cast.bob.headers)).status_code == 404
    assert (await client.delete(f"{V2}/{fid}", headers=cast.alice.headers)).status_code == 200
    assert (await client.get(V2, headers=cast.alice.headers)).json() == []


async def test_warn_marks_and_hide_removes_on_every_timeline(client, cast, drain):
    await client.post(f"/api/v1/accounts/{cast.bob.id}/follow", headers=cast.alice.headers)
    warned = await post(client, cast.bob, "The finale was wild #telly")
    hidden = await post(client, cast.bob, "Spoiler: the dragon wins #telly")
    plain = await post(client, cast.bob, "Dragonfly season is here #telly")  # whole word: no "dragon"
    await drain()
    await make_filter(client, cast.alice, "finale")
    await make_filter(client, cast.alice, "dragon", action="hide")

    urls = ["/api/v1/timelines/home", "/api/v1/timelines/public", "/api/v1/timelines/tag/telly",
            f"/api/v1/accounts/{cast.bob.id}/statuses"]
    for url in urls:
        shown = by_id((await client.get(url, headers=cast.alice.headers)).json())
        assert hidden not in shown, url
        assert shown[warned]["filtered"][0]["keyword_matches"] == ["finale"], url
        assert shown[warned]["filtered"][0]["filter"]["filter_action"] == "warn"
        assert shown[plain]["filtered"] == [], url
        # Bob, who has no filters, sees everything plainly.
        theirs = by_id((await client.get(url, headers=cast.bob.headers)).json())
        assert {warned, hidden, plain} <= theirs.keys() and theirs[warned]["filtered"] == []


async def test_contexts_threads_notifications_and_boosts(client, cast, drain):
    root = await post(client, cast.alice, "What did everyone think?")
    reply = await post(client, cast.bob, "@alice the finale broke me", in_reply_to_id=root)
    other = await post(client, cast.eve, "@alice the dragon scene!", in_reply_to_id=root)
    await drain()
    await make_filter(client, cast.alice, "finale", context=("thread",))
    await make_filter(client, cast.alice, "dragon", context=("notifications",), action="hide")

    thread = (await client.get(f"/api/v1/statuses/{root}/context", headers=cast.alice.headers)).json()
    below = by_id(thread["descendants"])
    assert below[reply]["filtered"][0]["keyword_matches"] == ["finale"]
    assert below[other]["filtered"] == []  # the hide filter is for notifications only

    notes = (await client.get("/api/v1/notifications", headers=cast.alice.headers)).json()
    statuses = [n["status"]["id"] for n in notes if n.get("status")]
    assert reply in statuses and other not in statuses
    assert next(n for n in notes if n.get("status", {}).get("id") == reply)["status"]["filtered"] == []

    # A boost is matched through the post it boosts.
    await client.post(f"/api/v1/accounts/{cast.eve.id}/follow", headers=cast.carol.headers)
    boosted = await post(client, cast.alice, "Season finale tonight")
    r = await client.post(f"/api/v1/statuses/{boosted}/reblog", headers=cast.eve.headers)
    boost_id = r.json()["id"]
    await drain()
    await make_filter(client, cast.carol, "finale", context=("home",))
    home = by_id((await client.get("/api/v1/timelines/home", headers=cast.carol.headers)).json())
    assert home[boost_id]["filtered"][0]["keyword_matches"] == ["finale"]
    assert home[boost_id]["reblog"]["filtered"][0]["keyword_matches"] == ["finale"]


async def test_named_posts_and_expiry(client, cast, drain):
    target = await post(client, cast.bob, "nothing to match here at all")
    await drain()
    created = await make_filter(client, cast.alice, context=("public",))
    r = await client.post(f"{V2}/{created['id']}/statuses", json={"status_id": target}, headers=cast.alice.headers)
    assert r.status_code == 200 and r.json()["status_id"] == target
    entry = r.json()["id"]
    again = await client.post(f"{V2}/{created['id']}/statuses", json={"status_id": target},
                              headers=cast.alice.headers)
    assert again.status_code == 422
    shown = by_id((await client.get("/api/v1/timelines/public", headers=cast.alice.headers)).json())
    assert shown[target]["filtered"][0]["status_matches"] == [target]
    assert [s["id"] for s in (await client.get(f"{V2}/{created['id']}/statuses",
                                               headers=cast.alice.headers)).json()] == [entry]
    assert (await client.delete(f"{V2}/statuses/{entry}", headers=cast.alice.headers)).status_code == 200

    await make_filter(client, cast.alice, "nothing", context=("public",), action="hide", expires_in=60)
    assert target not in by_id((await client.get("/api/v1/timelines/public", headers=cast.alice.headers)).json())
    clock.set_now(clock.now() + timedelta(minutes=2))
    assert target in by_id((await client.get("/api/v1/timelines/public", headers=cast.alice.headers)).json())


async def test_v1_filters_are_keywords(client, cast, drain):
    status_id = await post(client, cast.bob, "Election results are in")
    await drain()
    r = await client.post("/api/v1/filters", json={"phrase": "election", "context": ["public"],
                                                   "irreversible": True, "whole_word": True},
                          headers=cast.alice.headers)
    assert r.status_code == 200, r.text
    v1 = r.json()
    assert v1["phrase"] == "election" and v1["irreversible"] is True and v1["context"] == ["public"]
    assert [f["id"] for f in (await client.get("/api/v1/filters", headers=cast.alice.headers)).json()] == [v1["id"]]
    assert status_id not in by_id((await client.get("/api/v1/timelines/public", headers=cast.alice.headers)).json())
    r = await client.put(f"/api/v1/filters/{v1['id']}", json={"irreversible": False, "phrase": "results"},
                         headers=cast.alice.headers)
    assert r.json()["irreversible"] is False and r.json()["phrase"] == "results"
    shown = by_id((await client.get("/api/v1/timelines/public", headers=cast.alice.headers)).json())
    assert shown[status_id]["filtered"][0]["keyword_matches"] == ["results"]
    assert (await client.get(V2, headers=cast.alice.headers)).json()[0]["keywords"][0]["keyword"] == "results"
    assert (await client.delete(f"/api/v1/filters/{v1['id']}", headers=cast.alice.headers)).status_code == 200
    assert (await client.get(V2, headers=cast.alice.headers)).json() == []
