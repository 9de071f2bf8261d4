"""Sign-in throttling: too many attempts from one address, or too many failures for one login, within
a window get 429 until the window moves on. Counted in the database, so every process of the instance
shares the count (a limit must not grow with the number of processes). Failures also feed the longer
back-off tiers of safety.backoff."""

from __future__ import annotations

import ipaddress
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from starling import clock, ids
from starling.accounts import repository
from starling.accounts.models import LoginAttempt
from starling.config import Settings
from starling.errors import RateLimited
from starling.safety import backoff


def ip_key(host: str | None) -> str:
    """The address attempts are counted under: IPv4 as it is, IPv6 by its /64 (one subscriber's block)."""
    if not host:
        return "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host[:64]
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def login_key(login: str) -> str:
    return login.strip().lower()[:320]


async def check(session: AsyncSession, settings: Settings, *, ip: str | None, login: str) -> None:
    """Raise RateLimited when this address or this login has used up the window."""
    since = clock.utcnow_naive() - timedelta(seconds=settings.login_window_seconds)
    by_ip, failures = await repository.login_attempt_counts(session, ip_key(ip), login_key(login), since)
    if by_ip >= settings.login_attempts_per_ip or failures >= settings.login_failures_per_account:
        raise RateLimited("Too many sign-in attempts; try again later",
                          retry_after=settings.login_window_seconds)
    await backoff.check(session, settings, ip_key=ip_key(ip), login_key=login_key(login))


async def record(session: AsyncSession, settings: Settings, *, ip: str | None, login: str, succeeded: bool) -> None:
    """Count one attempt (and forget this address's attempts that have left the window)."""
    key = ip_key(ip)
    now = clock.utcnow_naive()
    await repository.forget_login_attempts(session, key, now - timedelta(seconds=settings.login_window_seconds))
    session.add(LoginAttempt(id=ids.new_id(), ip_key=key, login_key=login_key(login), succeeded=succeeded,
                             created_at=now))
    if not succeeded:
        await backoff.failed(session, settings, ip_key=key, login_key=login_key(login))
