"""Typed dependencies every route uses: the instance context, sessions, and who is asking."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import make_transient_to_detached

from starling import clock
from starling.accounts import repository as accounts_repository
from starling.accounts import tokens
from starling.accounts.models import Account
from starling.context import AppContext
from starling.errors import Forbidden, Unauthorized, Unprocessable
from starling.infra.direct import Reader


async def get_ctx(request: Request) -> AppContext:
    return request.app.state.ctx


Ctx = Annotated[AppContext, Depends(get_ctx)]


async def _read_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.ctx.db.read() as session:
        yield session


async def _write_session(request: Request) -> AsyncIterator[AsyncSession]:
    # The request is the unit of work: one commit when the route returns, a rollback if it raises.
    # Both aliases below use scope="function" so the commit happens BEFORE the response is sent:
    # a client must never hear "done" for a write that is not yet durable.
    async with request.app.state.ctx.db.write() as session:
        yield session


ReadSession = Annotated[AsyncSession, Depends(_read_session, scope="function")]
WriteSession = Annotated[AsyncSession, Depends(_write_session, scope="function")]


@dataclass(frozen=True)
class Auth:
    """A verified bearer token: the account it acts for (None for client_credentials) and its scopes.
    `account` is built on first use from the row read with the token (detached, every column loaded);
    routes that need only the id use `account_id`."""

    token_id: int
    application_id: int | None
    account_id: int | None
    scopes: frozenset[str]
    # The token's row as the driver gave it and the plan that reads it: converted only if `account` is used.
    token_row: tuple[Any, Any] | None = field(default=None, repr=False, compare=False)

    def has(self, scope: str) -> bool:
        return tokens.grants(self.scopes, scope)

    @cached_property
    def account(self) -> Account | None:
        if self.account_id is None or self.token_row is None:
            return None
        plan, row = self.token_row
        values = accounts_repository.LIVE_TOKEN.process(plan, row)[_ACCOUNT_START:]
        account = Account(**dict(zip(_ACCOUNT_KEYS, values, strict=True)))
        make_transient_to_detached(account)
        return account


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    return request.query_params.get("access_token") or None


_ACCOUNT_KEYS = tuple(column.key for column in accounts_repository.ACCOUNT_COLUMNS)
_ACCOUNT_START = len(accounts_repository.LIVE_TOKEN.keys) - len(_ACCOUNT_KEYS)


# What Mastodon answers, with 403, to a valid token whose account may not act.
PENDING_APPROVAL = "Your login is currently pending approval"
DISABLED = "Your login is currently disabled"


async def read_token(reader: Reader, raw: str) -> tuple[Auth | None, str | None]:
    """The live token behind `raw`, with its account, or why it is refused: (None, None) when it is
    unknown, revoked or expired; (None, reason) when its account may not act (awaiting approval,
    disabled, suspended). Read on every request: nothing here is cached."""
    query = accounts_repository.LIVE_TOKEN
    plan, rows = await reader.raw(query, {"digest": tokens.digest(raw), "now": clock.utcnow_naive()})
    if not rows:
        return None, None
    token_id, application_id, scopes, account_id, live, approved, active = rows[0][:_ACCOUNT_START]
    if not live:
        return None, None
    if account_id is not None and not approved:
        return None, PENDING_APPROVAL
    if account_id is not None and not active:
        return None, DISABLED
    return Auth(token_id=token_id, application_id=application_id, account_id=account_id,
                scopes=frozenset(scopes.split()), token_row=(plan, rows[0])), None


async def resolve_token(reader: Reader, raw: str) -> Auth | None:
    """The live token behind `raw` if its account may act, else None (see read_token)."""
    return (await read_token(reader, raw))[0]


async def _optional_auth(request: Request) -> Auth | None:
    cached = getattr(request.state, "auth", False)
    if cached is not False:
        return cached
    raw = bearer_token(request)
    auth = None
    if raw:
        async with request.app.state.ctx.db.reads() as reader:
            auth, refusal = await read_token(reader, raw)
        if refusal is not None:
            raise Forbidden(refusal)  # a known person who may not act now: apps show this, not a sign-in
        if auth is None:
            raise Unauthorized("The access token is invalid")
    request.state.auth = auth
    return auth


OptionalAuth = Annotated[Auth | None, Depends(_optional_auth)]


def scoped(*wanted: str, user: bool = True):
    """A dependency that demands a token holding any of `wanted` scopes (and, by default, a user)."""

    async def check(request: Request) -> Auth:
        # Resolves the token itself rather than through OptionalAuth: one dependency level less on
        # every authenticated route (FastAPI's resolution costs more than the call).
        auth = await _optional_auth(request)
        if auth is None:
            raise Unauthorized("The access token is invalid")
        if wanted and not any(auth.has(s) for s in wanted):
            raise Forbidden("This action is outside the authorized scopes")
        if user and auth.account_id is None:
            raise Unprocessable("This method requires an authenticated user")
        return auth

    return check


__all__ = ["Ctx", "ReadSession", "WriteSession", "Auth", "OptionalAuth", "scoped"]
