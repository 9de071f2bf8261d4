"""The authorisation matrix: every endpoint that reads or changes an object, asked by everyone who
should and should not get it, each cell its own test.

One world is built once per module through the API (alice's public, private and direct posts, her
media, list, notification, marker, bookmark and conversation; carol's follow request from eve; mallory
blocked by both), and each test starts from a copy of its database. A cell names who asks and what status
Mastodon answers. Whenever the answer is a refusal, or a 200 that must leave the owner's things out,
the body must not carry the object's ID or text, and the owner must find the object as it was.
"""

from __future__ import annotations

import io
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from PIL import Image

from starling.accounts import repository as accounts_repository
from starling.accounts import service as accounts_service
from starling.accounts import tokens
from starling.config import Settings
from starling.infra import jobs
from tests import postgres as backend

# ---- the cases: who asks -------------------------------------------------------------------------

OWNER = "owner"                      # control: the owner with a full token
LOGGED_OUT = "logged_out"            # (a) no token, on the owner's private post
LOGGED_OUT_PUBLIC = "logged_out_public"  # (a') no token, on the owner's public post
OTHER = "other"                      # (b) another ordinary account (bob)
BLOCKED = "blocked"                  # (c) an account the owner blocked (mallory)
NON_FOLLOWER = "non_follower_private"    # (d) eve, on a private post
NOT_MENTIONED = "non_mentioned_direct"   # (e) eve, on a direct post mentioning carol
FOLLOWER = "follower_private"        # carol follows alice: sees the private post, may not boost it
MENTIONED = "mentioned_direct"       # carol is mentioned: sees the direct post, may not boost it
NO_SCOPE = "no_scope"                # (f) the owner, with a token holding every scope but the needed ones
REVOKED = "revoked"                  # (g) the owner's revoked token
GARBAGE = "garbage"                  # (h) a token nobody issued
APP_TOKEN = "app_token"              # a client-credentials token: an app, no user


@dataclass(frozen=True)
class Hidden:
    """A 200 that must not show the named secrets (and must leave the owner's object as it was)."""

    secrets: tuple[str, ...] = ()


def hidden(*secrets: str) -> Hidden:
    return Hidden(secrets)


HIDDEN = Hidden()  # hide the row's own secrets


@dataclass(frozen=True)
class Row:
    name: str
    method: str
    path: str
    scopes: tuple[str, ...]
    kind: str
    expect: dict[str, int | Hidden]
    body: dict | None = None


# Which of alice's posts each case acts on.
STATUS_FOR = {OWNER: "P", LOGGED_OUT: "Q", LOGGED_OUT_PUBLIC: "P", OTHER: "P", BLOCKED: "P",
              NON_FOLLOWER: "Q", NOT_MENTIONED: "D", FOLLOWER: "Q", MENTIONED: "D", NO_SCOPE: "P",
              REVOKED: "P", GARBAGE: "P", APP_TOKEN: "Q"}

TOKEN_FAILURES = {NO_SCOPE: 403, REVOKED: 401, GARBAGE: 401}


def status_read(**overrides) -> dict:
    """Reading a status: open to the logged out, limited to who may see it (404 otherwise, never 403)."""
    return {OWNER: 200, LOGGED_OUT: 404, LOGGED_OUT_PUBLIC: 200, OTHER: 200, BLOCKED: 404,
            NON_FOLLOWER: 404, NOT_MENTIONED: 404, FOLLOWER: 200, MENTIONED: 200, APP_TOKEN: 404,
            **TOKEN_FAILURES, **overrides}


def status_write(**overrides) -> dict:
    """Acting on a status: needs a user; what one may not see is 404; the owner-only ones say so below."""
    return {OWNER: 200, LOGGED_OUT: 401, LOGGED_OUT_PUBLIC: 401, OTHER: 404, BLOCKED: 404,
            NON_FOLLOWER: 404, NOT_MENTIONED: 404, FOLLOWER: 404, MENTIONED: 404, APP_TOKEN: 422,
            **TOKEN_FAILURES, **overrides}


def user_only(**overrides) -> dict:
    """An object only its owner reaches: 404 for anyone else, whoever they are."""
    return {OWNER: 200, LOGGED_OUT: 401, OTHER: 404, BLOCKED: 404, APP_TOKEN: 422, **TOKEN_FAILURES,
            **overrides}


def open_read(**overrides) -> dict:
    """Public reads about an account: anyone, but a token, if sent, must be valid and hold the scope."""
    return {OWNER: 200, LOGGED_OUT: 200, OTHER: 200, BLOCKED: 200, APP_TOKEN: 200, **TOKEN_FAILURES,
            **overrides}


SEEN = {OTHER: 200, FOLLOWER: 200, MENTIONED: 200}
S = "/api/v1/statuses/{status}"

ROWS = [
    # statuses
    Row("status_show", "GET", S, ("read:statuses",), "status", status_read()),
    Row("status_context", "GET", S + "/context", ("read:statuses",), "status", status_read()),
    Row("status_history", "GET", S + "/history", ("read:statuses",), "status", status_read()),
    Row("status_favourited_by", "GET", S + "/favourited_by", ("read:accounts",), "status", status_read()),
    Row("status_reblogged_by", "GET", S + "/reblogged_by", ("read:accounts",), "status", status_read()),
    # Mastodon authorises the source like showing the status (sources_controller: authorize :show?).
    Row("status_source", "GET", S + "/source", ("read:statuses",), "status",
        status_write(**{OTHER: 200, FOLLOWER: 200, MENTIONED: 200})),
    Row("status_edit", "PUT", S, ("write:statuses",), "status", status_write(),
        body={"status": "rewritten by someone else"}),
    Row("status_delete", "DELETE", S, ("write:statuses",), "status", status_write()),
    # Seeing a private or direct post is not enough to boost it: 403, as Mastodon's reblog? policy.
    Row("status_reblog", "POST", S + "/reblog", ("write:statuses",), "status",
        status_write(other=200, follower_private=403, mentioned_direct=403)),
    Row("status_unreblog", "POST", S + "/unreblog", ("write:statuses",), "status", status_write(**SEEN)),
    Row("status_favourite", "POST", S + "/favourite", ("write:favourites",), "status", status_write(**SEEN)),
    Row("status_unfavourite", "POST", S + "/unfavourite", ("write:favourites",), "status",
        status_write(**SEEN)),
    Row("status_bookmark", "POST", S + "/bookmark", ("write:bookmarks",), "status", status_write(**SEEN)),
    Row("status_unbookmark", "POST", S + "/unbookmark", ("write:bookmarks",), "status", status_write(**SEEN)),
    # Someone else's post, when visible, is Mastodon's 422 "Someone else's post cannot be pinned".
    Row("status_pin", "POST", S + "/pin", ("write:accounts",), "status",
        status_write(other=422, follower_private=422, mentioned_direct=422)),
    Row("status_unpin", "POST", S + "/unpin", ("write:accounts",), "status", status_write(**SEEN)),
    # Muting a conversation is for those who took part in it (wrote in it or were mentioned).
    Row("status_mute", "POST", S + "/mute", ("write:mutes",), "status",
        status_write(other=422, follower_private=422, mentioned_direct=200)),
    Row("status_unmute", "POST", S + "/unmute", ("write:mutes",), "status", status_write(**SEEN)),
    # media
    Row("media_show", "GET", "/api/v1/media/{media}", ("write:media",), "media", user_only()),
    Row("media_update", "PUT", "/api/v1/media/{media}", ("write:media",), "media", user_only(),
        body={"description": "described by someone else"}),
    Row("media_delete", "DELETE", "/api/v1/media/{media}", ("write:media",), "media", user_only()),
    # accounts
    Row("account_show", "GET", "/api/v1/accounts/{alice}", ("read:accounts",), "account", open_read()),
    Row("account_lookup", "GET", "/api/v1/accounts/lookup?acct=alice", ("read:accounts",), "account",
        open_read()),
    Row("account_batch", "GET", "/api/v1/accounts?id[]={alice}", ("read:accounts",), "account", open_read()),
    Row("account_statuses", "GET", "/api/v1/accounts/{alice}/statuses", ("read:statuses",), "account",
        open_read(logged_out=hidden("Q", "D"), other=hidden("Q", "D"), blocked=hidden("P", "Q", "D"),
                  non_follower_private=hidden("Q", "D"), follower_private=200,
                  app_token=hidden("Q", "D"))),
    Row("account_followers", "GET", "/api/v1/accounts/{alice}/followers", ("read:accounts",), "account",
        open_read(blocked=hidden("carol"))),
    Row("account_following", "GET", "/api/v1/accounts/{alice}/following", ("read:accounts",), "account",
        open_read(blocked=hidden("bob"))),
    Row("account_follow", "POST", "/api/v1/accounts/{alice}/follow", ("write:follows",), "account",
        {OWNER: 404, LOGGED_OUT: 401, OTHER: 200, BLOCKED: 403, APP_TOKEN: 422, **TOKEN_FAILURES}),
    Row("account_unfollow", "POST", "/api/v1/accounts/{alice}/unfollow", ("write:follows",), "account",
        {LOGGED_OUT: 401, OTHER: 200, BLOCKED: 200, APP_TOKEN: 422, **TOKEN_FAILURES}),
    Row("account_block", "POST", "/api/v1/accounts/{alice}/block", ("write:blocks",), "account",
        {LOGGED_OUT: 401, OTHER: 200, BLOCKED: 200, APP_TOKEN: 422, **TOKEN_FAILURES}),
    Row("account_unblock", "POST", "/api/v1/accounts/{alice}/unblock", ("write:blocks",), "account",
        {LOGGED_OUT: 401, OTHER: 200, BLOCKED: 200, APP_TOKEN: 422, **TOKEN_FAILURES}),
    Row("account_mute", "POST", "/api/v1/accounts/{alice}/mute", ("write:mutes",), "account",
        {LOGGED_OUT: 401, OTHER: 200, BLOCKED: 200, APP_TOKEN: 422, **TOKEN_FAILURES}),
    Row("account_unmute", "POST", "/api/v1/accounts/{alice}/unmute", ("write:mutes",), "account",
        {LOGGED_OUT: 401, OTHER: 200, BLOCKED: 200, APP_TOKEN: 422, **TOKEN_FAILURES}),
    Row("relationships", "GET", "/api/v1/accounts/relationships?id[]={alice}", ("read:follows",), "account",
        {OWNER: 200, LOGGED_OUT: 401, OTHER: 200, BLOCKED: 200, APP_TOKEN: 422, **TOKEN_FAILURES}),
    Row("familiar_followers", "GET", "/api/v1/accounts/familiar_followers?id[]={alice}", ("read:follows",),
        "account", {OWNER: 200, LOGGED_OUT: 401, OTHER: 200, BLOCKED: 200, APP_TOKEN: 422, **TOKEN_FAILURES}),
    Row("account_note", "POST", "/api/v1/accounts/{alice}/note", ("write:accounts",), "account",
        {LOGGED_OUT: 401, OTHER: 200, BLOCKED: 200, APP_TOKEN: 422, **TOKEN_FAILURES}, body={"comment": "hm"}),
    Row("remove_from_followers", "POST", "/api/v1/accounts/{alice}/remove_from_followers", ("write:follows",),
        "account", {LOGGED_OUT: 401, OTHER: 200, BLOCKED: 200, APP_TOKEN: 422, **TOKEN_FAILURES}),
    Row("blocks_index", "GET", "/api/v1/blocks", ("read:blocks",), "account",
        user_only(other=hidden("mallory"), blocked=hidden("mallory"))),
    Row("mutes_index", "GET", "/api/v1/mutes", ("read:mutes",), "account", user_only(other=200, blocked=200)),
    # one's own account
    Row("verify_credentials", "GET", "/api/v1/accounts/verify_credentials", ("read:accounts", "profile"),
        "self", user_only(other=HIDDEN, blocked=HIDDEN)),
    Row("update_credentials", "PATCH", "/api/v1/accounts/update_credentials", ("write:accounts",), "self",
        user_only(other=HIDDEN, blocked=HIDDEN), body={"display_name": "renamed"}),
    Row("preferences", "GET", "/api/v1/preferences", ("read:accounts",), "self",
        user_only(other=200, blocked=200)),
    # lists
    Row("list_show", "GET", "/api/v1/lists/{list}", ("read:lists",), "list", user_only()),
    Row("list_update", "PUT", "/api/v1/lists/{list}", ("write:lists",), "list", user_only(),
        body={"title": "renamed by someone else"}),
    Row("list_delete", "DELETE", "/api/v1/lists/{list}", ("write:lists",), "list", user_only()),
    Row("list_accounts", "GET", "/api/v1/lists/{list}/accounts", ("read:lists",), "list", user_only()),
    Row("list_add_accounts", "POST", "/api/v1/lists/{list}/accounts", ("write:lists",), "list", user_only(),
        body={"account_ids": ["{eve}"]}),
    Row("list_remove_accounts", "DELETE", "/api/v1/lists/{list}/accounts", ("write:lists",), "list",
        user_only(), body={"account_ids": ["{bob}"]}),
    Row("list_timeline", "GET", "/api/v1/timelines/list/{list}", ("read:lists",), "list", user_only()),
    Row("lists_index", "GET", "/api/v1/lists", ("read:lists",), "list",
        user_only(other=HIDDEN, blocked=HIDDEN)),
    Row("lists_with_account", "GET", "/api/v1/accounts/{bob}/lists", ("read:lists",), "list",
        user_only(other=HIDDEN, blocked=HIDDEN)),
    # notifications and markers
    Row("notification_show", "GET", "/api/v1/notifications/{notification}", ("read:notifications",),
        "notification", user_only()),
    Row("notification_dismiss", "POST", "/api/v1/notifications/{notification}/dismiss",
        ("write:notifications",), "notification", user_only()),
    Row("notification_dismiss_legacy", "POST", "/api/v1/notifications/dismiss", ("write:notifications",),
        "notification", user_only(), body={"id": "{notification}"}),
    Row("notifications_index", "GET", "/api/v1/notifications", ("read:notifications",), "notification",
        user_only(other=HIDDEN, blocked=HIDDEN)),
    Row("notifications_unread_count", "GET", "/api/v1/notifications/unread_count", ("read:notifications",),
        "notification", user_only(other=HIDDEN, blocked=HIDDEN)),
    Row("notifications_clear", "POST", "/api/v1/notifications/clear", ("write:notifications",),
        "notification", user_only(other=HIDDEN, blocked=HIDDEN)),
    Row("markers_show", "GET", "/api/v1/markers?timeline[]=home", ("read:statuses",), "marker",
        user_only(other=HIDDEN, blocked=HIDDEN)),
    Row("markers_save", "POST", "/api/v1/markers", ("write:statuses",), "marker",
        user_only(other=HIDDEN, blocked=HIDDEN), body={"home": {"last_read_id": "{P}"}}),
    # follow requests (the owner is carol, who is locked; eve asked to follow her)
    Row("follow_request_authorize", "POST", "/api/v1/follow_requests/{eve}/authorize", ("write:follows",),
        "follow_request", user_only()),
    Row("follow_request_reject", "POST", "/api/v1/follow_requests/{eve}/reject", ("write:follows",),
        "follow_request", user_only()),
    Row("follow_requests_index", "GET", "/api/v1/follow_requests", ("read:follows",), "follow_request",
        user_only(other=HIDDEN, blocked=HIDDEN)),
    # direct conversations (alice's with carol, from the direct post D)
    Row("conversation_read", "POST", "/api/v1/conversations/{conversation}/read", ("write:conversations",),
        "conversation", user_only()),
    Row("conversation_remove", "DELETE", "/api/v1/conversations/{conversation}", ("write:conversations",),
        "conversation", user_only()),
    Row("conversations_index", "GET", "/api/v1/conversations", ("read:statuses",), "conversation",
        user_only(other=HIDDEN, blocked=HIDDEN)),
    # what one keeps for oneself, and one's home
    Row("bookmarks_index", "GET", "/api/v1/bookmarks", ("read:bookmarks",), "marks",
        user_only(other=HIDDEN, blocked=HIDDEN)),
    Row("favourites_index", "GET", "/api/v1/favourites", ("read:favourites",), "marks",
        user_only(other=HIDDEN, blocked=HIDDEN)),
    Row("home_timeline", "GET", "/api/v1/timelines/home", ("read:statuses",), "marks",
        user_only(other=hidden("P", "Q", "D"), blocked=hidden("P", "Q", "D"))),
]

# Whose object each kind is, and which of the world's secrets a refusal must not show.
OWNER_OF = {"follow_request": "carol"}
SECRETS_OF = {"media": ("media",), "list": ("list",), "notification": ("notification",),
              "marker": ("marker",), "follow_request": ("eve",), "self": ("alice",), "marks": ("P",),
              "conversation": ("conversation", "D"),
              "account": ()}
ACTOR_OF = {OWNER: None, OTHER: "bob", BLOCKED: "mallory", NON_FOLLOWER: "eve", NOT_MENTIONED: "eve",
            FOLLOWER: "carol", MENTIONED: "carol"}


# ---- the world -----------------------------------------------------------------------------------

@dataclass
class World:
    data_dir: Path
    tokens: dict[str, str] = field(default_factory=dict)       # username -> full token
    revoked: dict[str, str] = field(default_factory=dict)      # username -> revoked token
    account_ids: dict[str, int] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)       # placeholders for paths and bodies
    secrets: dict[str, tuple[str, ...]] = field(default_factory=dict)
    app_token: str = ""

    def headers(self, username: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[username]}"}


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (40, 90, 200)).save(buffer, "PNG")
    return buffer.getvalue()


async def _ok(response: httpx.Response) -> dict | list:
    assert response.status_code == 200, response.text
    return response.json()


async def _build(ctx, http: httpx.AsyncClient, world: World) -> None:
    async with ctx.db.write() as session:
        for name in ("alice", "bob", "carol", "eve", "mallory"):
            account = await accounts_service.create_account(
                session, ctx.settings, username=name, email=f"{name}@testserver",
                password="correct horse battery")
            account.locked = name == "carol"
            world.account_ids[name] = account.id
            world.tokens[name] = await accounts_service.issue_token(
                session, account_id=account.id, scopes="read write follow push")
        for name in ("alice", "carol"):
            world.revoked[name] = await accounts_service.issue_token(
                session, account_id=world.account_ids[name], scopes="read write follow push")
        world.app_token = await accounts_service.issue_token(session, account_id=None,
                                                             scopes="read write follow push")
    async with ctx.db.write() as session:
        for name in ("alice", "carol"):
            token = await accounts_repository.token_by_hash(session, tokens.digest(world.revoked[name]))
            await accounts_repository.revoke_token(session, token.id, token.created_at)
    ids = world.account_ids
    alice, carol = world.headers("alice"), world.headers("carol")

    async def post(path: str, who: dict, **body):
        return await _ok(await http.post(path, headers=who, json=body))

    await post(f"/api/v1/accounts/{ids['alice']}/follow", carol)        # carol follows alice
    await post(f"/api/v1/accounts/{ids['bob']}/follow", alice)
    await post(f"/api/v1/accounts/{ids['eve']}/follow", alice)
    await post(f"/api/v1/accounts/{ids['carol']}/follow", world.headers("eve"))  # a request: carol is locked
    await post(f"/api/v1/accounts/{ids['mallory']}/block", alice)
    await post(f"/api/v1/accounts/{ids['mallory']}/block", carol)
    for key, visibility, text in (("P", "public", "zqpublicpost everyone may read this"),
                                  ("Q", "private", "zqprivatepost only for followers"),
                                  ("D", "direct", "@carol zqdirectpost between us")):
        status = await post("/api/v1/statuses", alice, status=text, visibility=visibility)
        world.values[key] = status["id"]
        world.secrets[key] = (status["id"], f"zq{visibility}post")
    media = await _ok(await http.post("/api/v2/media", headers=alice, data={"description": "zqmediasecret"},
                                      files={"file": ("x.png", _png(), "image/png")}))
    world.values["media"] = media["id"]
    world.secrets["media"] = (media["id"], "zqmediasecret")
    lst = await post("/api/v1/lists", alice, title="zqlistsecret")
    await post(f"/api/v1/lists/{lst['id']}/accounts", alice, account_ids=[str(ids["bob"])])
    world.values["list"] = lst["id"]
    world.secrets["list"] = (lst["id"], "zqlistsecret")
    await jobs.drain(ctx.db)
    notes = await _ok(await http.get("/api/v1/notifications", headers=alice))
    follow_note = next(n for n in notes if n["type"] == "follow")
    world.values["notification"] = follow_note["id"]
    world.secrets["notification"] = (follow_note["id"],)
    conversations = await _ok(await http.get("/api/v1/conversations", headers=alice))
    world.values["conversation"] = conversations[0]["id"]
    world.secrets["conversation"] = (conversations[0]["id"],)
    marker = "424242424242424242"
    await post("/api/v1/markers", alice, home={"last_read_id": marker})
    world.secrets["marker"] = (marker,)
    await post(f"/api/v1/statuses/{world.values['P']}/bookmark", alice)
    await post(f"/api/v1/statuses/{world.values['P']}/favourite", alice)
    for name, account_id in ids.items():
        world.values[name] = str(account_id)
        world.secrets[name] = (str(account_id),)


def _settings(data: Path) -> Settings:
    return backend.settings_for(data)


@pytest.fixture(scope="module")
async def world(tmp_path_factory, template_db) -> World:
    from starling.app import create_app

    data = tmp_path_factory.mktemp("authz-world") / "data"
    data.mkdir()
    if not backend.ON_POSTGRES:
        shutil.copy(template_db, data / "starling.sqlite3")
    app = create_app(_settings(data), run_worker=False)
    built = World(data_dir=data)
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            await _build(app.state.ctx, http, built)
    finally:
        await app.state.ctx.db.dispose()
    return built


@pytest.fixture(scope="module")
async def app(tmp_path_factory, world):
    """One app for the whole matrix (building an app's routes costs more than most cells)."""
    from starling.app import create_app

    data = tmp_path_factory.mktemp("authz-cell") / "data"
    backend.copy_instance(world.data_dir, data)
    application = create_app(_settings(data), run_worker=False)
    yield application
    await application.state.ctx.db.dispose()


@pytest.fixture
async def fresh_world(app, world) -> World:
    """The world as built: the engines let go of the database, whose files are put back."""
    await app.state.ctx.db.dispose()
    backend.copy_instance(world.data_dir, app.state.ctx.settings.data_dir)
    return world


# ---- one cell ------------------------------------------------------------------------------------

def lacking(wanted: tuple[str, ...]) -> str:
    """Every non-admin scope that grants none of `wanted`."""
    return " ".join(sorted(s for s in tokens.ALL_SCOPES if not s.startswith("admin")
                           and not any(tokens.grants({s}, w) for w in wanted)))


async def _headers(case: str, row: Row, world: World, ctx) -> dict[str, str]:
    owner = OWNER_OF.get(row.kind, "alice")
    if case in (LOGGED_OUT, LOGGED_OUT_PUBLIC):
        return {}
    if case == GARBAGE:
        return {"Authorization": "Bearer " + tokens.new_secret()}
    if case == REVOKED:
        return {"Authorization": f"Bearer {world.revoked[owner]}"}
    if case == APP_TOKEN:
        return {"Authorization": f"Bearer {world.app_token}"}
    if case == NO_SCOPE:
        async with ctx.db.write() as session:
            raw = await accounts_service.issue_token(session, account_id=world.account_ids[owner],
                                                     scopes=lacking(row.scopes))
        return {"Authorization": f"Bearer {raw}"}
    return world.headers(ACTOR_OF[case] or owner)


def _fill(value, values: dict[str, str]):
    if isinstance(value, str):
        return value.format(**values)
    if isinstance(value, dict):
        return {k: _fill(v, values) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, values) for v in value]
    return value


async def _snapshot(http: httpx.AsyncClient, row: Row, world: World, v: dict[str, str]) -> object:
    """What the owner sees of the object, to prove a refused request changed nothing."""
    alice = world.headers("alice")

    async def get(path: str, headers=alice):
        response = await http.get(path, headers=headers)
        return response.status_code, response.json()

    if row.kind == "status":
        code, body = await get(f"/api/v1/statuses/{v['status']}")
        return code, body.get("content"), body.get("edited_at"), body.get("favourites_count"), \
            body.get("reblogs_count"), body.get("pinned")
    if row.kind == "media":
        return await get(f"/api/v1/media/{v['media']}")
    if row.kind == "list":
        return await get(f"/api/v1/lists/{v['list']}"), await get(f"/api/v1/lists/{v['list']}/accounts")
    if row.kind == "notification":
        return await get(f"/api/v1/notifications/{v['notification']}")
    if row.kind == "marker":
        return await get("/api/v1/markers?timeline[]=home")
    if row.kind == "follow_request":
        return await get("/api/v1/follow_requests", world.headers("carol"))
    if row.kind == "conversation":
        code, body = await get("/api/v1/conversations")
        return code, [(c["id"], c["unread"], c["last_status"]["id"]) for c in body]
    if row.kind == "marks":
        return await get("/api/v1/bookmarks"), await get("/api/v1/favourites")
    code, body = await get("/api/v1/accounts/verify_credentials")
    return code, body["display_name"], body["followers_count"], body["following_count"]


CELLS = [pytest.param(row, case, id=f"{row.name}-{case}") for row in ROWS for case in row.expect]


@pytest.mark.parametrize(("row", "case"), CELLS)
async def test_cell(client, ctx, fresh_world, row: Row, case: str):
    world = fresh_world
    expected = row.expect[case]
    values = dict(world.values)
    secret_names: tuple[str, ...] = SECRETS_OF.get(row.kind, ())
    if row.kind == "status":
        values["status"] = world.values[STATUS_FOR[case]]
        secret_names = (STATUS_FOR[case],)
    if isinstance(expected, Hidden) and expected.secrets:
        secret_names = expected.secrets
    headers = await _headers(case, row, world, ctx)
    refused = isinstance(expected, Hidden) or expected >= 400
    before = await _snapshot(client, row, world, values) if refused else None

    response = await client.request(row.method, _fill(row.path, values), headers=headers,
                                    json=_fill(row.body, values) if row.body is not None else None)

    wanted = 200 if isinstance(expected, Hidden) else expected
    assert response.status_code == wanted, response.text
    if response.status_code >= 400:
        assert set(response.json()) >= {"error"}, response.text
    if refused:
        for name in secret_names:
            for secret in world.secrets[name]:
                assert secret not in response.text, f"{name} leaked: {response.text}"
        assert await _snapshot(client, row, world, values) == before


def test_the_matrix_covers_every_case_the_issue_names():
    named = {LOGGED_OUT, OTHER, BLOCKED, NON_FOLLOWER, NOT_MENTIONED, NO_SCOPE, REVOKED, GARBAGE}
    assert all(named <= set(r.expect) for r in ROWS if r.kind == "status")
    assert all({LOGGED_OUT, OTHER, BLOCKED, NO_SCOPE, REVOKED, GARBAGE} <= set(r.expect) for r in ROWS)
    assert len({r.name for r in ROWS}) == len(ROWS)
