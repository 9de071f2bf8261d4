"""Sign-up defences, in the layers every sign-up passes (the API's POST /api/v1/accounts and the web
form both go through accounts.service.register, which calls `screen` and then `record`):

- the registration mode (open / approval / invite / closed), turned to approval by itself when no
  moderator has been active for `moderator_absence_days`;
- admin IP / CIDR blocks (refuse, or send to approval);
- email domains: a shipped list of disposable-mail domains, the blocked_email_domains setting and the
  admins' own list, each matching subdomains too;
- invite links (admin-made codes with a use limit and an expiry), which also skip approval;
- proof of work, when sign-ups spike or the operator asks for it;
- email confirmation, once SMTP is configured.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from starling import clock, ids
from starling.config import Settings
from starling.errors import Forbidden, NotFound, Unprocessable
from starling.infra import jobs, mail
from starling.safety import counters, pow, signup_repository
from starling.safety.models import EmailDomainBlock, Invite, IpBlock, SignUp

DISPOSABLE_LIST = Path(__file__).with_name("disposable_domains.txt")
SEVERITIES = ("sign_up_block", "sign_up_requires_approval")
MODES = ("open", "approval", "invite", "closed")
CONFIRMATION_MAIL = "safety.confirmation_mail"

Details = dict[str, list[dict[str, str]]]


# ---- email domains ----------------------------------------------------------------------------------

@cache
def disposable_domains() -> frozenset[str]:
    """The shipped list: one domain a line, # for comments."""
    lines = DISPOSABLE_LIST.read_text().splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def _domain_and_parents(email: str) -> list[str]:
    domain = email.rpartition("@")[2].strip().lower().rstrip(".")
    labels = domain.split(".")
    return [".".join(labels[i:]) for i in range(len(labels) - 1)] or [domain]


async def email_domain_blocked(session: AsyncSession, settings: Settings, email: str) -> bool:
    """Whether the address's domain, or a domain above it, is disposable or blocked."""
    candidates = _domain_and_parents(email)
    configured = {d.strip().lower() for d in settings.blocked_email_domains.split(",") if d.strip()}
    if any(d in disposable_domains() or d in configured for d in candidates):
        return True
    return bool(await signup_repository.email_domain_blocks(session, candidates))


def _normal_domain(domain: str) -> str:
    domain = domain.strip().lower().rstrip(".")
    if not domain or len(domain) > 253 or "." not in domain or any(c.isspace() or c in "@/" for c in domain):
        raise Unprocessable(f"Validation failed: {domain!r} is not a domain")
    return domain


async def block_email_domain(session: AsyncSession, domain: str) -> str:
    """Refuse sign-ups with addresses at `domain` and its subdomains."""
    domain = _normal_domain(domain)
    if not await signup_repository.email_domain_blocks(session, [domain]):
        session.add(EmailDomainBlock(domain=domain, created_at=clock.utcnow_naive()))
        await session.flush()
    return domain


async def unblock_email_domain(session: AsyncSession, domain: str) -> None:
    found = await session.get(EmailDomainBlock, _normal_domain(domain))
    if found is None:
        raise NotFound()
    await session.delete(found)


async def email_domain_block_list(session: AsyncSession) -> list[EmailDomainBlock]:
    return await signup_repository.all_email_domain_blocks(session)


# ---- IP blocks --------------------------------------------------------------------------------------

def _network(text: str) -> str:
    try:
        return str(ipaddress.ip_network(text.strip(), strict=False))
    except ValueError:
        raise Unprocessable(f"Validation failed: {text!r} is not an address or a CIDR block") from None


async def add_ip_block(session: AsyncSession, network: str, severity: str, *, comment: str = "",
                       expires_in: timedelta | None = None) -> IpBlock:
    """Block (or send to approval) sign-ups from an address or CIDR block; replaces an earlier rule for it."""
    if severity not in SEVERITIES:
        raise Unprocessable(f"Validation failed: severity must be one of {', '.join(SEVERITIES)}")
    normal = _network(network)
    now = clock.utcnow_naive()
    block = await signup_repository.ip_block_by_network(session, normal)
    if block is None:
        block = IpBlock(id=ids.new_id(), network=normal, created_at=now)
        session.add(block)
    block.severity = severity
    block.comment = comment[:1000]
    block.expires_at = now + expires_in if expires_in else None
    await session.flush()
    return block


async def remove_ip_block(session: AsyncSession, block_id: int) -> None:
    block = await session.get(IpBlock, block_id)
    if block is None:
        raise NotFound()
    await session.delete(block)


async def ip_block_list(session: AsyncSession) -> list[IpBlock]:
    """The blocks in force."""
    return await signup_repository.ip_blocks(session, clock.utcnow_naive())


async def ip_severity(session: AsyncSession, ip: str | None) -> str | None:
    """The strictest block covering `ip`, or None."""
    if not ip:
        return None
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None
    found = set()
    for block in await signup_repository.ip_blocks(session, clock.utcnow_naive()):
        network = ipaddress.ip_network(block.network)
        if address.version == network.version and address in network:
            found.add(block.severity)
    for severity in SEVERITIES:
        if severity in found:
            return severity
    return None


# ---- invites ----------------------------------------------------------------------------------------

async def create_invite(session: AsyncSession, *, created_by_id: int | None, max_uses: int | None = None,
                        expires_in: timedelta | None = None, comment: str = "") -> Invite:
    """A new invite code (URL-safe, 12 characters)."""
    if max_uses is not None and not 1 <= max_uses <= 100_000:
        raise Unprocessable("Validation failed: max uses must be between 1 and 100000")
    now = clock.utcnow_naive()
    invite = Invite(id=ids.new_id(), code=secrets.token_urlsafe(9), created_by_id=created_by_id, max_uses=max_uses,
                    uses=0, comment=comment[:1000], expires_at=now + expires_in if expires_in else None,
                    created_at=now)
    session.add(invite)
    await session.flush()
    return invite


async def revoke_invite(session: AsyncSession, code: str) -> Invite:
    invite = await signup_repository.invite_by_code(session, code)
    if invite is None:
        raise NotFound()
    invite.revoked_at = invite.revoked_at or clock.utcnow_naive()
    return invite


async def invite_list(session: AsyncSession) -> list[Invite]:
    return await signup_repository.invites(session)


def invite_usable(invite: Invite | None) -> bool:
    if invite is None or invite.revoked_at is not None:
        return False
    if invite.expires_at is not None and invite.expires_at <= clock.utcnow_naive():
        return False
    return invite.max_uses is None or invite.uses < invite.max_uses


def invite_url(settings: Settings, invite: Invite) -> str:
    return f"{settings.base_url}/invite/{invite.code}"


# ---- registration mode, proof of work ---------------------------------------------------------------

@dataclass(frozen=True)
class RegistrationStatus:
    """What the admin overview shows: the mode set, the mode in force, and why they differ."""

    configured: str
    effective: str
    reason: str
    last_moderator_activity: datetime | None
    sign_ups_last_hour: int
    proof_of_work: bool


async def registration_status(session: AsyncSession, settings: Settings, configured: str) -> RegistrationStatus:
    """The registration mode in force. Open registrations turn to approval when no moderator has been
    active (signed in, used a token, acted) for `moderator_absence_days`."""
    last = await signup_repository.last_staff_activity(session)
    hourly = await sign_ups_last_hour(session)
    effective, reason = configured, ""
    if configured == "open":
        absent_since = clock.utcnow_naive() - timedelta(days=settings.moderator_absence_days)
        # No staff account at all (a database not set up by `starling serve`): nothing to measure from.
        if last is not None and last < absent_since:
            effective = "approval"
            reason = (f"No moderator has been active for {settings.moderator_absence_days} days, so new "
                      "accounts wait for approval until one is.")
    return RegistrationStatus(configured, effective, reason, last, hourly, proof_required(settings, hourly))


async def sign_ups_last_hour(session: AsyncSession) -> int:
    return await signup_repository.sign_ups_since(session, clock.utcnow_naive() - timedelta(hours=1))


def proof_required(settings: Settings, sign_ups_last_hour: int) -> bool:
    threshold = settings.pow_auto_sign_ups_per_hour
    return settings.pow_required or (threshold > 0 and sign_ups_last_hour >= threshold)


async def challenge(session: AsyncSession, settings: Settings) -> tuple[bool, pow.Challenge]:
    """Whether sign-ups need a proof of work right now, and a fresh challenge."""
    required = proof_required(settings, await sign_ups_last_hour(session))
    return required, pow.issue(settings.resolved_secret_key(), settings.pow_difficulty, settings.pow_ttl_seconds)


# ---- screening and recording a sign-up --------------------------------------------------------------

@dataclass
class Screening:
    """The outcome of the checks: whether the account waits for approval or confirmation, and what was
    wrong with the request (merged into the registration's 422 details)."""

    approval_required: bool
    confirmation_required: bool
    invite: Invite | None = None
    proof: tuple[str, str] | None = None  # (challenge, nonce) to spend once the account is valid
    problems: Details = field(default_factory=dict)


def _problem(problems: Details, name: str, code: str, description: str) -> None:
    problems.setdefault(name, []).append({"error": code, "description": description})


async def screen(session: AsyncSession, settings: Settings, *, mode: str, email: str, ip: str | None,
                 invite_code: str = "", pow_challenge: str | None = None,
                 pow_nonce: str | None = None) -> Screening:
    """Every sign-up check that does not depend on the account's own fields. Raises Forbidden when
    sign-ups are closed to this request; returns the rest as problems."""
    if mode == "closed":
        raise Forbidden("This action is not allowed")
    severity = await ip_severity(session, ip)
    if severity == "sign_up_block":
        raise Forbidden("Sign-ups from your network are not allowed")
    status = await registration_status(session, settings, mode)
    screening = Screening(approval_required=status.effective == "approval"
                          or severity == "sign_up_requires_approval",
                          confirmation_required=mail.configured(settings))
    code = (invite_code or "").strip()
    if code:
        invite = await signup_repository.invite_by_code(session, code[:64])
        if not invite_usable(invite):
            _problem(screening.problems, "invite_code", "ERR_INVALID", "is invalid, expired or used up")
        else:
            screening.invite = invite
            screening.approval_required = severity == "sign_up_requires_approval"
    elif mode == "invite":
        raise Forbidden("Sign-ups on this server need an invite")
    if email and await email_domain_blocked(session, settings, email):
        _problem(screening.problems, "email", "ERR_BLOCKED", "uses a disposable or blocked email domain")
    if status.proof_of_work:
        try:
            pow.check(settings.resolved_secret_key(), pow_challenge, pow_nonce, min_difficulty=settings.pow_difficulty)
            screening.proof = (pow_challenge or "", pow_nonce or "")
        except pow.ProofRefused as exc:
            _problem(screening.problems, "proof_of_work", "ERR_INVALID", str(exc))
    return screening


async def record(session: AsyncSession, settings: Settings, *, account_id: int, email: str | None,
                 screening: Screening, ip: str | None) -> None:
    """After the account is created: spend the proof and the invite, note the sign-up, and queue the
    confirmation mail. Raises Unprocessable if another sign-up spent either first."""
    if screening.proof is not None:
        try:
            await pow.spend(counters.for_session(session), settings.resolved_secret_key(), *screening.proof,
                            min_difficulty=settings.pow_difficulty, prefix=settings.redis_prefix)
        except pow.ProofRefused as exc:
            problem = {"proof_of_work": [{"error": "ERR_INVALID", "description": str(exc)}]}
            raise Unprocessable(f"Validation failed: Proof of work {exc}", details=problem) from None
    now = clock.utcnow_naive()
    if screening.invite is not None and not await signup_repository.use_invite(session, screening.invite.id, now):
        raise Unprocessable("Validation failed: Invite code is invalid, expired or used up",
                            details={"invite_code": [{"error": "ERR_INVALID",
                                                      "description": "is invalid, expired or used up"}]})
    session.add(SignUp(account_id=account_id, ip=ip[:64] if ip else None,
                       invite_id=screening.invite.id if screening.invite else None, created_at=now))
    if screening.confirmation_required and email:
        jobs.enqueue(session, CONFIRMATION_MAIL, {"account_id": account_id})
    await session.flush()


# ---- email confirmation -----------------------------------------------------------------------------

def _confirmation_mac(secret: str, account_id: int, email: str, expires: int) -> str:
    message = f"confirm|{account_id}|{email.lower()}|{expires}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:32]


def confirmation_token(settings: Settings, account_id: int, email: str) -> str:
    """A link token bound to the account and its current address, valid confirmation_ttl_hours."""
    expires = int(clock.now().timestamp()) + settings.confirmation_ttl_hours * 3600
    return f"{account_id}.{expires}.{_confirmation_mac(settings.resolved_secret_key(), account_id, email, expires)}"


def confirmation_url(settings: Settings, token: str) -> str:
    return f"{settings.base_url}/auth/confirmation?confirmation_token={token}"


async def confirm_email(session: AsyncSession, settings: Settings, token: str):
    """Mark the account's address confirmed. Raises Unprocessable for a wrong, stale or expired token."""
    from starling.accounts.models import Account

    parts = (token or "")[:200].split(".")
    if len(parts) != 3 or not ids.is_decimal(parts[0]) or not ids.is_decimal(parts[1]):
        raise Unprocessable("This confirmation link is not valid")
    account_id, expires, mac = int(parts[0]), int(parts[1]), parts[2]
    account = await session.get(Account, account_id) if account_id < 2**63 else None
    if account is None or not account.email or not hmac.compare_digest(
            _confirmation_mac(settings.resolved_secret_key(), account_id, account.email, expires), mac):
        raise Unprocessable("This confirmation link is not valid")
    if expires < clock.now().timestamp():
        raise Unprocessable("This confirmation link has expired; ask for a new one")
    if account.confirmed_at is None:
        account.confirmed_at = clock.utcnow_naive()
    return account


async def resend_confirmation(session: AsyncSession, settings: Settings, account_id: int) -> None:
    """Queue the confirmation mail again (nothing happens for a confirmed account)."""
    from starling.accounts.models import Account

    account = await session.get(Account, account_id)
    if account is None or account.confirmed_at is not None or not account.email:
        return
    if not mail.configured(settings):
        raise Unprocessable("This server does not send mail")
    jobs.enqueue(session, CONFIRMATION_MAIL, {"account_id": account_id})


def confirmation_message(settings: Settings, username: str, url: str, title: str) -> tuple[str, str]:
    subject = f"Confirm your email address for {title}"
    text = (f"Hello {username},\n\nSomeone (we hope you) signed up as @{username} on {title} "
            f"({settings.domain}) with this address. To confirm it, open this link within "
            f"{settings.confirmation_ttl_hours} hours:\n\n{url}\n\n"
            "If that was not you, ignore this message; the account stays unconfirmed.\n")
    return subject, text
