"""Account operations: creating accounts, issuing tokens, the first admin."""

from __future__ import annotations

import re
import secrets

from sqlalchemy.ext.asyncio import AsyncSession

from starling import clock, ids
from starling.accounts import repository, tokens
from starling.accounts.models import AccessToken, Account
from starling.accounts.passwords import MAX_LENGTH, MIN_LENGTH, hash_password
from starling.config import Settings
from starling.errors import Unprocessable

USERNAME = re.compile(r"^[A-Za-z0-9_]{1,30}$")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}$")
RESERVED = {"admin", "root", "support", "help", "about", "api", "oauth", "settings", "web", "www",
            "postmaster", "webmaster", "abuse", "security", "starling", "system", "instance"}


async def create_account(session: AsyncSession, settings: Settings, *, username: str, email: str | None,
                         password: str, role: str = "user", approved: bool = True, confirmed: bool = True,
                         reason: str = "", locale: str = "en", allow_reserved: bool = True) -> Account:
    """Validate and create a local account. Raises Unprocessable with Mastodon-style details."""
    details: dict[str, list[dict[str, str]]] = {}
    if not USERNAME.match(username or ""):
        details["username"] = [{"error": "ERR_INVALID", "description": "must contain only letters, numbers and underscores"}]
    elif not allow_reserved and username.lower() in RESERVED:
        details["username"] = [{"error": "ERR_RESERVED", "description": "is reserved"}]
    elif await repository.by_username(session, username):
        details["username"] = [{"error": "ERR_TAKEN", "description": "is already taken"}]
    if email is not None:
        if not EMAIL.match(email):
            details["email"] = [{"error": "ERR_INVALID", "description": "is invalid"}]
        elif await repository.by_email(session, email):
            details["email"] = [{"error": "ERR_TAKEN", "description": "is already taken"}]
    if not (MIN_LENGTH <= len(password or "") <= MAX_LENGTH):
        details["password"] = [{"error": "ERR_INVALID",
                                "description": f"must be between {MIN_LENGTH} and {MAX_LENGTH} characters"}]
    if details:
        first = next(iter(details))
        raise Unprocessable(f"Validation failed: {first.capitalize()} {details[first][0]['description']}",
                            details=details)
    now = clock.utcnow_naive()
    account = Account(id=ids.new_id(), username=username, username_lower=username.lower(), email=email,
                      password_hash=hash_password(password), role=role, approved=approved,
                      confirmed_at=now if confirmed else None, registration_reason=reason, locale=locale,
                      display_name="", note="", note_html="", fields=[], created_at=now)
    session.add(account)
    await session.flush()
    return account


async def issue_token(session: AsyncSession, *, account_id: int | None, scopes: str,
                      application_id: int | None = None) -> str:
    """Mint an access token; only its digest is stored. Returns the secret to hand to the client."""
    raw = tokens.new_secret()
    session.add(AccessToken(id=ids.new_id(), token_hash=tokens.digest(raw), account_id=account_id,
                            application_id=application_id, scopes=scopes))
    await session.flush()
    return raw


async def ensure_admin(session: AsyncSession, settings: Settings) -> str | None:
    """On first start, create `admin` with a random password and return it (None if an admin exists)."""
    if await repository.any_admin(session):
        return None
    password = secrets.token_urlsafe(15)
    await create_account(session, settings, username="admin", email=f"admin@{settings.domain.split(':')[0]}",
                         password=password, role="admin")
    return password


async def list_accounts(session: AsyncSession) -> list[Account]:
    """Every local account, oldest first."""
    return await repository.all_accounts(session)
