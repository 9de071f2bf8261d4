"""Every query the spam scorer makes: its own tables (scores, fingerprints, LSH bands, link domains,
activity counters) and the few facts it reads from posts, accounts and the graph, each in one statement."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from starling.accounts.models import Account, Application
from starling.infra.db import insert_ignore
from starling.posts.models import Status
from starling.safety.models import (
    AccountScore,
    ActivityCount,
    LinkDomain,
    MinHashBand,
    ModerationLogEntry,
    Report,
    SignUp,
    StatusScore,
    TextFingerprint,
)

MAX_CANDIDATES = 400


async def link_domains(session: AsyncSession, domains: Iterable[str]) -> dict[str, LinkDomain]:
    wanted = set(domains)
    if not wanted:
        return {}
    return {d.domain: d for d in await session.scalars(select(LinkDomain).where(LinkDomain.domain.in_(wanted)))}


async def note_domains(session: AsyncSession, domains: Iterable[str], now: datetime) -> None:
    """Remember domains seen for the first time (a concurrent post seeing them too changes nothing)."""
    await insert_ignore(session, LinkDomain, [{"domain": d, "first_seen_at": now, "note": ""} for d in set(domains)])


async def set_domain_blocked(session: AsyncSession, domain: str, blocked_at: datetime | None, note: str) -> None:
    await note_domains(session, [domain], blocked_at or datetime(1970, 1, 1))
    await session.execute(update(LinkDomain).where(LinkDomain.domain == domain)
                          .values(blocked_at=blocked_at, note=note))


async def band_candidates(session: AsyncSession, keys: list[int], *, since: datetime,
                          exclude_status: int) -> list[tuple[int, int, bytes]]:
    """(status_id, account_id, signature) of recent posts sharing at least one band with `keys`."""
    if not keys:
        return []
    matched = (select(MinHashBand.status_id)
               .where(MinHashBand.band_key.in_(keys), MinHashBand.created_at >= since,
                      MinHashBand.status_id != exclude_status)
               .distinct().limit(MAX_CANDIDATES).subquery())
    rows = await session.execute(select(TextFingerprint.status_id, TextFingerprint.account_id,
                                        TextFingerprint.signature)
                                 .where(TextFingerprint.status_id.in_(select(matched.c.status_id))))
    return [(s, a, bytes(sig)) for s, a, sig in rows]


async def add_fingerprint(session: AsyncSession, *, status_id: int, account_id: int, signature: bytes,
                          keys: list[int], now: datetime) -> None:
    """A new post's fingerprint and band rows (plain inserts: the post is new, so nothing can clash)."""
    await session.execute(insert(TextFingerprint), [dict(status_id=status_id, account_id=account_id,
                                                         signature=signature, created_at=now)])
    await session.execute(insert(MinHashBand), [dict(band_key=k, status_id=status_id, account_id=account_id,
                                                     created_at=now) for k in set(keys)])


async def forget_fingerprint(session: AsyncSession, status_id: int) -> None:
    """Drop a post's fingerprint (before an edited text is fingerprinted again)."""
    await session.execute(delete(MinHashBand).where(MinHashBand.status_id == status_id))
    await session.execute(delete(TextFingerprint).where(TextFingerprint.status_id == status_id))


async def prune_fingerprints(session: AsyncSession, before: datetime) -> None:
    """Forget fingerprints older than the duplicate window."""
    await session.execute(delete(MinHashBand).where(MinHashBand.created_at < before))
    await session.execute(delete(TextFingerprint).where(TextFingerprint.created_at < before))


async def status_score(session: AsyncSession, status_id: int) -> StatusScore | None:
    return await session.get(StatusScore, status_id)


async def status_scores(session: AsyncSession, status_ids: Iterable[int]) -> dict[int, StatusScore]:
    wanted = set(status_ids)
    if not wanted:
        return {}
    return {s.status_id: s for s in await session.scalars(select(StatusScore)
                                                          .where(StatusScore.status_id.in_(wanted)))}


async def recent_post_scores(session: AsyncSession, account_id: int, since_id: int) -> list[int]:
    return list(await session.scalars(select(StatusScore.score).where(
        StatusScore.account_id == account_id, StatusScore.status_id >= since_id)))


async def account_score(session: AsyncSession, account_id: int) -> AccountScore | None:
    return await session.get(AccountScore, account_id)


async def account_scores(session: AsyncSession, account_ids: Iterable[int]) -> dict[int, AccountScore]:
    wanted = set(account_ids)
    if not wanted:
        return {}
    return {s.account_id: s for s in await session.scalars(select(AccountScore)
                                                           .where(AccountScore.account_id.in_(wanted)))}


async def statuses_by_ids(session: AsyncSession, status_ids: Iterable[int]) -> list[Status]:
    wanted = set(status_ids)
    if not wanted:
        return []
    return list(await session.scalars(select(Status).where(Status.id.in_(wanted))))


async def set_quarantined(session: AsyncSession, status_ids: Iterable[int], quarantined: bool) -> None:
    wanted = set(status_ids)
    if wanted:
        await session.execute(update(Status).where(Status.id.in_(wanted)).values(quarantined=quarantined)
                              .execution_options(synchronize_session="fetch"))
        await session.execute(update(StatusScore).where(StatusScore.status_id.in_(wanted))
                              .values(quarantined=quarantined))


async def recent_post_times(session: AsyncSession, account_id: int, limit: int) -> list[datetime]:
    """Creation times of the account's newest original posts (boosts aside), oldest first."""
    rows = await session.scalars(select(Status.created_at).where(
        Status.account_id == account_id, Status.reblog_of_id.is_(None)).order_by(Status.id.desc()).limit(limit))
    return sorted(rows)


async def popular_reply_targets(session: AsyncSession, account_id: int, since_id: int, popular: int) -> int:
    """Distinct accounts with at least `popular` followers the account replied to since `since_id`."""
    return int(await session.scalar(
        select(func.count(func.distinct(Status.in_reply_to_account_id)))
        .join(Account, Account.id == Status.in_reply_to_account_id)
        .where(Status.account_id == account_id, Status.id >= since_id,
               Status.in_reply_to_account_id != account_id, Account.followers_count >= popular)) or 0)


async def followers_count(session: AsyncSession, account_id: int) -> int:
    return int(await session.scalar(select(Account.followers_count).where(Account.id == account_id)) or 0)


async def new_accounts_on_application(session: AsyncSession, application_id: int, *, since_id: int,
                                      app_since: datetime, born_after: datetime) -> int:
    """New accounts that posted through `application_id` since `since_id`, when the application itself
    is new (a long-lived client everyone uses says nothing)."""
    created = await session.scalar(select(Application.created_at).where(Application.id == application_id))
    if created is None or created < app_since:
        return 0
    return int(await session.scalar(
        select(func.count(func.distinct(Status.account_id)))
        .join(Account, Account.id == Status.account_id)
        .where(Status.application_id == application_id, Status.id >= since_id,
               Account.created_at >= born_after)) or 0)


async def count_activity(session: AsyncSession, account_id: int, day: date, kind: str) -> None:
    """Add one to the account's counter of `kind` for `day`."""
    await insert_ignore(session, ActivityCount, [dict(account_id=account_id, day=day, kind=kind, count=0)])
    await session.execute(update(ActivityCount).where(
        ActivityCount.account_id == account_id, ActivityCount.day == day, ActivityCount.kind == kind)
        .values(count=ActivityCount.count + 1))


async def activity(session: AsyncSession, account_id: int, day: date) -> dict[str, int]:
    rows = await session.execute(select(ActivityCount.kind, ActivityCount.count).where(
        ActivityCount.account_id == account_id, ActivityCount.day == day))
    return {kind: count for kind, count in rows}



async def open_auto_report(session: AsyncSession, account_id: int) -> Report | None:
    """The account's unresolved automatic flag, if any (there is at most one at a time)."""
    return await session.scalar(select(Report).where(
        Report.target_account_id == account_id, Report.source == "auto", Report.action_taken_at.is_(None))
        .order_by(Report.id.desc()).limit(1))


def log(session: AsyncSession, entry: ModerationLogEntry) -> None:
    session.add(entry)


async def sign_ups_from_same_address(session: AsyncSession, account_id: int, since: datetime) -> int:
    """Accounts that signed up since `since` from the address `account_id` signed up from (0 when the
    account was made by an operator, or its address is unknown)."""
    ip = await session.scalar(select(SignUp.ip).where(SignUp.account_id == account_id))
    if not ip:
        return 0
    return int(await session.scalar(select(func.count()).select_from(SignUp).where(
        SignUp.ip == ip, SignUp.created_at >= since)) or 0)
