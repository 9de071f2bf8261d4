"""Keyword filters in the web app: `hide` leaves posts out of home, local, hashtag, profile and thread
pages and notifications; `warn` folds them behind the filter's title."""

from __future__ import annotations

from tests.test_moderation_web import post, sign_in


async def make_filter(client, who, keyword, action, context):
    r = await client.post("/api/v2/filters", json={"title": f"about {keyword}", "context": context,
                                                   "filter_action": action,
                                                   "keywords_attributes": [{"keyword": keyword}]},
                          headers=who.headers)
    assert r.status_code == 200, r.text


async def test_filters_apply_on_every_web_timeline(client, cast, drain):
    await client.post(f"/api/v1/accounts/{cast.bob.id}/follow", headers=cast.alice.headers)
    warned = await post(client, cast.bob, "@alice The finale was wild #telly")
    hidden = await post(client, cast.bob, "@alice Spoiler: the dragon wins #telly")
    root = await post(client, cast.alice, "What did you all make of the show?")
    warned_reply = await post(client, cast.bob, "The finale, honestly", in_reply_to_id=root)
    hidden_reply = await post(client, cast.bob, "The dragon, honestly", in_reply_to_id=root)
    await drain()
    everywhere = ["home", "public", "thread", "account", "notifications"]
    await make_filter(client, cast.alice, "finale", "warn", everywhere)
    await make_filter(client, cast.alice, "dragon", "hide", everywhere)
    await sign_in(client, cast.alice)
    for path in ("/home", "/local", "/tags/telly", "/@bob", "/notifications"):
        page = await client.get(path)
        assert page.status_code == 200, path
        assert f'id="status-{hidden}"' not in page.text and "dragon wins" not in page.text, path
        assert f'id="status-{warned}"' in page.text and "Filtered: about finale" in page.text, path
    thread = (await client.get(f"/@alice/{root}")).text
    assert f'id="status-{hidden_reply}"' not in thread
    assert f'id="status-{warned_reply}"' in thread and "Filtered: about finale" in thread
