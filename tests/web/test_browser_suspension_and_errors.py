"""Browser checks of the pages the gaps work added: the suspension page (reached by signing in while
suspended, appealed by keyboard) and the web app's error pages, with no serious accessibility problem."""

from __future__ import annotations

import itertools

import pytest

from tests.web.conftest import check_accessibility, screenshot, sign_in_admin, sign_in_in_browser

pytestmark = [pytest.mark.browser, pytest.mark.slow]

_names = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}g{next(_names)}"


def test_the_suspension_page_is_accessible_and_appealed_by_keyboard(new_page, person, live):
    suspended = person(unique("held"))
    admin = new_page()
    sign_in_admin(admin, live)
    admin.goto(f"/admin/accounts?q={suspended.username}")
    admin.get_by_role("button", name=f"Suspend @{suspended.username}").click()
    admin.get_by_role("button", name=f"Unsuspend @{suspended.username}").wait_for()

    page = new_page(bypass_csp=True)
    page.goto("/auth/sign_in")
    sign_in_in_browser(page, suspended.username)
    page.get_by_role("heading", name="Your account is suspended").wait_for()
    assert page.url.endswith("/suspended")
    check_accessibility(page, "/suspended")
    box = page.get_by_label("Tell the moderators why the suspension is wrong")
    box.focus()
    page.keyboard.type("Please look again.")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent").strip() == "Send appeal"
    page.keyboard.press("Enter")
    page.get_by_text("Your appeal is waiting for a moderator").wait_for()
    check_accessibility(page, "/suspended (appealed)")
    page.goto("/explore")
    assert page.url.endswith("/suspended")


def test_error_pages_are_accessible(new_page, live):
    page = new_page(bypass_csp=True)
    response = page.goto("/no-such-page")
    assert response.status == 404
    page.get_by_role("heading", name="Not found").wait_for()
    check_accessibility(page, "/no-such-page")
    screenshot(page, "not-found")
    page.get_by_role("link", name="Go to the start page").click()
    page.wait_for_url(f"{live.base_url}/")
