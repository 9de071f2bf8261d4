"""Every query on accounts, applications, tokens and codes."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import and_, bindparam, case, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from starling.accounts.models import (
    AccessToken,
    Account,
    Application,
    AuthorizationCode,
    InstanceSetting,
    LoginAttempt,
    WebSession,
)
from starling.infra.direct import Query


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


async def instance_setting_rows(session: AsyncSession) -> dict[str, object]:
    rows = await session.scalars(select(InstanceSetting))
    return {row.key: row.value for row in rows}


async def put_instance_setting(session: AsyncSession, key: str, value: object) -> None:
    row = await session.get(InstanceSetting, key)
    if row is None:
        session.add(InstanceSetting(key=key, value=value))
    else:
        row.value = value
    await session.flush()


async def by_login(session: AsyncSession, login: str) -> Account | None:
    """The account a sign-in form names: by email when it looks like one, else by username."""
    if "@" in login:
        found = await by_email(session, login)
        if found is not None:
            return found
    return await by_username(session, login.lstrip("@"))


async def first_admin(session: AsyncSession) -> Account | None:
    return await session.scalar(select(Account).where(Account.role == "admin", Account.suspended_at.is_(None))
                                .order_by(Account.id).limit(1))


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def search(session: AsyncSession, prefix: str, *, exclude_ids: set[int], only_ids: set[int] | None,
                 limit: int, offset: int) -> list[Account]:
    """Usable accounts whose username or display name starts with `prefix`; exact username first."""
    needle = prefix.lower()
    pattern = _escape_like(needle) + "%"
    stmt = select(Account).where(
        Account.suspended_at.is_(None), Account.approved.is_(True),
        or_(Account.username_lower.like(pattern, escape="\\"),
            func.lower(Account.display_name).like(pattern, escape="\\")))
    if exclude_ids:
        stmt = stmt.where(Account.id.not_in(exclude_ids))
    if only_ids is not None:
        stmt = stmt.where(Account.id.in_(only_ids))
    stmt = stmt.order_by(case((Account.username_lower == needle, 0), else_=1), Account.followers_count.desc(),
                         Account.id).offset(offset).limit(limit)
    return list(await session.scalars(stmt))


async def directory(session: AsyncSession, *, order: str, exclude_ids: set[int], limit: int,
                    offset: int) -> list[Account]:
    """Usable, discoverable accounts: most recently posting first ("active"; those who never posted
    last), or newest first ("new")."""
    stmt = select(Account).where(Account.suspended_at.is_(None), Account.disabled_at.is_(None),
                                 Account.approved.is_(True), Account.discoverable.is_(True))
    if exclude_ids:
        stmt = stmt.where(Account.id.not_in(exclude_ids))
    if order == "new":
        stmt = stmt.order_by(Account.created_at.desc(), Account.id.desc())
    else:
        stmt = stmt.order_by(Account.last_status_at.is_(None), Account.last_status_at.desc(), Account.id.desc())
    return list(await session.scalars(stmt.offset(offset).limit(limit)))


async def user_count(session: AsyncSession) -> int:
    return await session.scalar(select(func.count()).select_from(Account).where(
        Account.suspended_at.is_(None), Account.approved.is_(True))) or 0


async def active_user_count(session: AsyncSession, since: datetime) -> int:
    """Usable accounts that signed in or posted since `since`."""
    return await session.scalar(select(func.count()).select_from(Account).where(
        Account.suspended_at.is_(None), Account.approved.is_(True),
        or_(Account.current_sign_in_at >= since, Account.last_status_at >= since))) or 0


async def local_status_count(session: AsyncSession) -> int:
    """Statuses by local accounts, from the per-account counters (no scan of the statuses table)."""
    return await session.scalar(select(func.coalesce(func.sum(Account.statuses_count), 0))
                                .where(Account.suspended_at.is_(None))) or 0


# Applications, codes and tokens.

async def application_by_client_id(session: AsyncSession, client_id: str) -> Application | None:
    return await session.scalar(select(Application).where(Application.client_id == client_id))


async def application_by_id(session: AsyncSession, application_id: int) -> Application | None:
    return await session.get(Application, application_id)


async def code_by_hash(session: AsyncSession, code_hash: str) -> AuthorizationCode | None:
    return await session.scalar(select(AuthorizationCode).where(AuthorizationCode.code_hash == code_hash))


async def claim_code(session: AsyncSession, code_id: int, now: datetime) -> bool:
    """Mark a code used unless it already was; False when another request got there first."""
    result = await session.execute(
        update(AuthorizationCode)
        .where(AuthorizationCode.id == code_id, AuthorizationCode.used_at.is_(None))
        .values(used_at=now))
    return result.rowcount == 1


async def token_by_hash(session: AsyncSession, token_hash: str) -> AccessToken | None:
    return await session.scalar(select(AccessToken).where(AccessToken.token_hash == token_hash))


async def revoke_token(session: AsyncSession, token_id: int, now: datetime) -> None:
    await session.execute(update(AccessToken)
                          .where(AccessToken.id == token_id, AccessToken.revoked_at.is_(None))
                          .values(revoked_at=now))


async def revoke_tokens_issued_at(session: AsyncSession, *, application_id: int, account_id: int,
                                  issued_at: datetime, now: datetime) -> None:
    """Revoke the tokens an application got for an account at one moment (what a replayed code bought)."""
    await session.execute(update(AccessToken).where(and_(
        AccessToken.application_id == application_id, AccessToken.account_id == account_id,
        AccessToken.created_at == issued_at, AccessToken.revoked_at.is_(None))).values(revoked_at=now))


# --- direct reads (see infra.direct) -------------------------------------------------------------------

ACCOUNT_COLUMNS = tuple(Account.__table__.columns)

# A bearer token by digest, whether it is live now, whether its account may act, and the account's row.
LIVE_TOKEN = Query(
    select(AccessToken.id.label("token_id"), AccessToken.application_id, AccessToken.scopes,
           AccessToken.account_id,
           and_(AccessToken.revoked_at.is_(None),
                or_(AccessToken.expires_at.is_(None), AccessToken.expires_at > bindparam("now"))).label("live"),
           Account.approved.label("approved"),
           and_(Account.suspended_at.is_(None), Account.disabled_at.is_(None)).label("active"),
           *ACCOUNT_COLUMNS)
    .outerjoin(Account, Account.id == AccessToken.account_id)
    .where(AccessToken.token_hash == bindparam("digest")))

# What the Account entity shows of other people (no `source`), for a page of authors.
PROFILES = Query(
    select(Account.id, Account.username, Account.display_name, Account.locked, Account.bot, Account.discoverable,
           Account.indexable, Account.created_at, Account.note_html, Account.avatar_key, Account.header_key,
           Account.followers_count, Account.following_count, Account.statuses_count, Account.last_status_at,
           Account.fields, Account.suspended_at, Account.hide_collections, Account.avatar_description,
           Account.header_description)
    .where(Account.id.in_(bindparam("ids", expanding=True))))


async def login_attempt_counts(session: AsyncSession, ip_key: str, login_key: str,
                               since: datetime) -> tuple[int, int]:
    """Attempts from `ip_key`, and failed attempts on `login_key`, since `since` (one round trip)."""
    by_ip = (select(func.count()).select_from(LoginAttempt)
             .where(LoginAttempt.ip_key == ip_key, LoginAttempt.created_at >= since).scalar_subquery())
    failures = (select(func.count()).select_from(LoginAttempt)
                .where(LoginAttempt.login_key == login_key, LoginAttempt.created_at >= since,
                       LoginAttempt.succeeded.is_(False)).scalar_subquery())
    row = (await session.execute(select(by_ip, failures))).one()
    return int(row[0]), int(row[1])


async def forget_login_attempts(session: AsyncSession, ip_key: str, before: datetime) -> None:
    await session.execute(delete(LoginAttempt).where(LoginAttempt.ip_key == ip_key, LoginAttempt.created_at < before))


async def weekly_sign_ins_and_ups(session: AsyncSession,
                                  weeks: list[tuple[datetime, datetime]]) -> list[tuple[int, int]]:
    """(logins, registrations) for each [start, end) week, in one round trip."""
    columns = []
    for start, end in weeks:
        columns.append(select(func.count()).select_from(Account).where(
            Account.current_sign_in_at >= start, Account.current_sign_in_at < end).scalar_subquery())
        columns.append(select(func.count()).select_from(Account).where(
            Account.created_at >= start, Account.created_at < end).scalar_subquery())
    row = (await session.execute(select(*columns))).one()
    return [(int(row[i]), int(row[i + 1])) for i in range(0, len(row), 2)]


# --- the admin area and one's authorised apps --------------------------------------------------------

ADMIN_ACCOUNT_FILTERS = ("all", "active", "suspended", "pending", "staff")


async def admin_accounts_page(session: AsyncSession, *, query: str, status: str, max_id: int | None,
                              limit: int) -> list[Account]:
    """Accounts for the admin list, newest first: `query` matches anywhere in the username, the display
    name or the email; `status` is one of ADMIN_ACCOUNT_FILTERS."""
    stmt = select(Account)
    needle = query.strip().lstrip("@").lower()
    if needle:
        pattern = "%" + _escape_like(needle) + "%"
        stmt = stmt.where(or_(Account.username_lower.like(pattern, escape="\\"),
                              func.lower(Account.display_name).like(pattern, escape="\\"),
                              func.lower(Account.email).like(pattern, escape="\\")))
    if status == "active":
        stmt = stmt.where(Account.suspended_at.is_(None), Account.approved.is_(True))
    elif status == "suspended":
        stmt = stmt.where(Account.suspended_at.is_not(None))
    elif status == "pending":
        stmt = stmt.where(Account.approved.is_(False), Account.suspended_at.is_(None))
    elif status == "staff":
        stmt = stmt.where(Account.role.in_(("admin", "moderator")))
    if max_id is not None:
        stmt = stmt.where(Account.id < max_id)
    return list(await session.scalars(stmt.order_by(Account.id.desc()).limit(limit)))


async def account_counts(session: AsyncSession, since: datetime) -> dict[str, int]:
    """Every count the admin overview shows about accounts, in one round trip."""
    def count(*where):
        return select(func.count()).select_from(Account).where(*where).scalar_subquery()
    usable = (Account.suspended_at.is_(None), Account.approved.is_(True))
    row = (await session.execute(select(
        count(),
        count(*usable),
        count(*usable, or_(Account.current_sign_in_at >= since, Account.last_status_at >= since)),
        count(Account.suspended_at.is_not(None)),
        count(Account.approved.is_(False), Account.suspended_at.is_(None)),
        count(Account.created_at >= since),
        select(func.coalesce(func.sum(Account.statuses_count), 0)).where(Account.suspended_at.is_(None))
        .scalar_subquery(),
    ))).one()
    keys = ("total", "usable", "active", "suspended", "pending", "new", "statuses")
    return {key: int(value or 0) for key, value in zip(keys, row, strict=True)}


async def revoke_account_tokens(session: AsyncSession, account_id: int, now: datetime) -> int:
    """Revoke every live token of an account."""
    result = await session.execute(update(AccessToken).where(
        AccessToken.account_id == account_id, AccessToken.revoked_at.is_(None)).values(revoked_at=now))
    return result.rowcount or 0


async def revoke_app_tokens(session: AsyncSession, account_id: int, application_id: int | None,
                            now: datetime) -> int:
    """Revoke an account's live tokens from one application (None: those issued without one)."""
    from_app = (AccessToken.application_id.is_(None) if application_id is None
                else AccessToken.application_id == application_id)
    result = await session.execute(update(AccessToken).where(
        AccessToken.account_id == account_id, AccessToken.revoked_at.is_(None), from_app).values(revoked_at=now))
    return result.rowcount or 0


async def live_tokens_with_apps(session: AsyncSession, account_id: int,
                                now: datetime) -> list[tuple[AccessToken, Application | None]]:
    """The account's live tokens, each with its application, newest first (one query)."""
    rows = await session.execute(
        select(AccessToken, Application)
        .outerjoin(Application, Application.id == AccessToken.application_id)
        .where(AccessToken.account_id == account_id, AccessToken.revoked_at.is_(None),
               or_(AccessToken.expires_at.is_(None), AccessToken.expires_at > now))
        .order_by(AccessToken.id.desc()).limit(1_000))
    return [(token, app) for token, app in rows.all()]


async def live_web_sessions(session: AsyncSession, account_id: int, now: datetime) -> list[WebSession]:
    """The account's unexpired browser sessions, most recently seen first."""
    return list(await session.scalars(
        select(WebSession).where(WebSession.account_id == account_id, WebSession.expires_at > now)
        .order_by(WebSession.last_seen_at.desc(), WebSession.id.desc()).limit(200)))


async def delete_web_session(session: AsyncSession, account_id: int, session_id: int) -> bool:
    result = await session.execute(delete(WebSession).where(
        WebSession.account_id == account_id, WebSession.id == session_id))
    return (result.rowcount or 0) > 0
