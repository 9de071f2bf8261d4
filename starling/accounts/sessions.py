"""Browser sessions for the web app: signing up, signing in and out, and changing the password.

The cookie carries a random 256-bit token; the table keeps only its SHA-256 digest, so a leaked
database does not sign anyone in. A session expires after `web_session_days` without a visit."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from starling import clock, ids
from starling.accounts import service, tokens
from starling.accounts.instance import InstanceSettings
from starling.accounts.models import Account, WebSession
from starling.accounts.passwords import MAX_LENGTH, MIN_LENGTH, hash_password, verify_password
from starling.config import Settings
from starling.errors import Forbidden, Unprocessable
from starling.safety import signup

# A visit extends the session at most this often (one write an hour, not one per page).
REFRESH_EVERY = timedelta(hours=1)
MAX_USER_AGENT = 200


def _lifetime(settings: Settings) -> timedelta:
    return timedelta(days=settings.web_session_days)


async def start(session: AsyncSession, settings: Settings, account_id: int, *, user_agent: str = "") -> str:
    """Open a session for `account_id`; returns the secret token for the cookie."""
    raw = tokens.new_secret()
    now = clock.utcnow_naive()
    # This account's sessions that have run out are forgotten here (nothing else sweeps them).
    await session.execute(delete(WebSession).where(WebSession.account_id == account_id,
                                                   WebSession.expires_at <= now))
    session.add(WebSession(id=ids.new_id(), token_hash=tokens.digest(raw), account_id=account_id, created_at=now,
                           last_seen_at=now, expires_at=now + _lifetime(settings),
                           user_agent=user_agent[:MAX_USER_AGENT]))
    await service.record_sign_in(session, account_id)
    await session.flush()
    return raw


def may_hold_session(account: Account) -> bool:
    """Whether an account may be signed in to the web app. A suspended one may (as on Mastodon): it
    sees only its suspension page, where it reads why and appeals. A disabled one, or one awaiting
    approval, may not."""
    return account.disabled_at is None and account.approved


def sign_in_refusal(account: Account) -> str | None:
    """Why the web sign-in form turns a right password away (Mastodon's words), or None."""
    return None if may_hold_session(account) else service.unusable_reason(account)


async def resolve(session: AsyncSession, raw: str | None) -> tuple[WebSession, Account] | None:
    """The live session behind a cookie value and its account, or None when unknown, expired, or when
    the account may no longer be signed in (disabled, awaiting approval). A suspended account's session
    resolves: the web app confines it to the suspension page."""
    if not raw or len(raw) > 100:
        return None
    row = (await session.execute(
        select(WebSession, Account).join(Account, Account.id == WebSession.account_id)
        .where(WebSession.token_hash == tokens.digest(raw)))).first()
    if row is None:
        return None
    web_session, account = row
    if web_session.expires_at <= clock.utcnow_naive() or not may_hold_session(account):
        return None
    return web_session, account


def needs_refresh(web_session: WebSession, now: datetime | None = None) -> bool:
    """Whether this visit should push the session's expiry forward."""
    now = now or clock.utcnow_naive()
    return now - web_session.last_seen_at >= REFRESH_EVERY


async def refresh(session: AsyncSession, settings: Settings, session_id: int) -> None:
    """Note a visit: the session lives `web_session_days` from now."""
    now = clock.utcnow_naive()
    await session.execute(update(WebSession).where(WebSession.id == session_id)
                          .values(last_seen_at=now, expires_at=now + _lifetime(settings)))


async def end(session: AsyncSession, raw: str | None) -> None:
    """Sign out: forget the session behind this cookie value (nothing happens for an unknown one)."""
    if raw and len(raw) <= 100:
        await session.execute(delete(WebSession).where(WebSession.token_hash == tokens.digest(raw)))


async def end_all(session: AsyncSession, account_id: int, *, keep_id: int | None = None) -> None:
    """Sign every browser of `account_id` out, except the session `keep_id`."""
    stmt = delete(WebSession).where(WebSession.account_id == account_id)
    if keep_id is not None:
        stmt = stmt.where(WebSession.id != keep_id)
    await session.execute(stmt)


def _problem(field: str, code: str, description: str) -> Unprocessable:
    label = field.replace("_", " ").capitalize()
    return Unprocessable(f"Validation failed: {label} {description}",
                         details={field: [{"error": code, "description": description}]})


async def sign_up(session: AsyncSession, settings: Settings, instance: InstanceSettings, *, username: str,
                  email: str, password: str, agreement: bool, reason: str = "", invite_code: str = "",
                  ip: str | None = None, pow_challenge: str | None = None, pow_nonce: str | None = None) -> Account:
    """Create an account from the web sign-up form, under the instance's registration mode and the
    sign-up defences (safety.signup: blocks, invites, proof of work, email confirmation). Raises
    Forbidden when sign-up is closed and Unprocessable (with per-field details) for bad input; under
    approval the account exists but cannot sign in until a moderator approves it."""
    if instance.registrations == "closed":
        raise Forbidden("Sign-up is closed on this server")
    screening = await signup.screen(session, settings, mode=instance.registrations, email=email.strip(), ip=ip,
                                    invite_code=invite_code, pow_challenge=pow_challenge, pow_nonce=pow_nonce)
    details: dict[str, list[dict[str, str]]] = {}
    if not email.strip():
        details["email"] = [{"error": "ERR_BLANK", "description": "can't be blank"}]
    if not agreement:
        details["agreement"] = [{"error": "ERR_ACCEPTED", "description": "must be accepted"}]
    if screening.approval_required and not reason.strip():
        details["reason"] = [{"error": "ERR_BLANK", "description": "can't be blank"}]
    for name, problems in screening.problems.items():
        details.setdefault(name, []).extend(problems)
    # A savepoint, so every problem is reported at once and nothing is kept when any was found.
    attempt = await session.begin_nested()
    account = None
    try:
        account = await service.create_account(
            session, settings, username=username, email=email.strip() or None, password=password,
            approved=not screening.approval_required, confirmed=not screening.confirmation_required,
            reason=reason.strip(), allow_reserved=False)
        if not details:  # the proof and the invite are spent only by a sign-up that succeeds
            await signup.record(session, settings, account_id=account.id, email=account.email,
                                screening=screening, ip=ip)
    except Unprocessable as exc:
        for name, problems in (exc.details or {}).items():
            details.setdefault(name, []).extend(problems)
    if details:
        await attempt.rollback()
        parts = [f"{name.capitalize()} {p['description']}" for name, ps in details.items() for p in ps]
        raise Unprocessable("Validation failed: " + ", ".join(parts), details=details)
    await attempt.commit()
    return account


async def change_password(session: AsyncSession, account_id: int, *, current: str, new: str,
                          keep_session_id: int | None = None) -> None:
    """Replace the password after checking the current one; every other browser is signed out."""
    account = await session.get(Account, account_id)
    if account is None or not verify_password(account.password_hash, current):
        raise _problem("current_password", "ERR_INVALID", "is incorrect")
    if len(new) < MIN_LENGTH:
        raise _problem("password", "ERR_TOO_SHORT", f"is too short (minimum is {MIN_LENGTH} characters)")
    if len(new) > MAX_LENGTH:
        raise _problem("password", "ERR_TOO_LONG", f"is too long (maximum is {MAX_LENGTH} characters)")
    account.password_hash = hash_password(new)
    await end_all(session, account_id, keep_id=keep_session_id)
