"""The browser rig: Debian's chromium driven by Playwright against a real `starling serve`.

Never downloads a browser. Without /usr/bin/chromium the browser tests are skipped locally and FAIL in
CI (CI=true): `make test` installs it (`make browser`). axe-core comes from the npm registry through
`make axe` into test-output/vendor/ (not committed)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.live import REPO, LiveServer, live_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOTS = REPO / "test-output" / "screenshots"
AXE = REPO / "test-output" / "vendor" / "axe.min.js"
PASSWORD = "correct horse battery staple"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


def _missing(what: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{what} is missing; CI must run the browser tests (make browser)")
    pytest.skip(f"{what} is missing (make browser)")


# Module scope, not session: Playwright's sync API keeps its event loop marked as running in this thread
# while it is open, and the async tests that follow a browser module need asyncio to themselves.
@pytest.fixture(scope="module")
def chromium():
    if not CHROMIUM.exists():
        _missing("/usr/bin/chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def live(tmp_path_factory) -> Iterator[LiveServer]:
    # The journeys sign dozens of people up within the hour and have them post dozens of times at once:
    # the new-account limits and the automatic proof of work (docs/safety.md, tested in
    # tests/test_safety_signup*.py) are off here.
    safety_off = {"STARLING_NEWCOMER_HOURS": "0", "STARLING_POW_AUTO_SIGN_UPS_PER_HOUR": "0"}
    with live_server(tmp_path_factory.mktemp("web-live"), extra_env=safety_off) as server:
        yield server


@pytest.fixture
def new_page(chromium, live):
    """`new_page(viewport=PHONE, bypass_csp=False, color_scheme="dark")`: a fresh browser context (no
    cookies) and a page."""
    contexts = []

    def make(viewport: dict | None = None, *, bypass_csp: bool = False, color_scheme: str = "light",
             javascript: bool = True):
        context = chromium.new_context(viewport=viewport or DESKTOP, base_url=live.base_url, bypass_csp=bypass_csp,
                                       reduced_motion="reduce", color_scheme=color_scheme,
                                       java_script_enabled=javascript)
        context.set_default_timeout(30_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def screenshot(page, name: str) -> Path:
    """Save the page under test-output/screenshots/ for reviewers."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path


def check_accessibility(page, label: str) -> None:
    """Inject axe-core and fail on any serious or critical violation (the page needs bypass_csp)."""
    if not AXE.exists():
        _missing(str(AXE))
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ['violations']});
        return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
            .map(v => ({id: v.id, impact: v.impact, help: v.help,
                        nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
    }""")
    assert result == [], f"{label}: {result}"


class Person:
    """Someone using the site through plain HTTP (cookies and CSRF like a browser), to set the scene."""

    def __init__(self, live: LiveServer, username: str):
        self.username = username
        self.http = httpx.Client(base_url=live.base_url, follow_redirects=False, timeout=30)

    def csrf(self, path: str = "/auth/sign_in") -> str:
        return CSRF.search(self.http.get(path).text).group(1)

    def sign_up(self) -> Person:
        response = self.http.post("/auth/sign_up", data={
            "csrf_token": self.csrf("/auth/sign_up"), "username": self.username,
            "email": f"{self.username}@example.com", "password": PASSWORD, "agreement": "1"})
        assert response.status_code == 303, response.text
        return self

    def post(self, text: str, **extra: str) -> None:
        response = self.http.post("/statuses", data={"csrf_token": self.csrf("/home"), "status": text, **extra})
        assert response.status_code == 303, response.text

    def profile(self, display_name: str, note: str = "", avatar: bytes | None = None) -> None:
        files = {"avatar": ("avatar.png", avatar, "image/png")} if avatar else None
        response = self.http.post("/settings/profile", files=files, data={
            "csrf_token": self.csrf("/settings/profile"), "display_name": display_name, "note": note})
        assert response.status_code == 303, response.text

    def act(self, path: str) -> httpx.Response:
        return self.http.post(path, data={"csrf_token": self.csrf("/home")})


@pytest.fixture
def person(live):
    people = []

    def make(username: str) -> Person:
        someone = Person(live, username).sign_up()
        people.append(someone)
        return someone

    yield make
    for someone in people:
        someone.http.close()


def sign_up_in_browser(page, username: str) -> None:
    page.goto("/auth/sign_up")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Email").fill(f"{username}@example.com")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("I agree").check()
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url("**/home")


def sign_in_in_browser(page, username: str) -> None:
    page.get_by_label("Username or email").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def sign_in_admin(page, live) -> None:
    """Sign in as the instance's first admin (its password as the live server printed it)."""
    page.goto("/auth/sign_in")
    page.get_by_label("Username or email").fill("admin")
    page.get_by_label("Password").fill(live.admin_password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Home").wait_for()
