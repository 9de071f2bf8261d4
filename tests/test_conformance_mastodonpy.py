"""Starling driven from outside by a real third-party client (Mastodon.py) over a real socket, the way
an app on someone's phone would: register an app, sign in (password grant and the browser
authorization-code flow through our HTML forms), post, reply, boost, favourite, bookmark, upload an
image, follow a locked account, read timelines page by page, notifications, search, block and mute.

The server runs its embedded job worker, so fan-out happens in the background: tests poll briefly
(`eventually`) for a post to reach a timeline instead of sleeping blindly."""

from __future__ import annotations

import base64
import hashlib
import io
import secrets
import time
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlencode, urljoin, urlparse

import pytest
import requests
from mastodon import Mastodon, MastodonAPIError, MastodonIllegalArgumentError, MastodonNotFoundError

from tests.live import live_server, run_cli

pytestmark = pytest.mark.slow

OOB = "urn:ietf:wg:oauth:2.0:oob"
SCOPES = ["read", "write", "follow", "push"]
PASSWORD = "a long enough password"


def eventually(check, timeout: float = 5.0, interval: float = 0.1):
    """Call `check` until it returns something truthy (returned) or `timeout` passes (AssertionError)."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s (last value {value!r})")
        time.sleep(interval)


# -- a small HTML form reader, enough to drive the sign-in and consent pages like a browser ----------

@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str]
    buttons: list[tuple[str, str]]  # (name, value) of submit buttons
    input_names: list[str]


class _FormParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms: list[Form] = []
        self.text: list[str] = []
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if tag == "form":
            self.forms.append(Form(a.get("action", ""), a.get("method", "get").lower(), {}, [], []))
        elif not self.forms:
            return
        elif tag == "input":
            kind = a.get("type", "text").lower()
            name = a.get("name")
            if not name:
                return
            if kind == "submit":
                self.forms[-1].buttons.append((name, a.get("value", "")))
            elif kind in ("checkbox", "radio"):
                if "checked" in a:
                    self.forms[-1].fields[name] = a.get("value", "on")
                self.forms[-1].input_names.append(name)
            else:
                self.forms[-1].fields[name] = a.get("value", "")
                self.forms[-1].input_names.append(name)
        elif tag == "button" and a.get("name") and a.get("type", "submit").lower() == "submit":
            self.forms[-1].buttons.append((a["name"], a.get("value", "")))
        elif tag == "textarea" and a.get("name"):
            self._textarea = a["name"]
            self.forms[-1].fields[a["name"]] = ""

    def handle_endtag(self, tag):
        if tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        self.text.append(data)
        if self._textarea and self.forms:
            self.forms[-1].fields[self._textarea] += data


def read_forms(html: str) -> tuple[list[Form], str]:
    parser = _FormParser()
    parser.feed(html)
    return parser.forms, " ".join(parser.text)


def submit(http: requests.Session, page: requests.Response, form: Form, values: dict[str, str],
           button: tuple[str, str] | None = None) -> requests.Response:
    data = {**form.fields, **values}
    if button:
        data[button[0]] = button[1]
    target = urljoin(page.url, form.action or page.url)
    if form.method == "post":
        return http.post(target, data=data, allow_redirects=False, timeout=10)
    return http.get(target, params=data, allow_redirects=False, timeout=10)


def follow_redirects_until_code(http: requests.Session, response: requests.Response, redirect_uri: str):
    """Follow our server's redirects; stop where the code shows up (the client's redirect_uri, or an
    out-of-band page whose URL carries it). Returns (query, None) with the code, or (None, page)."""
    for _ in range(10):
        if not response.is_redirect:
            return None, response
        location = urljoin(response.url, response.headers["Location"])
        query = parse_qs(urlparse(location).query)
        assert "error" not in query, f"authorization refused: {location}"
        if "code" in query or (redirect_uri != OOB and location.startswith(redirect_uri)):
            return query, None
        response = http.get(location, allow_redirects=False, timeout=10)
    raise AssertionError("too many redirects")


def browser_authorize(base_url: str, authorize_url: str, login: str, password: str,
                      redirect_uri: str = OOB) -> str:
    """Sign in through our HTML pages and approve the app, as a person in a browser would; returns
    the authorization code (from the redirect, or from the page when the redirect URI is out-of-band)."""
    http = requests.Session()
    page = http.get(authorize_url, allow_redirects=False, timeout=10)
    query, page = follow_redirects_until_code(http, page, redirect_uri)
    for _step in range(4):
        if query is not None:
            return query["code"][0]
        assert page.status_code == 200, (page.status_code, page.text[:500])
        forms, text = read_forms(page.text)
        login_form = next((f for f in forms if "password" in f.input_names), None)
        if login_form is not None:
            name_field = next(n for n in login_form.input_names
                              if n in ("username", "email", "login", "user[email]", "user[login]"))
            password_field = next(n for n in login_form.input_names if "password" in n)
            response = submit(http, page, login_form, {name_field: login, password_field: password})
        else:
            code = code_on_page(page.text)
            if code:
                return code
            consent = next(f for f in forms if f.method == "post")
            approve = next((b for b in consent.buttons if b[1].lower() in ("approve", "authorize", "allow",
                                                                           "1", "true", "yes")),
                           consent.buttons[0] if consent.buttons else None)
            response = submit(http, page, consent, {}, approve)
        query, page = follow_redirects_until_code(http, response, redirect_uri)
    raise AssertionError(f"no authorization code after signing in and approving:\n{page.text[:1000]}")


def code_on_page(html: str) -> str | None:
    """The out-of-band page shows the code; Mastodon puts it in an input or a <code> element."""
    forms, _ = read_forms(html)
    for form in forms:
        for name, value in form.fields.items():
            if "code" in name and len(value) >= 20:
                return value
    marker = html.find("<code")
    if marker >= 0:
        start = html.find(">", marker) + 1
        value = html[start:html.find("</code>", start)].strip()
        if len(value) >= 20:
            return value
    return None


# -- the world: one live server, one registered app, a few people signed in ---------------------

@dataclass
class Person:
    username: str
    email: str
    api: Mastodon
    id: str


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with live_server(tmp_path_factory.mktemp("conformance")) as running:
        yield running


@pytest.fixture(scope="module")
def app_credentials(server):
    return Mastodon.create_app("Starling conformance", scopes=SCOPES, redirect_uris=OOB,
                               website="https://starling.invalid", api_base_url=server.base_url)


def client(server, app_credentials, token: str | None = None) -> Mastodon:
    client_id, client_secret = app_credentials
    return Mastodon(client_id=client_id, client_secret=client_secret, access_token=token,
                    api_base_url=server.base_url, request_timeout=20)


@pytest.fixture(scope="module")
def people(server, app_credentials) -> dict[str, Person]:
    """alice (made by the operator's CLI, signs in with the password grant), bob, carol (locked) and
    eve (all three registered through the API with an app token)."""
    out: dict[str, Person] = {}
    run_cli(["user", "create", "alice", "--email", "alice@starling.test", "--password", PASSWORD], server.env)
    api = client(server, app_credentials)
    api.log_in(username="alice@starling.test", password=PASSWORD, scopes=SCOPES, allow_http=True)
    out["alice"] = Person("alice", "alice@starling.test", api, api.me().id)
    for name in ("bob", "carol", "eve"):
        email = f"{name}@starling.test"
        token = client(server, app_credentials).create_account(name, PASSWORD, email, agreement=True,
                                                               scopes=SCOPES)
        assert token, f"registering {name} gave no token"
        api = client(server, app_credentials, token)
        out[name] = Person(name, email, api, api.me().id)
    out["carol"].api.account_update_credentials(locked=True)
    return out


def in_home(api: Mastodon, status_id) -> bool:
    return any(s.id == status_id for s in api.timeline_home(limit=40))


def notification_types(api: Mastodon, from_username: str) -> set[str]:
    return {n.type for n in api.notifications(limit=40) if n.account.username == from_username}


# -- sign-in ---------------------------------------------------------------------------------

def test_app_registration_and_password_grant(server, app_credentials, people):
    client_id, client_secret = app_credentials
    assert client_id and client_secret
    app = client(server, app_credentials, people["alice"].api.access_token).app_verify_credentials()
    assert app.name == "Starling conformance"
    me = people["alice"].api.account_verify_credentials()
    assert me.username == "alice" and me.acct == "alice"
    with pytest.raises(MastodonIllegalArgumentError):
        client(server, app_credentials).log_in(username="alice@starling.test", password="wrong password!",
                                               scopes=SCOPES, allow_http=True)


def test_registration_through_the_api(people):
    me = people["bob"].api.account_verify_credentials()
    assert me.username == "bob"
    assert people["carol"].api.me().locked is True


def test_authorization_code_flow_through_the_html_forms(server, app_credentials, people):
    api = client(server, app_credentials)
    url = api.auth_request_url(redirect_uris=OOB, scopes=SCOPES, allow_http=True)
    code = browser_authorize(server.base_url, url, "bob@starling.test", PASSWORD)
    token = api.log_in(code=code, redirect_uri=OOB, scopes=SCOPES, allow_http=True)
    assert client(server, app_credentials, token).me().username == "bob"
    # A code is good once.
    with pytest.raises(MastodonIllegalArgumentError):
        client(server, app_credentials).log_in(code=code, redirect_uri=OOB, scopes=SCOPES, allow_http=True)


def test_authorization_code_flow_with_pkce_and_a_redirect(server):
    redirect = "http://127.0.0.1:9/callback"
    client_id, client_secret = Mastodon.create_app("Starling PKCE", scopes=["read"], redirect_uris=redirect,
                                                   api_base_url=server.base_url)
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    state = secrets.token_urlsafe(12)
    url = server.url("/oauth/authorize?" + urlencode({
        "client_id": client_id, "response_type": "code", "redirect_uri": redirect, "scope": "read",
        "state": state, "code_challenge": challenge, "code_challenge_method": "S256"}))
    code = browser_authorize(server.base_url, url, "carol@starling.test", PASSWORD, redirect_uri=redirect)
    token_url = server.url("/oauth/token")
    exchange = {"grant_type": "authorization_code", "code": code, "client_id": client_id,
                "client_secret": client_secret, "redirect_uri": redirect}
    wrong = requests.post(token_url, data={**exchange, "code_verifier": "x" * 50}, timeout=10)
    assert wrong.status_code in (400, 401), wrong.text
    answer = requests.post(token_url, data={**exchange, "code_verifier": verifier}, timeout=10)
    assert answer.status_code == 200, answer.text
    token = answer.json()["access_token"]
    me = Mastodon(access_token=token, api_base_url=server.base_url).me()
    assert me.username == "carol"


# -- posting and interacting -------------------------------------------------------------------

def test_post_reply_boost_favourite_bookmark(people):
    alice, bob = people["alice"].api, people["bob"].api
    original = alice.status_post("Morning, all. The kettle is on. #starlingtest")
    assert original.account.username == "alice" and original.visibility == "public"
    assert [t.name for t in original.tags] == ["starlingtest"]

    reply = bob.status_reply(original, "Put one on for me too")
    assert reply.in_reply_to_id == original.id
    assert "@alice" in reply.content
    context = alice.status_context(original)
    assert [s.id for s in context.descendants] == [reply.id]

    boost = bob.status_reblog(original)
    assert boost.reblog.id == original.id
    faved = bob.status_favourite(original)
    assert faved.favourited is True
    marked = bob.status_bookmark(original)
    assert marked.bookmarked is True
    assert [s.id for s in bob.bookmarks()] == [original.id]

    seen = alice.status(original.id)
    assert (seen.replies_count, seen.reblogs_count, seen.favourites_count) == (1, 1, 1)
    assert [a.username for a in alice.status_reblogged_by(original)] == ["bob"]
    assert [a.username for a in alice.status_favourited_by(original)] == ["bob"]

    eventually(lambda: notification_types(alice, "bob") >= {"mention", "reblog", "favourite"})

    unmarked = bob.status_unbookmark(original)
    assert unmarked.bookmarked is False
    bob.status_unreblog(original)
    assert alice.status(original.id).reblogs_count == 0

    bob.status_delete(reply)
    with pytest.raises(MastodonNotFoundError):
        alice.status(reply.id)


def test_empty_and_oversized_posts_are_refused(people):
    with pytest.raises(MastodonAPIError) as empty:
        people["alice"].api.status_post("")
    assert empty.value.args[1] == 422
    with pytest.raises(MastodonAPIError) as long:
        people["alice"].api.status_post("a" * 5001)
    assert long.value.args[1] == 422


def test_image_upload_with_alt_text(server, people):
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 120, 40)).save(buffer, format="PNG")
    alice = people["alice"].api
    media = alice.media_post(buffer.getvalue(), mime_type="image/png", description="An orange rectangle")
    assert media.type == "image" and media.description == "An orange rectangle"
    posted = alice.status_post("A very orange rectangle", media_ids=[media])
    attachment = posted.media_attachments[0]
    assert attachment.id == media.id and attachment.description == "An orange rectangle"
    fetched = requests.get(attachment.url, timeout=10)
    assert fetched.status_code == 200 and fetched.headers["content-type"].startswith("image/")
    assert attachment.meta.original.width == 64


def test_follow_a_locked_account_and_accept(people):
    alice, carol = people["alice"].api, people["carol"].api
    relationship = alice.account_follow(people["carol"].id)
    assert relationship.requested is True and relationship.following is False
    waiting = carol.follow_requests()
    assert [a.username for a in waiting] == ["alice"]
    carol.follow_request_authorize(people["alice"].id)
    assert carol.follow_requests() == []
    assert alice.account_relationships(people["carol"].id)[0].following is True
    private = carol.status_post("Only for people I let in", visibility="private")
    eventually(lambda: in_home(alice, private.id))
    with pytest.raises(MastodonNotFoundError):
        people["eve"].api.status(private.id)


# -- reading ----------------------------------------------------------------------------------

def test_timelines_and_pagination(people):
    alice, bob = people["alice"].api, people["bob"].api
    bob.account_follow(people["alice"].id)
    posted = [alice.status_post(f"Page test number {i} #pagination{i % 2}") for i in range(7)]
    newest_first = [s.id for s in reversed(posted)]
    eventually(lambda: in_home(bob, posted[-1].id))

    page = bob.timeline_home(limit=3)
    assert [s.id for s in page] == newest_first[:3]
    older = bob.fetch_next(page)
    assert [s.id for s in older] == newest_first[3:6]
    newer = bob.fetch_previous(older)
    assert [s.id for s in newer] == newest_first[:3]

    public = bob.timeline_public(limit=40)
    assert set(newest_first) <= {s.id for s in public}
    local = bob.timeline_local(limit=40)
    assert set(newest_first) <= {s.id for s in local}

    tagged = bob.timeline_hashtag("pagination0", limit=2)
    assert [s.id for s in tagged] == [posted[6].id, posted[4].id]
    rest = bob.fetch_next(tagged)
    assert [s.id for s in rest] == [posted[2].id, posted[0].id]

    mine = bob.account_statuses(people["alice"].id, limit=4)
    assert [s.id for s in mine][:4] == newest_first[:4]
    remaining = bob.fetch_remaining(mine)
    assert newest_first == [s.id for s in remaining if s.id in set(newest_first)]


def test_notifications_list_and_dismiss(people):
    bob, eve = people["bob"].api, people["eve"].api
    eve.account_follow(people["bob"].id)
    eve.status_post("@bob have you seen the river today?")
    eventually(lambda: notification_types(bob, "eve") >= {"follow", "mention"})
    notes = [n for n in bob.notifications() if n.account.username == "eve"]
    only_mentions = bob.notifications(types=["mention"])
    assert {n.type for n in only_mentions} == {"mention"}
    bob.notifications_dismiss(notes[0].id)
    assert notes[0].id not in {n.id for n in bob.notifications()}


def test_search(people):
    alice = people["alice"].api
    alice.status_post("Searching for the perfect sourdough crumb #breadsearch")
    found = eventually(lambda: alice.search_v2("breadsearch", result_type="hashtags").hashtags)
    assert found[0].name == "breadsearch"
    accounts = alice.search_v2("carol", result_type="accounts").accounts
    assert "carol" in [a.username for a in accounts]
    statuses = eventually(lambda: alice.search_v2("sourdough", result_type="statuses").statuses)
    assert "sourdough" in statuses[0].content


def test_block_and_mute(people):
    bob, eve = people["bob"].api, people["eve"].api
    bob.account_follow(people["eve"].id)
    chatter = eve.status_post("Loud opinions about spoons")
    eventually(lambda: in_home(bob, chatter.id))

    muted = bob.account_mute(people["eve"].id)
    assert muted.muting is True
    assert not in_home(bob, chatter.id)
    assert [a.username for a in bob.mutes()] == ["eve"]
    bob.account_unmute(people["eve"].id)
    assert bob.mutes() == []

    blocked = bob.account_block(people["eve"].id)
    assert blocked.blocking is True and blocked.following is False
    assert [a.username for a in bob.blocks()] == ["eve"]
    bobs = bob.status_post("Nobody blocked can read this")
    with pytest.raises(MastodonNotFoundError):
        eve.status(bobs.id)
    assert bobs.id not in {s.id for s in eve.account_statuses(people["bob"].id)}
    with pytest.raises(MastodonAPIError):
        eve.account_follow(people["bob"].id)
    bob.account_unblock(people["eve"].id)
    assert bob.account_relationships(people["eve"].id)[0].blocking is False


def test_a_post_is_readable_as_soon_as_it_is_acknowledged(server, people):
    """A client that posts and at once opens the post (or its thread) must find it: the server may only
    answer 200 once the post is committed. Plain HTTP on two open connections (an app's compose
    screen and its timeline), since Mastodon.py's own parsing leaves the server time to catch up."""
    def session_for(person: Person) -> requests.Session:
        http = requests.Session()
        http.headers["Authorization"] = f"Bearer {person.api.access_token}"
        http.get(server.url("/api/v1/accounts/verify_credentials"), timeout=10).raise_for_status()
        return http

    writer, reader = session_for(people["alice"]), session_for(people["bob"])
    misses = []
    for i in range(300):
        posted = writer.post(server.url("/api/v1/statuses"), json={"status": f"Read-your-writes {i}"},
                             timeout=10)
        assert posted.status_code == 200, posted.text
        status_id = posted.json()["id"]
        if reader.get(server.url(f"/api/v1/statuses/{status_id}"), timeout=10).status_code != 200:
            misses.append(status_id)
    assert not misses, f"{len(misses)} of 300 acknowledged posts were not there yet when read back"
