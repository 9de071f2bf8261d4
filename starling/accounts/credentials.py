"""Changing what a person signs in with. Each change asks for the current password, so a session left
open on a shared computer cannot take the account over."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from starling.accounts import repository
from starling.accounts.models import Account
from starling.accounts.passwords import verify_password
from starling.accounts.service import EMAIL
from starling.errors import NotFound, Unprocessable

MAX_EMAIL = 320


def _refuse_if(problems: dict[str, str]) -> None:
    """422 naming every problem, with `details` keyed by field so a form can show each beside its input."""
    if problems:
        raise Unprocessable("Validation failed: " + ", ".join(problems.values()),
                            details={field: [{"error": "ERR_INVALID", "description": text}]
                                     for field, text in problems.items()})


async def change_email(session: AsyncSession, account_id: int, *, email: str, current_password: str) -> Account:
    """Set a new email address after checking the current password. Unprocessable, with per-field
    details (`email`, `current_password`), when either is wrong."""
    account = await repository.by_id(session, account_id)
    if account is None:
        raise NotFound()
    email = email.strip()
    problems: dict[str, str] = {}
    if not verify_password(account.password_hash, current_password):
        problems["current_password"] = "Current password is incorrect"
    if not email:
        problems["email"] = "Email can't be blank"
    elif len(email) > MAX_EMAIL or not EMAIL.match(email):
        problems["email"] = "Email is invalid"
    elif (account.email or "").lower() != email.lower():
        other = await repository.by_email(session, email)
        if other is not None and other.id != account.id:
            problems["email"] = "Email has already been taken"
    _refuse_if(problems)
    account.email = email
    await session.flush()
    return account
