"""Seed data for third-party test suites run against a live Starling.

`seed_mastodon_py` recreates, on the configured database, what Mastodon.py's own test suite sets up on
a Mastodon development server (its tests/setup.sql and README): four accounts, one application and
three access tokens whose secrets are fixed strings. Those secrets are public, so this is for
throw-away test instances only.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from starling import clock, ids
from starling.accounts import repository, tokens
from starling.accounts import service as accounts
from starling.accounts.models import AccessToken, Account, Application, InstanceSetting
from starling.accounts.passwords import hash_password
from starling.config import Settings, get_settings
from starling.context import AppContext

MASTODON_PY_CLIENT_ID = "__MASTODON_PY_TEST_CLIENT_ID"
MASTODON_PY_CLIENT_SECRET = "__MASTODON_PY_TEST_CLIENT_SECRET"
MASTODON_PY_PASSWORD = "5fc638e0e53eafd9c4145b6bb852667d"
MASTODON_PY_APP_SCOPES = "read write follow push admin:read admin:write"


@dataclass(frozen=True)
class SeedAccount:
    username: str
    email: str
    role: str = "user"
    locale: str = "en"
    locked: bool = False
    password: str | None = None  # random when None


MASTODON_PY_ACCOUNTS = (
    SeedAccount("admin", "admin@localhost", role="admin"),
    SeedAccount("admin2", "zerocool@example.com", role="admin", locale="de", password=MASTODON_PY_PASSWORD),
    SeedAccount("mastodonpy_test", "mastodonpy_test@localhost", locale="ja", locked=True),
    SeedAccount("mastodonpy_test_2", "mastodonpy_test_2@localhost", locale="ja",
                password=MASTODON_PY_PASSWORD),
)

# token secret -> (owner username, scopes)
MASTODON_PY_TOKENS = {
    "__MASTODON_PY_TEST_ACCESS_TOKEN": ("mastodonpy_test", "read write follow push"),
    "__MASTODON_PY_TEST_ACCESS_TOKEN_3": ("mastodonpy_test_2", "read write follow push"),
    "__MASTODON_PY_TEST_ACCESS_TOKEN_2": ("admin", "read write follow push admin:read admin:write"),
}


async def _ensure_account(session: AsyncSession, settings: Settings, seed: SeedAccount) -> Account:
    account = await repository.by_username(session, seed.username)
    if account is None:
        account = await accounts.create_account(
            session, settings, username=seed.username, email=seed.email,
            password=seed.password or secrets.token_urlsafe(15), role=seed.role, locale=seed.locale)
    elif seed.password is not None:
        account.password_hash = hash_password(seed.password)
    account.role = seed.role
    account.locale = seed.locale
    account.locked = seed.locked
    account.discoverable = True
    account.indexable = True
    account.default_privacy = "public"
    account.default_sensitive = False
    account.suspended_at = None
    account.approved = True
    account.confirmed_at = account.confirmed_at or clock.utcnow_naive()
    return account


async def _ensure_application(session: AsyncSession, owner: Account) -> Application:
    app = await session.scalar(select(Application).where(Application.client_id == MASTODON_PY_CLIENT_ID))
    if app is None:
        app = Application(id=ids.new_id(), client_id=MASTODON_PY_CLIENT_ID, name="Mastodon.py test suite",
                          redirect_uris="urn:ietf:wg:oauth:2.0:oob", scopes=MASTODON_PY_APP_SCOPES,
                          client_secret_hash=tokens.digest(MASTODON_PY_CLIENT_SECRET))
        session.add(app)
    app.name = "Mastodon.py test suite"
    app.redirect_uris = "urn:ietf:wg:oauth:2.0:oob"
    app.scopes = MASTODON_PY_APP_SCOPES
    app.client_secret_hash = tokens.digest(MASTODON_PY_CLIENT_SECRET)
    app.owner_account_id = owner.id
    await session.flush()
    return app


async def _ensure_token(session: AsyncSession, secret: str, *, account: Account, scopes: str,
                        application: Application) -> None:
    digest = tokens.digest(secret)
    token = await session.scalar(select(AccessToken).where(AccessToken.token_hash == digest))
    if token is None:
        token = AccessToken(id=ids.new_id(), token_hash=digest)
        session.add(token)
    token.account_id = account.id
    token.application_id = application.id
    token.scopes = scopes
    token.revoked_at = None
    token.expires_at = None


async def _set_instance_option(session: AsyncSession, key: str, value: object) -> None:
    row = await session.get(InstanceSetting, key)
    if row is None:
        session.add(InstanceSetting(key=key, value=value))
    else:
        row.value = value


async def seed_into(session: AsyncSession, settings: Settings) -> dict[str, Account]:
    """Create or refresh the Mastodon.py fixtures in `session`; returns the accounts by username."""
    seeded = {seed.username: await _ensure_account(session, settings, seed) for seed in MASTODON_PY_ACCOUNTS}
    app = await _ensure_application(session, seeded["mastodonpy_test"])
    now = clock.utcnow_naive()
    for secret, (username, scopes) in MASTODON_PY_TOKENS.items():
        await _ensure_token(session, secret, account=seeded[username], scopes=scopes, application=app)
        # Mastodon only fans out to people who signed in recently; keep the same shape here.
        seeded[username].current_sign_in_at = now
    await _set_instance_option(session, "registrations", "open")
    await session.flush()
    return seeded


async def seed_mastodon_py(settings: Settings | None = None) -> str:
    """Seed the configured database with what Mastodon.py's test suite expects. Safe to run twice."""
    ctx = AppContext.build(settings or get_settings())
    try:
        async with ctx.db.write() as session:
            seeded = await seed_into(session, ctx.settings)
        return f"seeded {len(seeded)} accounts, 1 application, {len(MASTODON_PY_TOKENS)} tokens"
    finally:
        await ctx.close()
