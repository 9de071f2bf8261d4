"""What can act for a person: the applications they authorised (their live tokens, grouped by app) and
the browsers they are signed in with; and taking that away."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from starling import clock
from starling.accounts import repository
from starling.accounts.models import WebSession
from starling.errors import NotFound


@dataclass(frozen=True)
class Authorization:
    """One application's access to an account: every scope its live tokens hold, when access was first
    and last granted, and when it was last used. `application_id` None gathers tokens issued without an
    app (from the command line or the test rig)."""

    application_id: int | None
    name: str
    website: str | None
    scopes: list[str]
    tokens: int
    first_granted_at: datetime
    last_granted_at: datetime
    last_used_at: datetime | None


async def authorizations(session: AsyncSession, account_id: int) -> list[Authorization]:
    """The account's authorised applications, most recently granted first."""
    grouped: dict[int | None, list] = {}
    for token, app in await repository.live_tokens_with_apps(session, account_id, clock.utcnow_naive()):
        grouped.setdefault(token.application_id, []).append((token, app))
    out = []
    for application_id, rows in grouped.items():
        app = rows[0][1]
        tokens = [t for t, _ in rows]
        scopes = dict.fromkeys(scope for t in tokens for scope in t.scopes.split())
        used = [t.last_used_at for t in tokens if t.last_used_at is not None]
        out.append(Authorization(
            application_id=application_id, name=app.name if app is not None else "Tokens issued without an app",
            website=app.website if app is not None else None, scopes=list(scopes), tokens=len(tokens),
            first_granted_at=min(t.created_at for t in tokens), last_granted_at=max(t.created_at for t in tokens),
            last_used_at=max(used) if used else None))
    out.sort(key=lambda a: a.last_granted_at, reverse=True)
    return out


async def revoke_authorization(session: AsyncSession, account_id: int, application_id: int | None) -> int:
    """Revoke every live token the account gave one application; NotFound when it holds none."""
    revoked = await repository.revoke_app_tokens(session, account_id, application_id, clock.utcnow_naive())
    if not revoked:
        raise NotFound()
    return revoked


async def browser_sessions(session: AsyncSession, account_id: int) -> list[WebSession]:
    """The browsers signed in to the account, most recently used first."""
    return await repository.live_web_sessions(session, account_id, clock.utcnow_naive())


async def end_browser_session(session: AsyncSession, account_id: int, session_id: int) -> None:
    """Sign one of the account's browsers out; NotFound for a session that is not the account's."""
    if not await repository.delete_web_session(session, account_id, session_id):
        raise NotFound()
