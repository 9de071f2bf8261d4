"""Limits on new accounts for their first `newcomer_hours`: no links, a few posts an hour, no mass
follows; and, once the instance sends mail, nothing at all until the address is confirmed. They apply
to accounts that signed themselves up (a sign_ups row), not to those an operator made (CLI, demo data,
fixtures). Counted in the shared counters (no query on the posts or follows tables)."""

from __future__ import annotations

import re
import time
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from starling import clock
from starling.config import Settings
from starling.errors import Forbidden, RateLimited, Unprocessable
from starling.infra import mail
from starling.safety import counters
from starling.safety.models import SignUp

LINK = re.compile(r"(https?://|www\.)\S", re.IGNORECASE)
UNCONFIRMED = "Your login is missing a confirmed e-mail address"


async def is_newcomer(session: AsyncSession, settings: Settings, account) -> bool:
    """Whether the account signed up within its first hours (staff never are newcomers)."""
    if settings.newcomer_hours <= 0 or getattr(account, "role", "user") in ("admin", "moderator"):
        return False
    if clock.utcnow_naive() - account.created_at >= timedelta(hours=settings.newcomer_hours):
        return False
    return await session.get(SignUp, account.id) is not None


def require_confirmed(settings: Settings, account) -> None:
    """Refuse to act for an account whose address is unconfirmed while the instance sends mail."""
    if mail.configured(settings) and account.email and account.confirmed_at is None:
        raise Forbidden(UNCONFIRMED)


async def _spend(session: AsyncSession, settings: Settings, kind: str, account_id: int, limit: int,
                 message: str) -> None:
    now = int(time.time())
    window = now // 3600
    key = f"{settings.redis_prefix}nc:{kind}:{account_id}:{window}"
    (used,) = await counters.for_session(session).increment([(key, 1, 3_700)])
    if used > limit:
        raise RateLimited(message, retry_after=max(1, (window + 1) * 3600 - now))


async def check_post(session: AsyncSession, settings: Settings, account, text: str) -> None:
    """Before a new account's post is saved: confirmed, no links, under the hourly count."""
    require_confirmed(settings, account)
    if not await is_newcomer(session, settings, account):
        return
    if not settings.newcomer_links and LINK.search(text or ""):
        raise Unprocessable(f"New accounts cannot post links during their first {settings.newcomer_hours} hours")
    await _spend(session, settings, "post", account.id, settings.newcomer_posts_per_hour,
                 f"New accounts can post {settings.newcomer_posts_per_hour} times an hour")


async def check_follow(session: AsyncSession, settings: Settings, account) -> None:
    """Before a new account follows someone: confirmed, under the hourly count."""
    require_confirmed(settings, account)
    if not await is_newcomer(session, settings, account):
        return
    await _spend(session, settings, "follow", account.id, settings.newcomer_follows_per_hour,
                 f"New accounts can follow {settings.newcomer_follows_per_hour} accounts an hour")
