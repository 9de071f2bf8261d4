"""Read caps: how many posts one reader is served per day (UTC), by tier, counted on the posts that
timeline, thread and search answers actually carried. Logged-out readers are counted per address.

A request is admitted when the reader is still under the cap, and the posts it returned are added
afterwards. Both go through the process's batched view of the counters (counters.Tally): a count read
from the store at most about a second ago plus this process's own additions, which reach the store in one
round trip a second. A reader can overshoot by one page, plus what other processes served it in the
last second or so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from starling import clock
from starling.config import Settings
from starling.errors import RateLimited, Unprocessable
from starling.safety import counters
from starling.safety.ratelimit import address_key

TIERS = ("new_unverified", "unverified", "verified")
TTL = 2 * 86_400
NO_BATCH_LIMIT = 2**62  # spends are always batched: admission, not the count, is what the cap checks


class ReadCapReached(RateLimited):
    pass


def is_verified(account) -> bool:
    """Whether the account reads at the verified tier. Staff do today; subscriptions (a later issue)
    add their subscribers here."""
    return getattr(account, "role", "user") in ("admin", "moderator")


def tier(settings: Settings, account) -> str:
    """The account's read tier: verified, else new_unverified for its first days, else unverified."""
    if is_verified(account):
        return "verified"
    age = clock.utcnow_naive() - account.created_at
    if age < timedelta(days=settings.readcap_new_account_days):
        return "new_unverified"
    return "unverified"


@dataclass(frozen=True)
class Reader:
    key: str
    cap: int  # 0: no cap
    tier: str  # a tier, or "logged_out"
    exempt: bool  # loopback clients are counted, never refused


def reader(settings: Settings, account, ip: str | None, *, exempt: bool = False) -> Reader:
    """Who is reading: an account (capped by its tier) or an address (the logged-out cap)."""
    if account is not None:
        name = tier(settings, account)
        return Reader(f"a:{account.id}", getattr(settings, f"readcap_{name}"), name, exempt)
    return Reader(f"ip:{address_key(ip or 'unknown')}", settings.readcap_logged_out, "logged_out", exempt)


def _key(settings: Settings, who: Reader) -> str:
    return f"{settings.redis_prefix}rc:{who.key}:{clock.now().strftime('%Y%m%d')}"


def _seconds_to_midnight() -> int:
    now = clock.now()
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return max(1, int((midnight - now).total_seconds()))


def _message(who: Reader) -> str:
    if who.tier == "logged_out":
        return (f"Daily read limit reached: without an account this address can read {who.cap} posts a day. "
                "Sign in to read more, or come back after midnight UTC.")
    return (f"Daily read limit reached: your account can read {who.cap} posts a day. "
            "The count starts again at midnight UTC.")


def allow_logged_out_public(settings: Settings) -> None:
    """Refuse logged-out reads of the public and hashtag timelines when the instance switched them off."""
    if not settings.public_timelines_logged_out:
        raise Unprocessable("This method requires an authenticated user")


async def admit(ctx, who: Reader) -> None:
    """Raise ReadCapReached when the reader has used up today's cap."""
    if who.cap <= 0 or who.exempt:
        return
    served = await counters.tally_for(ctx).peek(_key(ctx.settings, who))
    if served >= who.cap:
        raise ReadCapReached(_message(who), retry_after=_seconds_to_midnight())


async def spend(ctx, who: Reader, posts: int) -> int:
    """Count `posts` served to the reader; returns today's total."""
    if posts <= 0:
        return 0
    (total,) = await counters.tally_for(ctx).add([(_key(ctx.settings, who), posts, TTL, NO_BATCH_LIMIT)])
    return total


async def served_today(ctx, who: Reader) -> int:
    """How many posts the reader was served today."""
    return await counters.tally_for(ctx).peek(_key(ctx.settings, who))
