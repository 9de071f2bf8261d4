"""Every query on accounts, applications, tokens and codes."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from starling.accounts.models import Account


async def by_id(session: AsyncSession, account_id: int) -> Account | None:
    return await session.get(Account, account_id)


async def by_ids(session: AsyncSession, account_ids: Iterable[int]) -> dict[int, Account]:
    wanted = set(account_ids)
    if not wanted:
        return {}
    rows = await session.scalars(select(Account).where(Account.id.in_(wanted)))
    return {a.id: a for a in rows}


async def by_username(session: AsyncSession, username: str) -> Account | None:
    return await session.scalar(select(Account).where(Account.username_lower == username.lower()))


async def by_usernames(session: AsyncSession, usernames: Iterable[str]) -> dict[str, Account]:
    wanted = {u.lower() for u in usernames}
    if not wanted:
        return {}
    rows = await session.scalars(select(Account).where(Account.username_lower.in_(wanted)))
    return {a.username_lower: a for a in rows}


async def by_email(session: AsyncSession, email: str) -> Account | None:
    return await session.scalar(select(Account).where(func.lower(Account.email) == email.lower()))


async def all_accounts(session: AsyncSession, limit: int = 10_000) -> list[Account]:
    return list(await session.scalars(select(Account).order_by(Account.id).limit(limit)))


async def any_admin(session: AsyncSession) -> bool:
    return await session.scalar(select(Account.id).where(Account.role == "admin").limit(1)) is not None
