"""Accounts (the profile and the local login in one row), OAuth applications, tokens and codes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from starling.infra.db import Base, BigId
from starling.infra.models_common import created_at_column


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    username: Mapped[str] = mapped_column(String(30))
    username_lower: Mapped[str] = mapped_column(String(30), unique=True)
    display_name: Mapped[str] = mapped_column(String(100), default="")
    note: Mapped[str] = mapped_column(Text, default="")  # the source the person typed
    note_html: Mapped[str] = mapped_column(Text, default="")
    fields: Mapped[list] = mapped_column(JSON, default=list)
    avatar_key: Mapped[str | None] = mapped_column(String(200))
    header_key: Mapped[str | None] = mapped_column(String(200))
    # Alt text for the profile images (Mastodon 4.4's avatar_description / header_description).
    avatar_description: Mapped[str] = mapped_column(String(1500), default="", server_default="")
    header_description: Mapped[str] = mapped_column(String(1500), default="", server_default="")
    # Sites allowed to credit this person as the author of their articles (Mastodon 4.4), and who may
    # quote their posts by default (Mastodon 4.5's source.quote_policy). Kept and returned; Starling has
    # neither link previews nor quotes yet, so neither changes anything else.
    attribution_domains: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")
    quote_policy: Mapped[str] = mapped_column(String(10), default="public", server_default="public")
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    bot: Mapped[bool] = mapped_column(Boolean, default=False)
    discoverable: Mapped[bool] = mapped_column(Boolean, default=True)
    indexable: Mapped[bool] = mapped_column(Boolean, default=True)
    hide_collections: Mapped[bool] = mapped_column(Boolean, default=False)  # followers/following lists
    role: Mapped[str] = mapped_column(String(20), default="user")  # user | moderator | admin
    created_at: Mapped[datetime] = created_at_column()
    suspended_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Moderation (safety.moderation): limited (hidden from non-followers), media forced sensitive,
    # login disabled.
    silenced_at: Mapped[datetime | None] = mapped_column(DateTime)
    sensitized_at: Mapped[datetime | None] = mapped_column(DateTime)
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Whether the account keeps any keyword filter (kept by safety.filters in the same transaction as the
    # filters): read with the token, it spares every home page a query for the many who keep none.
    has_filters: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    last_status_at: Mapped[datetime | None] = mapped_column(DateTime)
    followers_count: Mapped[int] = mapped_column(Integer, default=0)
    following_count: Mapped[int] = mapped_column(Integer, default=0)
    statuses_count: Mapped[int] = mapped_column(Integer, default=0)

    # Local login.
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(200))
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime)
    approved: Mapped[bool] = mapped_column(Boolean, default=True)
    registration_reason: Mapped[str] = mapped_column(Text, default="")
    locale: Mapped[str] = mapped_column(String(10), default="en")
    current_sign_in_at: Mapped[datetime | None] = mapped_column(DateTime)

    # Posting preferences.
    default_privacy: Mapped[str] = mapped_column(String(10), default="public")
    default_sensitive: Mapped[bool] = mapped_column(Boolean, default=False)
    default_language: Mapped[str | None] = mapped_column(String(10))

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_moderator(self) -> bool:
        return self.role in ("admin", "moderator")

    @property
    def usable(self) -> bool:
        """May log in and act: not suspended, and approved when approval is required."""
        return self.suspended_at is None and self.disabled_at is None and self.approved


class Application(Base):
    __tablename__ = "oauth_applications"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    website: Mapped[str | None] = mapped_column(String(500))
    redirect_uris: Mapped[str] = mapped_column(Text)  # one per line, matched exactly
    scopes: Mapped[str] = mapped_column(String(500), default="read")
    client_id: Mapped[str] = mapped_column(String(100), unique=True)
    client_secret_hash: Mapped[str] = mapped_column(String(100))
    owner_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = created_at_column()


class AccessToken(Base):
    __tablename__ = "oauth_access_tokens"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(100), unique=True)
    application_id: Mapped[int | None] = mapped_column(
        ForeignKey("oauth_applications.id", ondelete="CASCADE"), index=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    scopes: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = created_at_column()
    expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)


class AuthorizationCode(Base):
    __tablename__ = "oauth_authorization_codes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(100), unique=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("oauth_applications.id", ondelete="CASCADE"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    redirect_uri: Mapped[str] = mapped_column(Text)
    scopes: Mapped[str] = mapped_column(String(500))
    code_challenge: Mapped[str | None] = mapped_column(String(200))
    code_challenge_method: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[datetime] = created_at_column()
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)


class LoginAttempt(Base):
    """One sign-in attempt (password grant or the sign-in page), kept briefly to throttle guessing."""

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ip_key: Mapped[str] = mapped_column(String(64))  # the address, or its /64 for IPv6
    login_key: Mapped[str] = mapped_column(String(320))  # the username or email tried, lower-cased
    succeeded: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = created_at_column()


Index("ix_login_attempts_ip", LoginAttempt.ip_key, LoginAttempt.created_at)
Index("ix_login_attempts_login", LoginAttempt.login_key, LoginAttempt.created_at)


class WebSession(Base):
    """A browser signed in to the web app. The cookie holds a random token; only its digest is kept."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = created_at_column()
    last_seen_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    user_agent: Mapped[str] = mapped_column(String(200), default="")


class InstanceSetting(Base):
    """Admin-editable instance options; the typed view lives in accounts.instance."""

    __tablename__ = "instance_settings"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[object] = mapped_column(JSON)


Index("ix_accounts_created", Account.created_at)
# The profile directory's "active" order.
Index("ix_accounts_last_status_at", Account.last_status_at)
# Home merges the followed accounts above the fan-out threshold at read time: found by this, not by
# looking at every account the reader follows.
Index("ix_accounts_followers_count", Account.followers_count)
# A new report notifies every moderator and admin (safety.moderation): found by this, not by a scan.
Index("ix_accounts_role", Account.role)
