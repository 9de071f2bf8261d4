"""Timelines, posts and profiles through the web pages: compose, actions with and without htmx, thread
view, pagination, authorisation, escaping, and a page's query count."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event

from tests.web.test_web_auth import TOKEN, sign_in

HTMX = {"HX-Request": "true"}


async def post_as(client, cast_member, text: str, **extra) -> dict:
    response = await client.post("/api/v1/statuses", headers=cast_member.headers, json={"status": text, **extra})
    assert response.status_code == 200, response.text
    return response.json()


async def token(client, path: str = "/home") -> str:
    return TOKEN.search((await client.get(path)).text).group(1)


async def test_compose_posts_and_the_post_shows_on_home(client, cast, drain):
    await sign_in(client, "alice")
    csrf = await token(client)
    response = await client.post("/statuses", data={"csrf_token": csrf, "status": "Hello from the web",
                                                    "visibility": "public", "next": "/home"})
    assert response.status_code == 303 and response.headers["location"] == "/home"
    await drain()
    home = await client.get("/home")
    assert "Hello from the web" in home.text


async def test_compose_error_keeps_the_text(client, cast):
    await sign_in(client, "alice")
    csrf = await token(client)
    long_text = "x" * 600
    response = await client.post("/statuses", data={"csrf_token": csrf, "status": long_text, "spoiler_text": "cw!"},
                                 headers=HTMX)
    assert response.status_code == 422
    assert long_text in response.text and 'value="cw!"' in response.text
    assert "too long" in response.text.lower() or "character limit" in response.text.lower()


async def test_htmx_compose_answers_a_fresh_box_and_triggers_the_poller(client, cast, drain):
    await sign_in(client, "alice")
    first = await client.get("/home")
    poll = re.search(r'hx-get="(/home/new\?since_id=\d+)"', first.text).group(1)
    csrf = TOKEN.search(first.text).group(1)
    response = await client.post("/statuses", data={"csrf_token": csrf, "status": "via htmx"}, headers=HTMX)
    assert response.status_code == 200 and response.headers["HX-Trigger"] == "starling:posted"
    assert "via htmx" not in response.text
    await drain()
    fresh = await client.get(poll, headers=HTMX)
    assert "via htmx" in fresh.text and 'id="new-posts"' in fresh.text


async def test_actions_work_with_and_without_htmx(client, cast):
    status = await post_as(client, cast.bob, "favourite me")
    await sign_in(client, "alice")
    csrf = await token(client)
    plain = await client.post(f"/statuses/{status['id']}/favourite", data={"csrf_token": csrf, "next": "/local"})
    assert plain.status_code == 303 and plain.headers["location"] == "/local"
    seen = (await client.get(f"/api/v1/statuses/{status['id']}", headers=cast.alice.headers)).json()
    assert seen["favourited"] is True
    swapped = await client.post(f"/statuses/{status['id']}/reblog", headers=HTMX,
                                data={"csrf_token": csrf, "card": status["id"]})
    assert swapped.status_code == 200 and 'aria-pressed="true"' in swapped.text
    assert swapped.text.strip().startswith("<article")
    bookmark = await client.post(f"/statuses/{status['id']}/bookmark", headers=HTMX, data={"csrf_token": csrf})
    assert bookmark.status_code == 200
    assert (await client.get(f"/api/v1/statuses/{status['id']}", headers=cast.alice.headers)).json()["bookmarked"]


async def test_nobody_edits_or_deletes_another_persons_post(client, cast):
    status = await post_as(client, cast.bob, "bob's words")
    await sign_in(client, "alice")
    csrf = await token(client)
    base = f"/statuses/{status['id']}"
    for path, data in ((f"{base}/delete", {}), (f"{base}/edit", {"status": "mine now"})):
        response = await client.post(path, data={"csrf_token": csrf, **data})
        assert response.status_code in (403, 404)
        htmx = await client.post(path, data={"csrf_token": csrf, **data}, headers=HTMX)
        assert htmx.status_code in (403, 404)
    assert (await client.get(f"/statuses/{status['id']}/edit")).status_code in (403, 404)
    after = (await client.get(f"/api/v1/statuses/{status['id']}")).json()
    assert after["content"] == "<p>bob&#x27;s words</p>" or "bob" in after["content"]
    assert "mine now" not in after["content"]


async def test_own_post_is_edited_and_deleted(client, cast):
    status = await post_as(client, cast.alice, "first words")
    await sign_in(client, "alice")
    csrf = await token(client)
    edit_page = await client.get(f"/statuses/{status['id']}/edit")
    assert "first words" in edit_page.text
    edited = await client.post(f"/statuses/{status['id']}/edit", data={"csrf_token": csrf, "status": "better words"})
    assert edited.status_code == 303 and edited.headers["location"] == f"/@alice/{status['id']}"
    assert "better words" in (await client.get(edited.headers["location"])).text
    deleted = await client.post(f"/statuses/{status['id']}/delete", data={"csrf_token": csrf}, headers=HTMX)
    assert deleted.status_code == 200 and deleted.text == ""
    assert (await client.get(f"/@alice/{status['id']}")).status_code == 404


async def test_post_page_shows_the_whole_thread(client, cast):
    root = await post_as(client, cast.alice, "root post")
    reply = await post_as(client, cast.bob, "@alice a reply", in_reply_to_id=root["id"])
    await post_as(client, cast.alice, "@bob deeper", in_reply_to_id=reply["id"])
    page = await client.get(f"/@bob/{reply['id']}")
    assert page.status_code == 200
    text = page.text
    assert text.index("root post") < text.index("a reply") < text.index("deeper")
    assert (await client.get(f"/@alice/{reply['id']}")).status_code == 404  # wrong author in the address


async def test_private_posts_do_not_leak(client, cast):
    secret = await post_as(client, cast.bob, "followers only secret", visibility="private")
    await sign_in(client, "eve")
    assert (await client.get(f"/@bob/{secret['id']}")).status_code == 404
    assert "followers only secret" not in (await client.get("/@bob")).text
    assert "followers only secret" not in (await client.get("/local")).text


async def test_user_text_is_escaped(client, cast, ctx):
    await post_as(client, cast.bob, "<script>alert(1)</script> <img src=x onerror=alert(2)>")
    async with ctx.db.write() as session:
        from starling.accounts.models import Account
        bob = await session.get(Account, cast.bob.id)
        bob.display_name = "<script>alert(3)</script>"
    await sign_in(client, "alice")
    for path in ("/local", "/@bob"):
        body = (await client.get(path)).text
        assert "<script>alert" not in body and "<img src=x" not in body
        assert "&lt;script&gt;alert(3)" in body


async def test_profile_follow_and_tabs(client, cast, drain):
    await post_as(client, cast.bob, "bob top-level")
    await sign_in(client, "alice")
    csrf = await token(client, "/@bob")
    followed = await client.post("/@bob/follow", data={"csrf_token": csrf, "next": "/@bob"})
    assert followed.status_code == 303
    page = await client.get("/@bob")
    assert "Unfollow" in page.text and "bob top-level" in page.text
    locked = await client.post("/@carol/follow", data={"csrf_token": csrf}, headers=HTMX)
    assert "Cancel follow request" in locked.text
    assert "alice" in (await client.get("/@bob/followers")).text
    assert (await client.get("/@bob/with_replies")).status_code == 200
    assert (await client.get("/@bob/media")).status_code == 200
    assert (await client.get("/@nobody_here")).status_code == 404
    blocked = await client.post("/@bob/block", data={"csrf_token": csrf}, headers=HTMX)
    assert "Unblock" in blocked.text


async def test_infinite_scroll_pages_by_max_id(client, cast, drain):
    for n in range(25):
        await post_as(client, cast.alice, f"numbered post {n:02d}")
    await drain()
    await sign_in(client, "alice")
    first = await client.get("/home")
    assert "numbered post 24" in first.text and "numbered post 04" not in first.text
    more = re.search(r'hx-get="(/home\?max_id=\d+)"', first.text).group(1)
    older = await client.get(more, headers=HTMX)
    assert "numbered post 04" in older.text and "numbered post 24" not in older.text
    assert "<html" not in older.text
    plain = await client.get(more)
    assert "<html" in plain.text and "numbered post 00" in plain.text


@pytest.mark.parametrize("path", ["/home", "/local", "/@bob"])
async def test_a_page_costs_the_same_few_queries_whatever_its_length(client, cast, ctx, drain, path):
    await sign_in(client, "alice")
    csrf = await token(client)
    await client.post("/@bob/follow", data={"csrf_token": csrf})

    async def count_queries() -> int:
        seen = []

        def note(*_args):
            seen.append(1)

        engines = {ctx.db.read_engine.sync_engine, ctx.db.write_engine.sync_engine}
        for engine in engines:
            event.listen(engine, "before_cursor_execute", note)
        ctx.db.direct.observers.append(note)  # home reads its feed through direct statements
        try:
            response = await client.get(path)
        finally:
            for engine in engines:
                event.remove(engine, "before_cursor_execute", note)
            ctx.db.direct.observers.remove(note)
        assert response.status_code == 200 and response.text.count('class="status') >= 1
        return len(seen)

    await post_as(client, cast.bob, "one post")
    await drain()
    few = await count_queries()
    for n in range(15):
        await post_as(client, cast.bob, f"post {n} #tag{n}")
    await drain()
    many = await count_queries()
    assert many <= few + 2, (few, many)
    assert many < 40


async def test_profile_shows_bio_and_fields_escaped(client, cast):
    response = await client.patch("/api/v1/accounts/update_credentials", headers=cast.bob.headers, data={
        "display_name": "Bob <b>Bold</b>", "note": "Birder. <script>alert(1)</script>",
        "fields_attributes[0][name]": "Site <i>", "fields_attributes[0][value]": "https://bob.example"})
    assert response.status_code == 200, response.text
    page = (await client.get("/@bob")).text
    assert "Bob &lt;b&gt;Bold&lt;/b&gt;" in page
    assert "<script>alert" not in page and "Birder." in page
    assert "Site &lt;i&gt;" in page and 'href="https://bob.example"' in page


async def test_a_thread_page_costs_the_same_few_queries_however_many_replies(client, cast, ctx):
    root = await post_as(client, cast.alice, "a question")
    await post_as(client, cast.bob, "@alice first answer", in_reply_to_id=root["id"])
    await sign_in(client, "eve")

    async def count() -> int:
        seen = []

        def note(*_args):
            seen.append(1)

        engines = {ctx.db.read_engine.sync_engine, ctx.db.write_engine.sync_engine}
        for engine in engines:
            event.listen(engine, "before_cursor_execute", note)
        try:
            response = await client.get(f"/@alice/{root['id']}")
        finally:
            for engine in engines:
                event.remove(engine, "before_cursor_execute", note)
        assert response.status_code == 200
        return len(seen)

    few = await count()
    for n in range(12):
        who = cast.carol if n % 2 else cast.bob
        await post_as(client, who, f"@alice answer {n} #t{n}", in_reply_to_id=root["id"])
    many = await count()
    assert many <= few + 2, (few, many)


async def test_an_image_marked_sensitive_is_hidden_behind_a_warning(client, cast, drain):
    import io

    from PIL import Image

    picture = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(picture, format="PNG")
    await sign_in(client, "alice")
    csrf = await token(client)
    response = await client.post("/statuses", data={"csrf_token": csrf, "status": "careful", "sensitive": "1",
                                                    "description": "A red square"},
                                 files={"image": ("red.png", picture.getvalue(), "image/png")})
    assert response.status_code == 303
    page = (await client.get("/@alice")).text
    assert "Sensitive media" in page and 'alt="A red square"' in page
    assert page.index("Sensitive media") < page.index('alt="A red square"')
