"""Account operations: creating and registering accounts, signing in, profiles, search, tokens."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy.ext.asyncio import AsyncSession

from starling import clock, ids
from starling.accounts import policy, repository, tokens
from starling.accounts.instance import InstanceSettings
from starling.accounts.models import AccessToken, Account, Application
from starling.accounts.passwords import MAX_LENGTH, MIN_LENGTH, hash_password, needs_rehash, verify_password
from starling.config import Settings
from starling.errors import NotFound, Unprocessable
from starling.graph import repository as graph
from starling.graph import service as graph_service
from starling.infra.cache import forget_accounts
from starling.posts import content
from starling.posts import service as posts
from starling.safety import signup
from starling.timelines import service as timelines

USERNAME = re.compile(r"^[A-Za-z0-9_]{1,30}$")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,255}$")
RESERVED = {"admin", "root", "support", "help", "about", "api", "oauth", "settings", "web", "www",
            "postmaster", "webmaster", "abuse", "security", "starling", "system", "instance"}
ACTIVE_WINDOW = timedelta(days=30)

Details = dict[str, list[dict[str, str]]]
_LABELS = {"username": "Username", "email": "Email", "password": "Password", "agreement": "Agreement",
           "locale": "Locale", "reason": "Reason", "invite_code": "Invite code", "proof_of_work": "Proof of work",
           "display_name": "Display name", "note": "Note",
           "fields": "Fields", "source.privacy": "Source privacy", "source.language": "Source language"}


@cache
def _dummy_hash() -> str:
    """A real argon2 hash to verify against when no account matches, so a miss costs what a hit costs."""
    return hash_password(secrets.token_urlsafe(16))


def _add(details: Details, name: str, code: str, description: str) -> None:
    details.setdefault(name, []).append({"error": code, "description": description})


def _raise_if(details: Details) -> None:
    """Mastodon's 422: every problem in one message, and per-field details."""
    if details:
        parts = [f"{_LABELS.get(k, k.capitalize())} {e['description']}"
                 for k, errs in details.items() for e in errs]
        raise Unprocessable("Validation failed: " + ", ".join(parts), details=details)


async def _account_problems(session: AsyncSession, *, username: str, email: str | None, password: str,
                            allow_reserved: bool, email_required: bool) -> Details:
    details: Details = {}
    if not username:
        _add(details, "username", "ERR_BLANK", "can't be blank")
    elif len(username) > 30:
        _add(details, "username", "ERR_TOO_LONG", "is too long (maximum is 30 characters)")
    elif not USERNAME.match(username):
        _add(details, "username", "ERR_INVALID", "must contain only letters, numbers and underscores")
    elif not allow_reserved and username.lower() in RESERVED:
        _add(details, "username", "ERR_RESERVED", "is reserved")
    elif await repository.by_username(session, username):
        _add(details, "username", "ERR_TAKEN", "has already been taken")
    if email is None or email == "":
        if email_required:
            _add(details, "email", "ERR_BLANK", "can't be blank")
    elif not EMAIL.match(email):
        _add(details, "email", "ERR_INVALID", "is invalid")
    elif await repository.by_email(session, email):
        _add(details, "email", "ERR_TAKEN", "has already been taken")
    if not password:
        _add(details, "password", "ERR_BLANK", "can't be blank")
    elif len(password) < MIN_LENGTH:
        _add(details, "password", "ERR_TOO_SHORT", f"is too short (minimum is {MIN_LENGTH} characters)")
    elif len(password) > MAX_LENGTH:
        _add(details, "password", "ERR_TOO_LONG", f"is too long (maximum is {MAX_LENGTH} characters)")
    return details


def _new_account(*, username: str, email: str | None, password: str, role: str, approved: bool,
                 confirmed: bool, reason: str, locale: str, password_hash: str | None = None) -> Account:
    now = clock.utcnow_naive()
    return Account(id=ids.new_id(), username=username, username_lower=username.lower(), email=email or None,
                   password_hash=password_hash or hash_password(password), role=role, approved=approved,
                   confirmed_at=now if confirmed else None, registration_reason=reason, locale=locale,
                   display_name="", note="", note_html="", fields=[], created_at=now)


async def create_account(session: AsyncSession, settings: Settings, *, username: str, email: str | None,
                         password: str, role: str = "user", approved: bool = True, confirmed: bool = True,
                         reason: str = "", locale: str = "en", allow_reserved: bool = True,
                         password_hash: str | None = None) -> Account:
    """Validate and create a local account. Raises Unprocessable with Mastodon-style details.
    `password_hash`, when given, is the argon2 hash of `password` made once for many accounts (demo data)."""
    details = await _account_problems(session, username=username, email=email, password=password,
                                      allow_reserved=allow_reserved, email_required=False)
    _raise_if(details)
    account = _new_account(username=username, email=email, password=password, role=role, approved=approved,
                           confirmed=confirmed, reason=reason, locale=locale, password_hash=password_hash)
    session.add(account)
    await session.flush()
    await timelines.start_home_feed(session, account.id)
    return account


async def register(session: AsyncSession, instance: InstanceSettings, *, application: Application,
                   username: str, email: str, password: str, agreement: bool, locale: str | None,
                   reason: str, invite_code: str = "", ip: str | None = None, pow_challenge: str | None = None,
                   pow_nonce: str | None = None) -> tuple[Account, str, str]:
    """Sign-up through an app (POST /api/v1/accounts), under the instance's registration mode and the
    sign-up defences (safety.signup: blocks, invites, proof of work, email confirmation).

    Returns the account, a token for the app holding the app's scopes, and those scopes. Under
    approval the account exists but cannot act until a moderator approves it."""
    settings = session.info["settings"]
    screening = await signup.screen(session, settings, mode=instance.registrations, email=email, ip=ip,
                                    invite_code=invite_code, pow_challenge=pow_challenge, pow_nonce=pow_nonce)
    details = await _account_problems(session, username=username, email=email, password=password,
                                      allow_reserved=False, email_required=True)
    if not agreement:
        _add(details, "agreement", "ERR_ACCEPTED", "must be accepted")
    if locale and not policy.LOCALE.match(locale):
        _add(details, "locale", "ERR_INCLUSION", "is not included in the list")
    if screening.approval_required and not reason.strip():
        _add(details, "reason", "ERR_BLANK", "can't be blank")
    for name, problems in screening.problems.items():
        details.setdefault(name, []).extend(problems)
    _raise_if(details)
    account = _new_account(username=username, email=email, password=password, role="user",
                           approved=not screening.approval_required,
                           confirmed=not screening.confirmation_required, reason=reason.strip(),
                           locale=(locale or "en").replace("_", "-"))
    session.add(account)
    await session.flush()
    await timelines.start_home_feed(session, account.id)
    await signup.record(session, settings, account_id=account.id, email=email, screening=screening, ip=ip)
    scopes = application.scopes
    raw = await issue_token(session, account_id=account.id, scopes=scopes, application_id=application.id)
    return account, raw, scopes


async def authenticate(session: AsyncSession, login: str, password: str) -> Account | None:
    """The account whose username or email is `login` and whose password is `password`, else None.

    Usability (suspended, awaiting approval) is the caller's question, so it can say which."""
    if not login or not password or len(login) > 320:
        return None
    account = await repository.by_login(session, login.strip())
    if account is None or not account.password_hash:
        verify_password(_dummy_hash(), password)
        return None
    if not verify_password(account.password_hash, password):
        return None
    if needs_rehash(account.password_hash):
        account.password_hash = hash_password(password)
    return account


def unusable_reason(account: Account) -> str | None:
    """Mastodon's words for why an account may not sign in, or None when it may."""
    if account.suspended_at is not None or account.disabled_at is not None:
        return "Your login is currently disabled"
    if not account.approved:
        return "Your login is currently pending approval"
    return None


async def record_sign_in(session: AsyncSession, account_id: int) -> None:
    """Note a sign-in (it counts the account as active this month)."""
    account = await session.get(Account, account_id)
    if account is not None:
        account.current_sign_in_at = clock.utcnow_naive()


async def issue_token(session: AsyncSession, *, account_id: int | None, scopes: str,
                      application_id: int | None = None, created_at: datetime | None = None) -> str:
    """Mint an access token; only its digest is stored. Returns the secret to hand to the client."""
    raw = tokens.new_secret()
    session.add(AccessToken(id=ids.new_id(), token_hash=tokens.digest(raw), account_id=account_id,
                            application_id=application_id, scopes=scopes,
                            created_at=created_at or clock.utcnow_naive()))
    await session.flush()
    return raw


async def ensure_admin(session: AsyncSession, settings: Settings) -> str | None:
    """On first start, create `admin` with a random password and return it (None if an admin exists)."""
    if await repository.any_admin(session):
        return None
    password = secrets.token_urlsafe(15)
    await create_account(session, settings, username="admin", email=f"admin@{settings.domain.split(':')[0]}",
                         password=password, role="admin")
    return password


async def list_accounts(session: AsyncSession) -> list[Account]:
    """Every local account, oldest first."""
    return await repository.all_accounts(session)


# Profiles.

@dataclass
class ProfileChanges:
    """What an update_credentials request asks to change; None leaves a value alone."""

    display_name: str | None = None
    note: str | None = None
    locked: bool | None = None
    bot: bool | None = None
    discoverable: bool | None = None
    indexable: bool | None = None
    hide_collections: bool | None = None
    fields: list[dict[str, str]] | None = None
    privacy: str | None = None
    sensitive: bool | None = None
    language: str | None = None
    avatar_key: str | None = None
    header_key: str | None = None
    avatar_description: str | None = None
    header_description: str | None = None
    attribution_domains: list[str] | None = None
    quote_policy: str | None = None


def normalize_domains(values: list[str]) -> list[str]:
    """Attribution domains as typed: trimmed, lower-cased, a leading `*.` or scheme dropped, no repeats."""
    out = []
    for value in values:
        domain = value.strip().lower().removeprefix("https://").removeprefix("http://").removeprefix("*.")
        domain = domain.rstrip("/")
        if domain and domain not in out:
            out.append(domain)
    return out


def check_profile_changes(changes: ProfileChanges) -> None:
    """Reject a change set Mastodon would reject (422), before any file is stored."""
    details: Details = {}
    if changes.display_name is not None and len(changes.display_name) > policy.DISPLAY_NAME_MAX:
        _add(details, "display_name", "ERR_TOO_LONG",
             f"is too long (maximum is {policy.DISPLAY_NAME_MAX} characters)")
    if changes.note is not None and len(changes.note) > policy.NOTE_MAX:
        _add(details, "note", "ERR_TOO_LONG", f"is too long (maximum is {policy.NOTE_MAX} characters)")
    if changes.fields is not None:
        if len(changes.fields) > policy.FIELDS_MAX:
            _add(details, "fields", "ERR_TOO_LONG", f"size must be at most {policy.FIELDS_MAX}")
        for item in changes.fields:
            if len(item["name"]) > policy.FIELD_NAME_MAX or len(item["value"]) > policy.FIELD_VALUE_MAX:
                _add(details, "fields", "ERR_TOO_LONG",
                     f"name and value are limited to {policy.FIELD_VALUE_MAX} characters")
                break
    for name in ("avatar_description", "header_description"):
        value = getattr(changes, name)
        if value is not None and len(value) > policy.IMAGE_DESCRIPTION_MAX:
            _add(details, name, "ERR_TOO_LONG", f"is too long (maximum is {policy.IMAGE_DESCRIPTION_MAX} characters)")
    if changes.privacy is not None and changes.privacy not in policy.POSTING_PRIVACY:
        _add(details, "source.privacy", "ERR_INCLUSION", "is not included in the list")
    if changes.language and not policy.LANGUAGE.match(changes.language):
        _add(details, "source.language", "ERR_INCLUSION", "is not included in the list")
    if changes.quote_policy is not None and changes.quote_policy not in policy.QUOTE_POLICIES:
        _add(details, "source.quote_policy", "ERR_INCLUSION", "is not included in the list")
    if changes.attribution_domains is not None:
        if len(changes.attribution_domains) > policy.ATTRIBUTION_DOMAINS_MAX:
            _add(details, "attribution_domains", "ERR_TOO_LONG",
                 f"size must be at most {policy.ATTRIBUTION_DOMAINS_MAX}")
        bad = [d for d in changes.attribution_domains if not policy.DOMAIN.match(d)]
        if bad:
            _add(details, "attribution_domains", "ERR_INVALID", f"{bad[0][:100]} is not a valid domain")
    _raise_if(details)


async def _render_fields(session: AsyncSession, settings: Settings, fields: list[dict[str, str]]) -> list[dict]:
    """Stored fields: the typed name and value, and the value as HTML made by the post renderer (links
    with rel="me"; local @names that exist become mentions). One query for every field's @names."""
    candidates = set().union(*(content.mention_candidates(f["value"], settings.domain) for f in fields))
    known = {name: a.username for name, a in (await repository.by_usernames(session, candidates)).items()
             if a.suspended_at is None}
    return [{"name": f["name"], "value": f["value"],
             "value_html": content.render_field_value(f["value"], base_url=settings.base_url,
                                                      domain=settings.domain, accounts=known)}
            for f in fields]


async def update_profile(session: AsyncSession, account_id: int, changes: ProfileChanges, *,
                         settings: Settings) -> Account:
    """Apply checked profile changes to the account and render its note and fields to HTML."""
    check_profile_changes(changes)
    account = await session.get(Account, account_id)
    if account is None:
        raise Unprocessable("This method requires an authenticated user")
    if changes.display_name is not None:
        account.display_name = changes.display_name.strip()
    if changes.note is not None:
        account.note = changes.note
        account.note_html = policy.render_note(changes.note)
    for name in ("locked", "bot", "discoverable", "indexable", "hide_collections"):
        value = getattr(changes, name)
        if value is not None:
            setattr(account, name, value)
    if changes.fields is not None:
        account.fields = await _render_fields(session, settings, changes.fields)
    if changes.privacy is not None:
        account.default_privacy = changes.privacy
    if changes.sensitive is not None:
        account.default_sensitive = changes.sensitive
    if changes.language is not None:
        account.default_language = changes.language or None
    if changes.avatar_key is not None:
        account.avatar_key = changes.avatar_key
    if changes.header_key is not None:
        account.header_key = changes.header_key
    if changes.avatar_description is not None:
        account.avatar_description = changes.avatar_description.strip()
    if changes.header_description is not None:
        account.header_description = changes.header_description.strip()
    if changes.attribution_domains is not None:
        account.attribution_domains = changes.attribution_domains
    if changes.quote_policy is not None:
        account.quote_policy = changes.quote_policy
    forget_accounts(session, account.id)
    await session.flush()
    return account


PROFILE_IMAGES = ("avatar", "header")


async def remove_profile_image(session: AsyncSession, account_id: int, kind: str) -> Account:
    """Go back to the default avatar or header (and drop its description). Doing it twice changes nothing."""
    if kind not in PROFILE_IMAGES:
        raise NotFound()
    account = await session.get(Account, account_id)
    if account is None:
        raise Unprocessable("This method requires an authenticated user")
    setattr(account, f"{kind}_key", None)
    setattr(account, f"{kind}_description", "")
    forget_accounts(session, account.id)
    await session.flush()
    return account


async def follow_requests_count(session: AsyncSession, account_id: int) -> int:
    """Follow requests waiting for `account_id` to answer."""
    return await graph_service.follow_request_count(session, account_id)


# Finding accounts.

async def account(session: AsyncSession, account_id: int) -> Account | None:
    return await repository.by_id(session, account_id)


async def accounts_by_ids(session: AsyncSession, account_ids: list[int]) -> dict[int, Account]:
    """Accounts by id, one query for the lot."""
    return await repository.by_ids(session, account_ids)


def local_username(settings: Settings, acct: str) -> str | None:
    """The username in `acct` (`alice`, `@alice`, `alice@this.domain`); None for another domain."""
    handle = acct.strip().lstrip("@")
    username, _, domain = handle.partition("@")
    if domain:
        ours = settings.domain.lower()
        if domain.lower() not in (ours, ours.split(":")[0]):
            return None
    return username if USERNAME.match(username) else None


async def lookup(session: AsyncSession, settings: Settings, acct: str) -> Account | None:
    """The local account `acct` names, or None."""
    username = local_username(settings, acct)
    return await repository.by_username(session, username) if username else None


async def search(session: AsyncSession, query: str, *, viewer_id: int, limit: int, offset: int,
                 following_only: bool = False) -> list[Account]:
    """Accounts whose username or display name starts with the query; never suspended ones, and never
    one that blocks the viewer or that the viewer blocks."""
    prefix = query.strip().lstrip("@").split("@")[0].strip()
    if not prefix:
        return []
    hidden = await graph.blocked_either_way(session, viewer_id)
    only = await graph.following_ids(session, viewer_id) if following_only else None
    return await repository.search(session, prefix, exclude_ids=hidden, only_ids=only, limit=limit,
                                   offset=offset)


DIRECTORY_ORDERS = ("active", "new")


async def directory(session: AsyncSession, *, viewer_id: int | None, order: str, limit: int,
                    offset: int) -> list[Account]:
    """Mastodon's profile directory: accounts that chose to be discoverable, leaving out anyone the
    viewer blocks or mutes or who blocks the viewer. Every account here is local."""
    if order not in DIRECTORY_ORDERS:
        raise Unprocessable(f"Validation failed: order must be one of {', '.join(DIRECTORY_ORDERS)}")
    hidden: set[int] = set()
    if viewer_id is not None:
        hidden = await graph.blocked_either_way(session, viewer_id) | await graph.muted_ids(session, viewer_id)
    return await repository.directory(session, order=order, exclude_ids=hidden, limit=limit, offset=offset)


@dataclass(frozen=True)
class InstanceStats:
    users: int
    active_month: int
    statuses: int


async def instance_stats(session: AsyncSession) -> InstanceStats:
    """Counts the instance and nodeinfo endpoints publish."""
    since = clock.utcnow_naive() - ACTIVE_WINDOW
    return InstanceStats(users=await repository.user_count(session),
                         active_month=await repository.active_user_count(session, since),
                         statuses=await repository.local_status_count(session))


async def weekly_activity(session: AsyncSession, weeks: int = 12) -> list[dict[str, str]]:
    """Mastodon's instance activity: statuses, logins and sign-ups per week (weeks start Monday 00:00
    UTC), the current week first. Logins count accounts whose latest sign-in fell in the week."""
    now = clock.now()
    monday = (now - timedelta(days=now.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    starts = [monday - timedelta(weeks=n) for n in range(weeks)]
    bounds = [(start, start + timedelta(weeks=1)) for start in starts]
    naive = [(clock.to_naive(a), clock.to_naive(b)) for a, b in bounds]
    id_ranges = [(ids.id_floor(a), ids.id_floor(b)) for a, b in bounds]
    statuses = await posts.count_in_id_ranges(session, id_ranges)
    people = await repository.weekly_sign_ins_and_ups(session, naive)
    return [{"week": str(int(start.timestamp())), "statuses": str(posted), "logins": str(logins),
             "registrations": str(registrations)}
            for start, posted, (logins, registrations) in zip(starts, statuses, people, strict=True)]


async def contact_account(session: AsyncSession) -> Account | None:
    """The account people can write to about the instance: the first admin."""
    return await repository.first_admin(session)
