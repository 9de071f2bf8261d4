"""What an admin does to accounts (find, suspend, unsuspend, approve, reset a password) and the counts
the admin overview shows. Every function checks the actor's role itself: a face forgetting to is not
a hole."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from starling import clock
from starling.accounts import repository, sessions
from starling.accounts.models import Account
from starling.accounts.passwords import hash_password
from starling.accounts.service import ACTIVE_WINDOW, weekly_activity
from starling.errors import Forbidden, NotFound, Unprocessable
from starling.safety import moderation

ACCOUNT_FILTERS = repository.ADMIN_ACCOUNT_FILTERS
MAX_QUERY = 200
PAGE_SIZE = 50
NEW_PASSWORD_BYTES = 12  # 16 URL-safe characters: typed once by a person, then changed


def require_admin(actor: Account | None) -> Account:
    """The actor, if it is a usable admin; Forbidden otherwise."""
    if actor is None or not actor.is_admin or not actor.usable:
        raise Forbidden("This action is not allowed")
    return actor


async def _target(session: AsyncSession, actor: Account, account_id: int, verb: str) -> Account:
    require_admin(actor)
    account = await repository.by_id(session, account_id)
    if account is None:
        raise NotFound()
    if account.id == actor.id:
        raise Unprocessable(f"You cannot {verb} your own account")
    if account.is_admin:
        raise Unprocessable(f"You cannot {verb} another admin's account")
    return account


async def get_account(session: AsyncSession, actor: Account, account_id: int) -> Account:
    """One account, for an admin; NotFound when there is none."""
    require_admin(actor)
    account = await repository.by_id(session, account_id)
    if account is None:
        raise NotFound()
    return account


async def find_accounts(session: AsyncSession, actor: Account, *, query: str = "", status: str = "all",
                        max_id: int | None = None, limit: int = PAGE_SIZE) -> list[Account]:
    """A page of accounts for the admin list, newest first, matched on username, display name or email."""
    require_admin(actor)
    if status not in ACCOUNT_FILTERS:
        raise Unprocessable(f"Validation failed: status must be one of {', '.join(ACCOUNT_FILTERS)}")
    if len(query) > MAX_QUERY:
        raise Unprocessable(f"Validation failed: the search is too long (maximum is {MAX_QUERY} characters)")
    return await repository.admin_accounts_page(session, query=query, status=status, max_id=max_id,
                                                limit=max(1, min(limit, 200)))


async def suspend(session: AsyncSession, actor: Account, account_id: int) -> Account:
    """Suspend an account: it can no longer sign in or act, its tokens are revoked and its browsers signed
    out, and its posts and profile disappear from every view. Suspending a suspended account changes nothing."""
    account = await _target(session, actor, account_id, "suspend")
    if account.suspended_at is None:
        now = clock.utcnow_naive()
        account.suspended_at = now
        await repository.revoke_account_tokens(session, account.id, now)
        await sessions.end_all(session, account.id)
        moderation.record(session, actor.id, "account.suspend", account_id=account.id)
        # The notice tells the account why it cannot act, and is what it appeals from its suspension page.
        await moderation.send_notice(session, account.id, "suspend")
        await session.flush()
    return account


async def unsuspend(session: AsyncSession, actor: Account, account_id: int) -> Account:
    """Lift a suspension (revoked tokens stay revoked: the person signs in again)."""
    account = await _target(session, actor, account_id, "unsuspend")
    account.suspended_at = None
    moderation.record(session, actor.id, "account.unsuspend", account_id=account.id)
    await session.flush()
    return account


async def approve(session: AsyncSession, actor: Account, account_id: int) -> Account:
    """Let an account that signed up under approval in."""
    account = await _target(session, actor, account_id, "approve")
    account.approved = True
    moderation.record(session, actor.id, "account.approve", account_id=account.id)
    await session.flush()
    return account


async def reset_password(session: AsyncSession, actor: Account, account_id: int) -> tuple[Account, str]:
    """Give an account a new random password, revoke its tokens and sign its browsers out. Returns the
    account and the password, to be shown to the admin once (it is stored only as a hash)."""
    account = await _target(session, actor, account_id, "reset the password of")
    password = secrets.token_urlsafe(NEW_PASSWORD_BYTES)
    account.password_hash = hash_password(password)
    await repository.revoke_account_tokens(session, account.id, clock.utcnow_naive())
    await sessions.end_all(session, account.id)
    moderation.record(session, actor.id, "account.reset_password", account_id=account.id)
    await session.flush()
    return account, password


@dataclass(frozen=True)
class Overview:
    """The instance at a glance: account counts (`new` and `active` are within the last 30 days), local
    posts, and statuses / logins / sign-ups per week, this week first."""

    accounts: dict[str, int]
    weeks: list[dict[str, str]]


async def overview(session: AsyncSession, actor: Account, weeks: int = 4) -> Overview:
    """The counts for the admin overview page, in two round trips."""
    require_admin(actor)
    counts = await repository.account_counts(session, clock.utcnow_naive() - ACTIVE_WINDOW)
    return Overview(accounts=counts, weeks=await weekly_activity(session, weeks))
