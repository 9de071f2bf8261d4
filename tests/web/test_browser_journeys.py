"""Journeys through the web app in a real browser (Debian's chromium) against a real server."""

from __future__ import annotations

import itertools
import re

import pytest
from PIL import Image

from tests.postgres import instance_rows
from tests.web.conftest import (
    DESKTOP,
    PHONE,
    check_accessibility,
    screenshot,
    sign_in_admin,
    sign_in_in_browser,
    sign_up_in_browser,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

_names = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}{next(_names)}"


# Each journey's friend writes a post of its own: the same words from several new accounts are what the
# spam scorer rightly quarantines as a campaign.
SCENES = itertools.cycle([
    "a heron stood in the shallows until the ferry horn sent it over the reeds",
    "two goldfinches argued over the thistle heads by the allotment gate",
    "fog on the estuary, and somewhere inside it a curlew calling the tide in",
    "the starlings came back to the pier at dusk, thousands of them turning as one",
])


def an_image(tmp_path) -> str:
    path = tmp_path / "sunrise.png"
    image = Image.new("RGB", (480, 240))
    for y in range(240):  # a dawn sky: blue above, orange at the horizon, a dark hill below
        t = y / 240
        colour = (int(40 + 210 * t), int(70 + 100 * t), int(170 - 120 * t))
        for x in range(480):
            hill = 200 - int(30 * ((x - 240) / 240) ** 2 * -1) if y > 190 else 999
            image.putpixel((x, y), (30, 34, 48) if y > hill else colour)
    image.save(path)
    return str(path)


def after_jobs(page, selector: str, text: str | None = None, attempts: int = 60):
    """Reload until what a background job writes (a home feed merge, a notification) shows up."""
    for _ in range(attempts):
        found = page.locator(selector, has_text=text) if text else page.locator(selector)
        if found.count():
            return found.first
        page.wait_for_timeout(500)
        page.reload()
    pytest.fail(f"{selector} {text or ''} never appeared on {page.url}")


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
def test_a_newcomer_joins_posts_follows_and_talks(new_page, person, live, tmp_path, viewport):
    tag = "desktop" if viewport is DESKTOP else "phone"
    friend = person(unique("friend"))
    friend.post(f"Morning from {friend.username}: {next(SCENES)} #birds")
    me = unique("newbie")
    page = new_page(viewport)

    # Sign up: lands on an empty home timeline with the compose box.
    sign_up_in_browser(page, me)
    assert page.get_by_role("heading", name="Home").is_visible()

    # Post with an image and alt text: the live counter counts, the preview shows, the post arrives.
    page.locator("#compose-text").fill("My first post, with a picture")
    counter = page.locator("#compose-counter")
    assert counter.inner_text() == str(500 - len("My first post, with a picture"))
    page.get_by_label("Image", exact=True).set_input_files(an_image(tmp_path))
    page.get_by_label("Image description (alt text)").fill("An orange sunrise under a blue sky")
    assert page.locator("#compose-preview img").count() == 1
    page.locator("#compose").get_by_role("button", name="Post").click()
    mine = page.locator("article.status", has_text="My first post, with a picture")
    mine.wait_for()
    assert mine.locator("img[alt='An orange sunrise under a blue sky']").count() == 1
    assert page.locator("#compose-text").input_value() == ""

    # Follow someone: their posts appear on home.
    page.goto(f"/@{friend.username}")
    page.get_by_role("button", name="Follow", exact=True).click()
    page.get_by_role("button", name="Unfollow").wait_for()
    page.goto("/home")
    theirs = after_jobs(page, "article.status", f"Morning from {friend.username}")
    screenshot(page, f"home-{tag}")

    # Favourite and boost inline; both stay pressed after a reload.
    theirs.get_by_role("button", name=re.compile("Favourite")).click()
    page.locator("article.status", has_text=f"Morning from {friend.username}").get_by_role(
        "button", name=re.compile("Favourite")).and_(page.locator("[aria-pressed=true]")).wait_for()
    theirs = page.locator("article.status", has_text=f"Morning from {friend.username}").first
    theirs.get_by_role("button", name=re.compile("Boost")).click()
    page.locator("article.status [aria-pressed=true].boost").first.wait_for()

    # Reply from the post's page: the reply shows in the thread.
    page.goto("/home")
    page.locator("article.status", has_text=f"Morning from {friend.username}").first.get_by_role(
        "link", name=re.compile("Reply")).click()
    page.locator("#compose-text").wait_for()
    assert page.locator("#compose-text").input_value().startswith(f"@{friend.username}")
    page.locator("#compose-text").press("End")
    page.locator("#compose-text").type("lovely birds!")
    page.locator("#compose").get_by_role("button", name="Reply").click()
    page.locator(".thread-replies article.status", has_text="lovely birds!").wait_for()
    screenshot(page, f"thread-{tag}")

    # The friend answers: a notification arrives, counted in the navigation.
    friend.act(f"/@{me}/follow")
    page.goto("/home")
    assert after_jobs(page, "#unread-count:not([hidden])").inner_text() in {"1", "2", "3"}

    page.locator("#unread-count").click()
    page.locator("main", has_text=friend.username).wait_for()
    assert "followed you" in page.locator("main").inner_text()
    screenshot(page, f"notifications-{tag}")

    # Search finds the friend.
    page.goto("/search")
    page.get_by_label("Search for people, hashtags or posts").fill(friend.username)
    page.get_by_label("Search for people, hashtags or posts").press("Enter")
    page.locator("#found-accounts").wait_for()
    assert friend.username in page.locator("main").inner_text()

    # Edit the profile: the new name and bio show on the profile.
    page.goto("/settings/profile")
    page.get_by_label("Display name").fill("Newcomer Nell")
    page.get_by_label("Bio").fill("Watching birds, mostly starlings.")
    page.get_by_role("button", name="Save profile").click()
    page.get_by_text("Profile saved.").wait_for()

    # The profile shows the post with its image.
    page.goto(f"/@{me}/media")
    assert page.get_by_role("heading", name="Newcomer Nell").is_visible()
    assert "Watching birds, mostly starlings." in page.locator(".profile .bio").inner_text()
    assert page.locator("article.status img[alt='An orange sunrise under a blue sky']").count() == 1
    screenshot(page, f"profile-{tag}")


def test_an_admin_changes_the_registration_mode_and_suspends_an_account(new_page, person, live):
    troublemaker = person(unique("troll"))
    page = new_page()
    sign_in_admin(page, live)
    page.goto("/admin")
    screenshot(page, "admin-overview")
    page.goto("/admin/settings")
    page.get_by_label("Nobody can sign up").check()
    page.get_by_role("button", name="Save settings").click()
    page.get_by_text("Instance settings saved.").wait_for()
    try:
        stranger = new_page()
        stranger.goto("/auth/sign_up")
        assert "Sign-up is closed" in stranger.locator("main").inner_text()
    finally:  # the server is shared by the other journeys
        page.get_by_label("Anyone can sign up").check()
        page.get_by_role("button", name="Save settings").click()
        page.get_by_text("Instance settings saved.").wait_for()
    page.goto(f"/admin/accounts?q={troublemaker.username}")
    page.get_by_role("button", name=f"Suspend @{troublemaker.username}").click()
    page.get_by_role("button", name=f"Unsuspend @{troublemaker.username}").wait_for()
    screenshot(page, "admin-accounts")
    # The suspended account is signed out; signing back in opens its suspension page and nothing else.
    assert troublemaker.http.get("/home").status_code == 303
    again = new_page()
    again.goto("/auth/sign_in")
    sign_in_in_browser(again, troublemaker.username)
    again.get_by_role("heading", name="Your account is suspended").wait_for()
    again.get_by_label("Tell the moderators why the suspension is wrong").fill("I was only joking.")
    again.get_by_role("button", name="Send appeal").click()
    again.get_by_text("Your appeal is waiting for a moderator").wait_for()
    screenshot(again, "suspended")
    again.goto("/home")
    assert again.url.endswith("/suspended")


def test_keyboard_only_posting(new_page, person):
    me = unique("keys")
    person(me)
    page = new_page()
    page.goto("/auth/sign_in?next=/home")
    page.keyboard.press("Tab")  # the skip link comes first
    assert page.evaluate("document.activeElement.textContent").strip() == "Skip to content"
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "f-username":
            break
    page.keyboard.type(me)
    page.keyboard.press("Tab")
    page.keyboard.type("correct horse battery staple")
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Home").wait_for()
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "compose-text":
            break
    else:
        pytest.fail("the compose box cannot be reached with Tab")
    # A visible focus ring on the focused control.
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
    page.keyboard.type("Typed without a mouse")
    while page.evaluate("document.activeElement.textContent.trim()") != "Post":
        page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    mine = page.locator("article.status", has_text="Typed without a mouse")
    mine.wait_for()
    # Favourite it from the keyboard: the button keeps the focus after htmx swaps the post.
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.classList.contains('fav')"):
            break
    page.keyboard.press("Enter")
    mine.locator("button.fav[aria-pressed=true]").wait_for()
    assert page.evaluate("document.activeElement.classList.contains('fav')")
    # j and k move between posts; n goes back to the compose box.
    page.keyboard.press("j")
    assert page.evaluate("document.activeElement.matches('article.status')")
    page.keyboard.press("k")
    assert "Typed without a mouse" in page.evaluate("document.activeElement.textContent")
    page.keyboard.press("n")
    assert page.evaluate("document.activeElement.id") == "compose-text"


def test_a_script_in_a_post_never_runs(new_page, person):
    mallory = person(unique("mallory"))
    mallory.post('<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2"> hi')
    page = new_page()
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"/@{mallory.username}")
    page.locator("article.status", has_text="hi").wait_for()
    assert "<script>window.__pwned" in page.locator("article.status .content").first.inner_text()
    assert page.evaluate("window.__pwned === undefined")
    assert dialogs == []


def test_expired_session_signs_in_and_returns(new_page, person, live):
    me = unique("sleepy")
    person(me)
    page = new_page()
    page.goto("/auth/sign_in")
    sign_in_in_browser(page, me)
    page.wait_for_url("**/home")
    instance_rows(live.data_dir, "UPDATE web_sessions SET expires_at = '2000-01-01 00:00:00' WHERE account_id = "
                  f"(SELECT id FROM accounts WHERE username = '{me}')")
    page.goto("/local?max_id=999999999999999999")
    assert "/auth/sign_in" in page.url
    sign_in_in_browser(page, me)
    page.wait_for_url("**/local?max_id=999999999999999999")


def test_a_form_without_its_token_is_refused(new_page, person):
    me = unique("forger")
    person(me)
    page = new_page()
    page.goto("/auth/sign_in")
    sign_in_in_browser(page, me)
    page.wait_for_url("**/home")
    status = page.evaluate("""async () => {
        const r = await fetch('/statuses', {method: 'POST', body: new URLSearchParams({status: 'forged'})});
        return r.status;
    }""")
    assert status == 403


def test_nobody_edits_or_deletes_another_persons_post(new_page, person):
    owner = person(unique("owner"))
    owner.post("mine, not yours")
    me = unique("intruder")
    person(me)
    page = new_page()
    page.goto(f"/@{owner.username}")
    status_id = page.locator("article.status").first.get_attribute("id").removeprefix("status-")
    page.goto("/auth/sign_in")
    sign_in_in_browser(page, me)
    page.wait_for_url("**/home")
    page.goto(f"/@{owner.username}/{status_id}")
    assert page.locator("article.status.focus").get_by_role("button", name=re.compile("Delete")).count() == 0
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    for path, form in ((f"/statuses/{status_id}/delete", {}), (f"/statuses/{status_id}/edit", {"status": "pwned"})):
        answer = page.request.post(path, form={"csrf_token": token, **form}, max_redirects=0)
        assert answer.status in (403, 404)
    assert page.goto(f"/statuses/{status_id}/edit").status in (403, 404)
    page.goto(f"/@{owner.username}/{status_id}")
    assert "mine, not yours" in page.locator("article.status.focus").inner_text()


def test_main_pages_have_no_serious_accessibility_problems(new_page, person, live):
    friend = person(unique("axefriend"))
    friend.post("Accessible post #a11y")
    page = new_page(bypass_csp=True)
    for path in ("/auth/sign_in", "/auth/sign_up", "/explore"):
        page.goto(path)
        check_accessibility(page, path)
    screenshot(page, "explore-signed-out")
    me = unique("axe")
    sign_up_in_browser(page, me)
    page.goto(f"/@{friend.username}")
    page.get_by_role("button", name="Follow", exact=True).click()
    page.get_by_role("button", name="Unfollow").wait_for()
    status_id = page.locator("article.status").first.get_attribute("id").removeprefix("status-")
    for path in ("/home", "/local", "/explore", f"/@{friend.username}", f"/@{friend.username}/{status_id}",
                 f"/@{friend.username}/followers", "/auth/password"):
        page.goto(path)
        check_accessibility(page, path)
    page.goto("/local")
    screenshot(page, "local")


def test_the_dark_theme_follows_the_system_and_stays_readable(new_page, person):
    friend = person(unique("night"))
    friend.post("Owls tonight #nocturnal")
    page = new_page(bypass_csp=True, color_scheme="dark")
    page.goto("/auth/sign_in")
    check_accessibility(page, "dark /auth/sign_in")
    sign_up_in_browser(page, unique("nightowl"))
    page.goto(f"/@{friend.username}")
    page.get_by_role("button", name="Follow", exact=True).click()
    page.get_by_role("button", name="Unfollow").wait_for()
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(18, 21, 28)"
    for path in ("/home", f"/@{friend.username}", "/explore"):
        page.goto(path)
        check_accessibility(page, f"dark {path}")
    page.goto("/home")
    after_jobs(page, "article.status", "Owls tonight")
    screenshot(page, "home-dark")


def an_avatar(colour: tuple[int, int, int]) -> bytes:
    import io

    from PIL import ImageDraw

    image = Image.new("RGB", (128, 128), colour)
    ImageDraw.Draw(image).ellipse((32, 20, 96, 84), fill=(255, 255, 255))
    ImageDraw.Draw(image).ellipse((16, 88, 112, 168), fill=(255, 255, 255))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def test_home_timeline_screenshot_for_the_readme(new_page, person, tmp_path):
    """A lived-in home timeline, saved as test-output/screenshots/readme-home.png (docs/screenshot-home.png
    is a copy of it)."""
    ada = person(unique("ada"))
    ada.profile("Ada Wren", "Counting birds before breakfast.", an_avatar((52, 81, 201)))
    ada.post("The starlings are back over the river tonight: thousands of them, turning like smoke. #murmuration")
    ben = person(unique("ben"))
    ben.profile("Ben Okafor", "Field recordings.", an_avatar((23, 98, 58)))
    ben.http.post("/statuses", data={"csrf_token": ben.csrf("/home"), "status": "Spoilers for tonight's walk",
                                     "spoiler_text": "Birdsong recording, long post"})
    me = unique("reader")
    page = new_page()
    sign_up_in_browser(page, me)
    for who in (ada, ben):
        page.goto(f"/@{who.username}")
        page.get_by_role("button", name="Follow", exact=True).click()
        page.get_by_role("button", name="Unfollow").wait_for()
    page.goto("/home")
    page.locator("#compose-text").fill("Went out with the camera at dawn. Worth the cold hands.")
    page.get_by_label("Image", exact=True).set_input_files(an_image(tmp_path))
    page.get_by_label("Image description (alt text)").fill("An orange sky striped with blue at dawn")
    page.locator("#compose").get_by_role("button", name="Post").click()
    page.locator("article.status", has_text="Worth the cold hands").wait_for()
    ada.post("Morning! Three wrens at the feeder and a heron on the roof. #birds")
    page.goto("/home")
    after_jobs(page, "article.status", "three wrens")
    after_jobs(page, "article.status", "thousands of them")
    page.locator("article.status", has_text="thousands of them").get_by_role(
        "button", name=re.compile("Favourite")).click()
    page.locator("article.status [aria-pressed=true].fav").first.wait_for()
    page.goto("/home")
    page.locator("#compose-text").fill("Anyone else out for the murmuration tonight?")
    page.locator("#compose-text").dispatch_event("input")
    page.set_viewport_size({"width": 1280, "height": 1400})
    screenshot(page, "readme-home")


def test_new_posts_arrive_without_a_reload(new_page, person):
    friend = person(unique("chatty"))
    page = new_page()
    listener = unique("listener")
    sign_up_in_browser(page, listener)
    page.goto(f"/@{friend.username}")
    page.get_by_role("button", name="Follow", exact=True).click()
    page.get_by_role("button", name="Unfollow").wait_for()
    page.goto("/home")
    page.evaluate("window.__same_page = true")
    friend.post("Fresh news from the feeder")
    arrived = page.locator("article.status", has_text="Fresh news from the feeder")
    for _ in range(80):  # the poller also asks when the tab regains focus; fan-out is a background job
        page.evaluate("window.dispatchEvent(new Event('focus'))")
        page.wait_for_timeout(500)
        if arrived.count():
            break
    assert arrived.count() == 1
    # A notification lights the badge in the navigation without a reload too.
    friend.act(f"/@{listener}/follow")
    badge = page.locator("#unread-count:not([hidden])")
    for _ in range(80):
        page.evaluate("window.dispatchEvent(new Event('focus'))")
        page.wait_for_timeout(500)
        if badge.count():
            break
    assert badge.inner_text() == "1"
    assert page.evaluate("window.__same_page === true")


def test_the_phone_menu_reaches_every_page(new_page, person):
    page = new_page(PHONE)
    sign_up_in_browser(page, unique("pocket"))
    assert page.get_by_role("link", name="Settings").count() == 0 or not page.get_by_role(
        "link", name="Settings").first.is_visible()
    page.get_by_role("link", name="More").click()
    page.get_by_role("heading", name="Menu").wait_for()
    screenshot(page, "menu-phone")
    page.locator("main").get_by_role("link", name="Settings").click()
    page.wait_for_url("**/settings/profile")
    page.get_by_role("link", name="More").click()
    page.locator("main").get_by_role("button", name="Sign out").click()
    page.get_by_role("link", name="Create an account").wait_for()  # the front page, signed out


def test_scrolling_down_loads_older_posts(new_page, person):
    prolific = person(unique("prolific"))
    for n in range(25):
        prolific.post(f"Tally number {n:02d}")
    page = new_page()
    page.goto(f"/@{prolific.username}")
    assert page.locator("article.status").count() == 20
    assert page.locator("article.status", has_text="Tally number 00").count() == 0
    page.locator(".load-more").scroll_into_view_if_needed()
    page.locator("article.status", has_text="Tally number 00").wait_for()
    assert page.locator("article.status").count() == 25
    assert "max_id" not in page.url  # loaded in place


def test_everything_works_without_javascript(new_page, person):
    friend = person(unique("plain"))
    friend.post("No scripts needed")
    page = new_page(javascript=False)
    sign_up_in_browser(page, unique("nojs"))
    page.locator("#compose-text").fill("Posted with a plain form")
    page.locator("#compose").get_by_role("button", name="Post").click()
    page.locator("article.status", has_text="Posted with a plain form").wait_for()
    page.goto(f"/@{friend.username}")
    page.get_by_role("button", name="Follow", exact=True).click()
    page.get_by_role("button", name="Unfollow").wait_for()
    theirs = page.locator("article.status", has_text="No scripts needed")
    theirs.get_by_role("button", name=re.compile("Favourite")).click()
    page.locator("article.status", has_text="No scripts needed").locator("button.fav[aria-pressed=true]").wait_for()
    assert f"/@{friend.username}" in page.url  # back where the form was sent from
    page.locator("article.status", has_text="No scripts needed").get_by_role("link", name=re.compile("Reply")).click()
    page.locator("#compose-text").press("End")
    page.locator("#compose-text").type("replying without JS")
    page.locator("#compose").get_by_role("button", name="Reply").click()
    page.locator("article.status", has_text="replying without JS").wait_for()
    page.goto("/local?max_id=1")  # paging is a plain link too
    assert page.locator("h1", has_text="Local").count() == 1
