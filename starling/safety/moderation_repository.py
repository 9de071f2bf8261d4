"""Every query on reports, the moderation log, warnings and appeals, and the admin's account search."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from starling.accounts.models import AccessToken, Account
from starling.safety.models import AccountScore, AccountWarning, Appeal, ModerationLogEntry, Report


async def report(session: AsyncSession, report_id: int) -> Report | None:
    return await session.get(Report, report_id)


async def reports_by_ids(session: AsyncSession, report_ids: Iterable[int]) -> dict[int, Report]:
    wanted = set(report_ids)
    if not wanted:
        return {}
    return {r.id: r for r in await session.scalars(select(Report).where(Report.id.in_(wanted)))}


def reports_query(*, resolved: bool | None, account_id: int | None = None,
                  target_account_id: int | None = None, source: str | None = None) -> Select:
    stmt = select(Report)
    if resolved is not None:
        stmt = stmt.where(Report.action_taken_at.is_not(None) if resolved else Report.action_taken_at.is_(None))
    if account_id is not None:
        stmt = stmt.where(Report.account_id == account_id)
    if target_account_id is not None:
        stmt = stmt.where(Report.target_account_id == target_account_id)
    if source is not None:
        stmt = stmt.where(Report.source == source)
    return stmt


async def open_reports_of(session: AsyncSession, target_account_id: int) -> list[Report]:
    return list(await session.scalars(select(Report).where(Report.target_account_id == target_account_id,
                                                           Report.action_taken_at.is_(None))))


async def resolve_reports(session: AsyncSession, report_ids: Iterable[int], moderator_id: int,
                          now: datetime) -> None:
    wanted = set(report_ids)
    if wanted:
        await session.execute(update(Report).where(Report.id.in_(wanted), Report.action_taken_at.is_(None))
                              .values(action_taken_at=now, action_taken_by_id=moderator_id, updated_at=now))


def accounts_query(*, pending: bool = False, disabled: bool = False, silenced: bool = False,
                   suspended: bool = False, sensitized: bool = False, active: bool = False, staff: bool = False,
                   flagged: bool = False, username: str | None = None, display_name: str | None = None,
                   email: str | None = None) -> Select:
    stmt = select(Account)
    if pending:
        stmt = stmt.where(Account.approved.is_(False))
    if disabled:
        stmt = stmt.where(Account.disabled_at.is_not(None))
    if silenced:
        stmt = stmt.where(Account.silenced_at.is_not(None))
    if suspended:
        stmt = stmt.where(Account.suspended_at.is_not(None))
    if sensitized:
        stmt = stmt.where(Account.sensitized_at.is_not(None))
    if active:
        stmt = stmt.where(Account.suspended_at.is_(None), Account.disabled_at.is_(None))
    if staff:
        stmt = stmt.where(Account.role.in_(("admin", "moderator")))
    if flagged:
        stmt = stmt.where(Account.id.in_(select(AccountScore.account_id).where(AccountScore.flagged_at.is_not(None))))
    if username:
        stmt = stmt.where(Account.username_lower.startswith(username.lower(), autoescape=True))
    if display_name:
        stmt = stmt.where(func.lower(Account.display_name).contains(display_name.lower(), autoescape=True))
    if email:
        stmt = stmt.where(func.lower(Account.email).contains(email.lower(), autoescape=True))
    return stmt


async def revoke_tokens(session: AsyncSession, account_id: int, now: datetime) -> None:
    await session.execute(update(AccessToken).where(AccessToken.account_id == account_id,
                                                    AccessToken.revoked_at.is_(None)).values(revoked_at=now))


def log(session: AsyncSession, entry: ModerationLogEntry) -> None:
    """Append to the audit log (the only write this table ever gets)."""
    session.add(entry)


def log_query(*, target_account_id: int | None = None, moderator_id: int | None = None) -> Select:
    stmt = select(ModerationLogEntry)
    if target_account_id is not None:
        stmt = stmt.where(ModerationLogEntry.target_account_id == target_account_id)
    if moderator_id is not None:
        stmt = stmt.where(ModerationLogEntry.moderator_id == moderator_id)
    return stmt


async def log_of(session: AsyncSession, target_account_id: int, limit: int = 50) -> list[ModerationLogEntry]:
    return list(await session.scalars(log_query(target_account_id=target_account_id)
                                      .order_by(ModerationLogEntry.id.desc()).limit(limit)))


async def warning(session: AsyncSession, warning_id: int) -> AccountWarning | None:
    return await session.get(AccountWarning, warning_id)


async def warnings_by_ids(session: AsyncSession, warning_ids: Iterable[int]) -> dict[int, AccountWarning]:
    wanted = set(warning_ids)
    if not wanted:
        return {}
    return {w.id: w for w in await session.scalars(select(AccountWarning).where(AccountWarning.id.in_(wanted)))}


async def warnings_of(session: AsyncSession, account_id: int, limit: int = 50) -> list[AccountWarning]:
    return list(await session.scalars(select(AccountWarning).where(AccountWarning.account_id == account_id)
                                      .order_by(AccountWarning.id.desc()).limit(limit)))


async def latest_warning(session: AsyncSession, account_id: int, action: str) -> AccountWarning | None:
    return await session.scalar(select(AccountWarning).where(AccountWarning.account_id == account_id,
                                                             AccountWarning.action == action)
                                .order_by(AccountWarning.id.desc()).limit(1))


async def count_open_reports(session: AsyncSession, limit: int) -> dict[str, int]:
    """Open reports by source ("report", "auto"), counting at most `limit` of them (the open-reports index)."""
    capped = select(Report.source).where(Report.action_taken_at.is_(None)).limit(limit).subquery()
    rows = await session.execute(select(capped.c.source, func.count()).group_by(capped.c.source))
    return {source: int(count) for source, count in rows}


async def count_pending_appeals(session: AsyncSession, limit: int) -> int:
    capped = select(Appeal.id).where(Appeal.decision.is_(None)).limit(limit).subquery()
    return int(await session.scalar(select(func.count()).select_from(capped)) or 0)


async def appeal(session: AsyncSession, appeal_id: int) -> Appeal | None:
    return await session.get(Appeal, appeal_id)


async def appeal_of_warning(session: AsyncSession, warning_id: int) -> Appeal | None:
    return await session.scalar(select(Appeal).where(Appeal.warning_id == warning_id))


async def appeals_by_warning(session: AsyncSession, warning_ids: Iterable[int]) -> dict[int, Appeal]:
    wanted = set(warning_ids)
    if not wanted:
        return {}
    return {a.warning_id: a for a in await session.scalars(select(Appeal).where(Appeal.warning_id.in_(wanted)))}


def appeals_query(*, pending: bool) -> Select:
    stmt = select(Appeal)
    return stmt.where(Appeal.decision.is_(None)) if pending else stmt
