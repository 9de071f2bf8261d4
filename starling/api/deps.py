"""Typed dependencies every route uses: the instance context, sessions, and who is asking."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from starling import clock
from starling.accounts import tokens
from starling.accounts.models import AccessToken, Account
from starling.context import AppContext
from starling.errors import Forbidden, Unauthorized, Unprocessable


def get_ctx(request: Request) -> AppContext:
    return request.app.state.ctx


Ctx = Annotated[AppContext, Depends(get_ctx)]


async def _read_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.ctx.db.read() as session:
        yield session


async def _write_session(request: Request) -> AsyncIterator[AsyncSession]:
    # The request is the unit of work: one commit when the route returns, a rollback if it raises.
    async with request.app.state.ctx.db.write() as session:
        yield session


ReadSession = Annotated[AsyncSession, Depends(_read_session)]
WriteSession = Annotated[AsyncSession, Depends(_write_session)]


@dataclass(frozen=True)
class Auth:
    """A verified bearer token: the account it acts for (None for client_credentials) and its scopes."""

    token_id: int
    application_id: int | None
    account: Account | None
    scopes: frozenset[str]

    def has(self, scope: str) -> bool:
        return tokens.grants(self.scopes, scope)


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    return request.query_params.get("access_token") or None


async def resolve_token(session: AsyncSession, raw: str) -> Auth | None:
    """The live token behind `raw`, with its account; None if unknown, revoked, expired, or if its
    account may not act (suspended, unapproved)."""
    row = (await session.execute(
        select(AccessToken, Account)
        .outerjoin(Account, Account.id == AccessToken.account_id)
        .where(AccessToken.token_hash == tokens.digest(raw))
    )).first()
    if row is None:
        return None
    token, account = row
    now = clock.utcnow_naive()
    if token.revoked_at is not None or (token.expires_at is not None and token.expires_at <= now):
        return None
    if account is not None and not account.usable:
        return None
    return Auth(token_id=token.id, application_id=token.application_id, account=account,
                scopes=frozenset(token.scopes.split()))


async def _optional_auth(request: Request) -> Auth | None:
    cached = getattr(request.state, "auth", False)
    if cached is not False:
        return cached
    raw = bearer_token(request)
    auth = None
    if raw:
        async with request.app.state.ctx.db.read() as session:
            auth = await resolve_token(session, raw)
        if auth is None:
            raise Unauthorized("The access token is invalid")
    request.state.auth = auth
    return auth


OptionalAuth = Annotated[Auth | None, Depends(_optional_auth)]


def scoped(*wanted: str, user: bool = True):
    """A dependency that demands a token holding any of `wanted` scopes (and, by default, a user)."""

    async def check(auth: OptionalAuth) -> Auth:
        if auth is None:
            raise Unauthorized("The access token is invalid")
        if wanted and not any(auth.has(s) for s in wanted):
            raise Forbidden("This action is outside the authorized scopes")
        if user and auth.account is None:
            raise Unprocessable("This method requires an authenticated user")
        return auth

    return check


def viewer_of(auth: Auth | None) -> Account | None:
    return auth.account if auth is not None else None


async def touch_token(session: AsyncSession, auth: Auth) -> None:
    await session.execute(update(AccessToken).where(AccessToken.id == auth.token_id)
                          .values(last_used_at=clock.utcnow_naive()))


ReadAuth = Annotated[Auth, Depends(scoped("read"))]
__all__ = ["Ctx", "ReadSession", "WriteSession", "Auth", "OptionalAuth", "scoped", "viewer_of", "ReadAuth"]
