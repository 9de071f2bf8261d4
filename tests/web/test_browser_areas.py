"""Browser checks of the settings and admin areas, notifications, search, hashtags, bookmarks and lists:
no serious accessibility problem on any of them (axe-core), screenshots for reviewers, and the journeys
that only a browser shows (a list built from search results, a password reset used to sign in)."""

from __future__ import annotations

import itertools
import re

import pytest

from tests.web.conftest import PASSWORD, PHONE, check_accessibility, screenshot, sign_in_admin, sign_in_in_browser

pytestmark = [pytest.mark.browser, pytest.mark.slow]

_names = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}b{next(_names)}"


def sign_in_as(page, username: str) -> None:
    page.goto("/auth/sign_in")
    sign_in_in_browser(page, username)
    page.wait_for_url("**/home")


def test_signed_in_pages_have_no_serious_accessibility_problems(new_page, person):
    friend = person(unique("friend"))
    friend.post(f"Listen to the #dawnchorus, says {friend.username}")
    me = unique("reader")
    reader = person(me)
    friend.post(f"@{me} a word in private", visibility="direct")  # for the direct messages page
    reader.act(f"/@{friend.username}/follow")
    reader.act(f"/@{friend.username}/mute")
    person(unique("fan")).act(f"/@{me}/follow")
    page = new_page(bypass_csp=True)
    sign_in_as(page, me)
    page.goto("/lists")
    page.get_by_label("Title").fill("Birders")
    page.get_by_role("button", name="Create list").click()
    page.get_by_role("heading", name="Edit list").wait_for()
    list_path = re.search(r"/lists/\d+", page.url).group(0)
    pages = {"notifications": "/notifications", "search": f"/search?q={friend.username}",
             "tag": "/tags/dawnchorus", "bookmarks": "/bookmarks", "favourites": "/favourites",
             "conversations": "/conversations", "lists": "/lists",
             "list-edit": f"{list_path}/edit", "list": list_path, "settings-profile": "/settings/profile",
             "settings-account": "/settings/account", "settings-privacy": "/settings/privacy",
             "settings-mutes": "/settings/mutes", "settings-blocks": "/settings/blocks",
             "settings-apps": "/settings/applications"}
    page.goto("/notifications")
    for _ in range(20):  # the follow's notification is written by the server's background worker
        if page.get_by_text("followed you").count():
            break
        page.wait_for_timeout(250)
        page.reload()
    for name, path in pages.items():
        page.goto(path)
        check_accessibility(page, path)
        if name in ("notifications", "search", "settings-profile", "list-edit", "settings-mutes", "conversations"):
            screenshot(page, name)


def test_admin_pages_have_no_serious_accessibility_problems(new_page, person, live):
    person(unique("member"))
    page = new_page(bypass_csp=True)
    sign_in_admin(page, live)
    for name, path in (("admin-overview", "/admin"), ("admin-settings", "/admin/settings"),
                       ("admin-accounts-all", "/admin/accounts")):
        page.goto(path)
        check_accessibility(page, path)
        screenshot(page, name)
    phone = new_page(PHONE)
    sign_in_admin(phone, live)
    phone.goto("/admin/accounts")
    screenshot(phone, "admin-accounts-phone")
    phone.goto("/settings/profile")
    screenshot(phone, "settings-profile-phone")


def test_a_list_is_built_from_followed_accounts_and_shows_their_posts(new_page, person):
    friend = person(unique("pal"))
    friend.post("Posted for my list readers")
    me = unique("curator")
    person(me).act(f"/@{friend.username}/follow")
    page = new_page()
    sign_in_as(page, me)
    page.goto("/lists")
    page.get_by_label("Title").fill("Close friends")
    page.get_by_role("button", name="Create list").click()
    page.get_by_label("Add people you follow").fill(friend.username)
    page.get_by_role("button", name="Find").click()
    page.get_by_role("button", name=f"Add @{friend.username} to the list").click()
    page.get_by_role("button", name=f"Remove @{friend.username} from the list").wait_for()
    page.get_by_role("link", name="View the list").click()
    page.locator("article.status", has_text="Posted for my list readers").wait_for()
    screenshot(page, "list-timeline")


def test_an_admin_resets_a_password_and_the_person_signs_in_with_it(new_page, person, live):
    forgetful = unique("forgetful")
    person(forgetful)
    admin = new_page()
    sign_in_admin(admin, live)
    admin.goto(f"/admin/accounts?q={forgetful}")
    admin.get_by_role("link", name=f"Reset password @{forgetful}").click()
    admin.get_by_role("button", name="Reset the password").click()
    new_password = admin.get_by_label("New password").input_value()
    assert len(new_password) >= 16 and new_password != PASSWORD
    screenshot(admin, "admin-password-reset")
    them = new_page()
    them.goto("/auth/sign_in")
    them.get_by_label("Username or email").fill(forgetful)
    them.get_by_label("Password").fill(new_password)
    them.get_by_role("button", name="Sign in").click()
    them.get_by_role("heading", name="Home").wait_for()
