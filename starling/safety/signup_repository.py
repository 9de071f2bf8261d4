"""Every query of the sign-up defences: invites, IP and email-domain blocks, sign-up records, and the one
question asked of other tables (when a moderator was last active)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from starling.accounts.models import AccessToken, Account
from starling.safety.models import EmailDomainBlock, Invite, IpBlock, ModerationLogEntry, SignUp

STAFF = ("admin", "moderator")


async def invite_by_code(session: AsyncSession, code: str) -> Invite | None:
    return (await session.execute(select(Invite).where(Invite.code == code))).scalar_one_or_none()


async def invites(session: AsyncSession) -> list[Invite]:
    return list((await session.execute(select(Invite).order_by(Invite.id.desc()))).scalars())


async def use_invite(session: AsyncSession, invite_id: int, now: datetime) -> bool:
    """Count one use, unless it is used up, revoked or expired meanwhile (one statement, so two sign-ups
    racing for the last use cannot both have it)."""
    result = await session.execute(
        update(Invite).where(Invite.id == invite_id, Invite.revoked_at.is_(None),
                             or_(Invite.max_uses.is_(None), Invite.uses < Invite.max_uses),
                             or_(Invite.expires_at.is_(None), Invite.expires_at > now))
        .values(uses=Invite.uses + 1))
    return result.rowcount == 1


async def ip_blocks(session: AsyncSession, now: datetime) -> list[IpBlock]:
    """Blocks in force (not expired), oldest first."""
    query = select(IpBlock).where(or_(IpBlock.expires_at.is_(None), IpBlock.expires_at > now)).order_by(IpBlock.id)
    return list((await session.execute(query)).scalars())


async def ip_block_by_network(session: AsyncSession, network: str) -> IpBlock | None:
    return (await session.execute(select(IpBlock).where(IpBlock.network == network))).scalar_one_or_none()


async def email_domain_blocks(session: AsyncSession, candidates: list[str]) -> list[str]:
    query = select(EmailDomainBlock.domain).where(EmailDomainBlock.domain.in_(candidates))
    return list((await session.execute(query)).scalars())


async def all_email_domain_blocks(session: AsyncSession) -> list[EmailDomainBlock]:
    return list((await session.execute(select(EmailDomainBlock).order_by(EmailDomainBlock.domain))).scalars())


async def sign_ups_since(session: AsyncSession, since: datetime) -> int:
    return (await session.execute(select(func.count()).select_from(SignUp)
                                  .where(SignUp.created_at >= since))).scalar_one()


async def last_staff_activity(session: AsyncSession) -> datetime | None:
    """The latest sign-in, token use, moderation action or (for a fresh instance) creation of any
    admin or moderator account."""
    staff = select(Account.id).where(Account.role.in_(STAFF), Account.suspended_at.is_(None)).scalar_subquery()
    candidates = [
        select(func.max(func.coalesce(Account.current_sign_in_at, Account.created_at)))
        .where(Account.role.in_(STAFF), Account.suspended_at.is_(None)),
        select(func.max(Account.created_at)).where(Account.role.in_(STAFF), Account.suspended_at.is_(None)),
        select(func.max(AccessToken.last_used_at)).where(AccessToken.account_id.in_(staff)),
        select(func.max(ModerationLogEntry.created_at)).where(ModerationLogEntry.moderator_id.in_(staff)),
    ]
    found = [(await session.execute(query)).scalar_one_or_none() for query in candidates]
    found = [value for value in found if value is not None]
    return max(found) if found else None
