"""OAuth 2.0 as Mastodon clients use it: applications, authorization codes with PKCE, the token
grants (authorization_code, password, client_credentials) and revocation. Secrets are stored only as
SHA-256 digests; a code is single-use, claimed in the same transaction that mints its token."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from starling import clock, ids
from starling.accounts import policy, repository, service, throttle, tokens
from starling.accounts.models import Account, Application, AuthorizationCode
from starling.config import Settings
from starling.errors import StarlingError, Unprocessable

CODE_TTL = timedelta(minutes=10)
GRANT_TYPES = ("authorization_code", "password", "client_credentials")


class OAuthError(StarlingError):
    """An error in RFC 6749's own shape: {"error": code, "error_description": ...}."""

    def __init__(self, code: str, description: str, *, status: int = 400):
        super().__init__(description, internal=f"{code}: {description}")
        self.code = code
        self.status = status

    def body(self) -> dict[str, str]:
        return {"error": self.code, "error_description": self.message}


INVALID_GRANT = ("The provided authorization grant is invalid, expired, revoked, does not match the "
                 "redirection URI used in the authorization request, or was issued to another client.")
INVALID_CLIENT = ("Client authentication failed due to unknown client, no client authentication included, "
                  "or unsupported authentication method.")
INVALID_SCOPE = "The requested scope is invalid, unknown, or malformed."


def redirect_uris_of(app: Application) -> list[str]:
    return [uri for uri in app.redirect_uris.split("\n") if uri]


def scopes_of(app: Application) -> list[str]:
    return app.scopes.split()


async def create_application(session: AsyncSession, *, name: str, redirect_uris: list[str], scopes: list[str],
                             website: str | None, owner_account_id: int | None = None
                             ) -> tuple[Application, str]:
    """Register a client. Returns the application and its secret (shown once, stored hashed)."""
    problems: list[str] = []
    if not name.strip():
        problems.append("Name can't be blank")
    elif len(name) > policy.APP_NAME_MAX:
        problems.append(f"Name is too long (maximum is {policy.APP_NAME_MAX} characters)")
    if not redirect_uris:
        problems.append("Redirect URI can't be blank")
    elif len(redirect_uris) > policy.REDIRECT_URIS_MAX:
        problems.append(f"Redirect URI is limited to {policy.REDIRECT_URIS_MAX} entries")
    for uri in redirect_uris[:policy.REDIRECT_URIS_MAX]:
        problem = policy.redirect_uri_problem(uri)
        if problem:
            problems.append(f"Redirect URI {problem}")
            break
    if website:
        problem = policy.website_problem(website)
        if problem:
            problems.append(f"Website {problem}")
    if problems:
        raise Unprocessable("Validation failed: " + ", ".join(problems))
    secret = tokens.new_secret()
    app = Application(id=ids.new_id(), name=name.strip(), website=website or None,
                      redirect_uris="\n".join(redirect_uris), scopes=" ".join(scopes),
                      client_id=secrets.token_urlsafe(32), client_secret_hash=tokens.digest(secret),
                      owner_account_id=owner_account_id, created_at=clock.utcnow_naive())
    session.add(app)
    await session.flush()
    return app, secret


async def application(session: AsyncSession, application_id: int) -> Application | None:
    return await repository.application_by_id(session, application_id)


async def authenticate_client(session: AsyncSession, client_id: str | None, client_secret: str | None
                              ) -> Application:
    """The application proving itself with its id and secret; invalid_client (401) otherwise."""
    app = await repository.application_by_client_id(session, client_id) if client_id else None
    # Compare against something even for an unknown client, so both take the same time.
    stored = app.client_secret_hash if app is not None else tokens.digest(secrets.token_urlsafe(8))
    if app is None or not client_secret or not tokens.matches(client_secret, stored):
        raise OAuthError("invalid_client", INVALID_CLIENT, status=401)
    return app


def _parse_scopes(raw: str | None, app: Application) -> list[str]:
    try:
        requested = tokens.parse_scopes(raw, default="read")
    except ValueError:
        raise OAuthError("invalid_scope", INVALID_SCOPE) from None
    if not requested or not policy.scopes_within(requested, scopes_of(app)):
        raise OAuthError("invalid_scope", INVALID_SCOPE)
    return requested


@dataclass(frozen=True)
class AuthorizationRequest:
    """A checked /oauth/authorize request, ready to be shown and consented to."""

    app: Application
    redirect_uri: str
    scopes: list[str]
    state: str | None
    code_challenge: str | None
    code_challenge_method: str | None

    @property
    def out_of_band(self) -> bool:
        return self.redirect_uri == policy.OOB


class AuthorizeError(OAuthError):
    """An authorize request that fails. When the client and redirect URI are trusted the error goes
    back to the client by redirect (RFC 6749 4.1.2.1); otherwise it is shown, never redirected."""

    def __init__(self, code: str, description: str, *, redirect_uri: str | None = None,
                 state: str | None = None):
        super().__init__(code, description)
        self.redirect_uri = redirect_uri
        self.state = state


async def check_authorization_request(session: AsyncSession, *, client_id: str | None,
                                      redirect_uri: str | None, response_type: str | None,
                                      scope: str | None, state: str | None,
                                      code_challenge: str | None, code_challenge_method: str | None
                                      ) -> AuthorizationRequest:
    """Validate what a client asks the authorize page for."""
    app = await repository.application_by_client_id(session, client_id) if client_id else None
    if app is None:
        raise AuthorizeError("invalid_client", INVALID_CLIENT)
    allowed = redirect_uris_of(app)
    if redirect_uri is None and len(allowed) == 1:
        redirect_uri = allowed[0]
    if not redirect_uri or redirect_uri not in allowed:
        raise AuthorizeError("invalid_redirect_uri",
                             "The redirect URI included is not valid.")
    back = {"redirect_uri": None if redirect_uri == policy.OOB else redirect_uri, "state": state}
    if response_type != "code":
        raise AuthorizeError("unsupported_response_type",
                             "The authorization server does not support this response type.", **back)
    try:
        scopes = _parse_scopes(scope, app)
    except OAuthError as exc:
        raise AuthorizeError(exc.code, exc.message, **back) from None
    if code_challenge is not None or code_challenge_method is not None:
        if code_challenge_method != "S256":
            raise AuthorizeError("invalid_request",
                                 "Only the S256 code challenge method is supported.", **back)
        if not code_challenge or not policy.pkce_challenge_valid(code_challenge):
            raise AuthorizeError("invalid_request", "The code challenge is malformed.", **back)
    return AuthorizationRequest(app=app, redirect_uri=redirect_uri, scopes=scopes, state=state,
                                code_challenge=code_challenge, code_challenge_method=code_challenge_method)


async def issue_authorization_code(session: AsyncSession, request: AuthorizationRequest,
                                   account: Account) -> str:
    """The code a consenting account hands to the client: single use, valid for ten minutes."""
    raw = tokens.new_secret()
    now = clock.utcnow_naive()
    session.add(AuthorizationCode(
        id=ids.new_id(), code_hash=tokens.digest(raw), application_id=request.app.id, account_id=account.id,
        redirect_uri=request.redirect_uri, scopes=" ".join(request.scopes),
        code_challenge=request.code_challenge, code_challenge_method=request.code_challenge_method,
        created_at=now, expires_at=now + CODE_TTL))
    await service.record_sign_in(session, account.id)
    await session.flush()
    return raw


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    scopes: str
    created_at: datetime

    def body(self) -> dict:
        return {"access_token": self.access_token, "token_type": "Bearer", "scope": self.scopes,
                "created_at": int(self.created_at.timestamp())}


async def _mint(session: AsyncSession, app: Application, account_id: int | None, scopes: str,
                at: datetime | None = None) -> IssuedToken:
    moment = at or clock.utcnow_naive()
    raw = await service.issue_token(session, account_id=account_id, scopes=scopes, application_id=app.id,
                                    created_at=moment)
    return IssuedToken(access_token=raw, scopes=scopes, created_at=moment.replace(tzinfo=UTC))


async def redeem_authorization_code(session: AsyncSession, app: Application, *, code: str | None,
                                    redirect_uri: str | None, code_verifier: str | None) -> IssuedToken:
    """Exchange a code for a token. The code is claimed in this transaction; a replay revokes what
    the code bought the first time (RFC 6749 section 4.1.2)."""
    if not code:
        raise OAuthError("invalid_request", "The request is missing a required parameter: code.")
    row = await repository.code_by_hash(session, tokens.digest(code))
    now = clock.utcnow_naive()
    if row is None or row.application_id != app.id:
        raise OAuthError("invalid_grant", INVALID_GRANT)
    if row.used_at is not None:
        await repository.revoke_tokens_issued_at(session, application_id=app.id, account_id=row.account_id,
                                                 issued_at=row.used_at, now=now)
        raise OAuthError("invalid_grant", INVALID_GRANT)
    if row.expires_at <= now or redirect_uri != row.redirect_uri:
        raise OAuthError("invalid_grant", INVALID_GRANT)
    if row.code_challenge and not policy.pkce_verifies(code_verifier, row.code_challenge):
        raise OAuthError("invalid_grant", INVALID_GRANT)
    account = await session.get(Account, row.account_id)
    if account is None or service.unusable_reason(account):
        raise OAuthError("invalid_grant", INVALID_GRANT)
    if not await repository.claim_code(session, row.id, now):
        raise OAuthError("invalid_grant", INVALID_GRANT)
    return await _mint(session, app, account.id, row.scopes, at=now)


async def password_grant(session: AsyncSession, settings: Settings, app: Application, *, username: str | None,
                         password: str | None, scope: str | None, ip: str | None) -> IssuedToken:
    """The resource owner password grant: username or email plus password, for the app's scopes.
    Throttled like the sign-in page (per address, and per login on failures)."""
    if not settings.password_grant:
        raise OAuthError("unsupported_grant_type",
                         "The authorization grant type is not supported by the authorization server.")
    scopes = _parse_scopes(scope, app)
    await throttle.check(session, settings, ip=ip, login=username or "")
    account = await service.authenticate(session, username or "", password or "")
    await throttle.record(session, settings, ip=ip, login=username or "", succeeded=account is not None)
    if account is None:
        raise OAuthError("invalid_grant", INVALID_GRANT)
    reason = service.unusable_reason(account)
    if reason:
        raise OAuthError("invalid_grant", reason)
    await service.record_sign_in(session, account.id)
    return await _mint(session, app, account.id, " ".join(scopes))


async def client_credentials_grant(session: AsyncSession, app: Application, *,
                                   scope: str | None) -> IssuedToken:
    """An app-level token that acts for no account."""
    scopes = _parse_scopes(scope, app)
    return await _mint(session, app, None, " ".join(scopes))


async def revoke(session: AsyncSession, app: Application, raw_token: str | None) -> None:
    """Revoke a token the app holds. Unknown tokens are fine (RFC 7009); another app's are not."""
    if not raw_token:
        raise OAuthError("invalid_request", "The request is missing a required parameter: token.")
    token = await repository.token_by_hash(session, tokens.digest(raw_token))
    if token is None:
        return
    if token.application_id != app.id:
        raise OAuthError("unauthorized_client", "You are not authorized to revoke this token", status=403)
    await repository.revoke_token(session, token.id, clock.utcnow_naive())
