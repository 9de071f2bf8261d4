"""Trust and safety tables: rate-limit and sign-up records, spam scores, reports, moderation, filters."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from starling.infra.db import Base, BigId
from starling.infra.models_common import created_at_column

# ---- sign-up defences (safety-1) -------------------------------------------------------------------

class Invite(Base):
    """An invite link an admin made: usable `max_uses` times (None: unlimited) until `expires_at`."""

    __tablename__ = "invites"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    max_uses: Mapped[int | None] = mapped_column(Integer)
    uses: Mapped[int] = mapped_column(Integer, default=0)
    comment: Mapped[str] = mapped_column(Text, default="")
    expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = created_at_column()


class IpBlock(Base):
    """An address or CIDR block admins refuse sign-ups from, or send to approval."""

    __tablename__ = "ip_blocks"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    network: Mapped[str] = mapped_column(String(64), unique=True)  # normalised CIDR
    severity: Mapped[str] = mapped_column(String(30))  # sign_up_block | sign_up_requires_approval
    comment: Mapped[str] = mapped_column(Text, default="")
    expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = created_at_column()


class EmailDomainBlock(Base):
    """An email domain (and its subdomains) admins refuse at sign-up, beside the shipped disposable list."""

    __tablename__ = "email_domain_blocks"

    domain: Mapped[str] = mapped_column(String(253), primary_key=True)
    created_at: Mapped[datetime] = created_at_column()


class SignUp(Base):
    """How an account came in: from which address, with which invite. Counts sign-ups per hour."""

    __tablename__ = "sign_ups"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    ip: Mapped[str | None] = mapped_column(String(64))
    invite_id: Mapped[int | None] = mapped_column(ForeignKey("invites.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = created_at_column()


Index("ix_sign_ups_created_at", SignUp.created_at)


# ---- spam scoring, reports, moderation, filters (safety-2) ------------------------------------------

class StatusScore(Base):
    """A post's spam score and the reasons behind it; `quarantined` mirrors the status while it holds."""

    __tablename__ = "status_scores"

    status_id: Mapped[int] = mapped_column(ForeignKey("statuses.id", ondelete="CASCADE"), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    score: Mapped[int] = mapped_column(Integer, default=0)
    reasons: Mapped[list] = mapped_column(JSON, default=list)  # [{"code", "points", "detail"}]
    quarantined: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = created_at_column()


Index("ix_status_scores_account_id", StatusScore.account_id, StatusScore.status_id)


class AccountScore(Base):
    """An account's spam/bot score: the worst of its recent posts plus its behaviour. `flagged_at` is when
    it entered the moderation queue; `cleared_at` when a moderator said it is a person after all."""

    __tablename__ = "account_scores"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    score: Mapped[int] = mapped_column(Integer, default=0)
    reasons: Mapped[list] = mapped_column(JSON, default=list)
    flagged_at: Mapped[datetime | None] = mapped_column(DateTime)
    cleared_at: Mapped[datetime | None] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = created_at_column()


class TextFingerprint(Base):
    """A post's MinHash signature, kept for a window so near-duplicates can be measured."""

    __tablename__ = "text_fingerprints"

    status_id: Mapped[int] = mapped_column(ForeignKey("statuses.id", ondelete="CASCADE"), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = created_at_column()


Index("ix_text_fingerprints_created_at", TextFingerprint.created_at)


class MinHashBand(Base):
    """The LSH index in SQL: one row per (band hash, post). Posts sharing a band hash are candidates."""

    __tablename__ = "minhash_bands"

    band_key: Mapped[int] = mapped_column(BigId, primary_key=True)
    status_id: Mapped[int] = mapped_column(ForeignKey("statuses.id", ondelete="CASCADE"), primary_key=True)
    account_id: Mapped[int] = mapped_column(BigId)
    created_at: Mapped[datetime] = created_at_column()


Index("ix_minhash_bands_status_id", MinHashBand.status_id)
Index("ix_minhash_bands_created_at", MinHashBand.created_at)


class LinkDomain(Base):
    """Every domain linked from a post: when this instance first saw it, and whether admins blocked it."""

    __tablename__ = "link_domains"

    domain: Mapped[str] = mapped_column(String(253), primary_key=True)
    first_seen_at: Mapped[datetime] = created_at_column()
    blocked_at: Mapped[datetime | None] = mapped_column(DateTime)
    note: Mapped[str] = mapped_column(Text, default="")


class ActivityCount(Base):
    """Per-account daily counters of behaviour the graph does not keep (unfollows delete their rows)."""

    __tablename__ = "activity_counts"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)  # follow | unfollow
    count: Mapped[int] = mapped_column(Integer, default=0)


class Report(Base):
    """A report by a person (`account_id`) or an automatic flag (`account_id` None, source "auto")."""

    __tablename__ = "reports"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    target_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    status_ids: Mapped[list] = mapped_column(JSON, default=list)
    comment: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(20), default="other")  # spam | legal | violation | other
    rule_ids: Mapped[list] = mapped_column(JSON, default=list)
    forward: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(10), default="report")  # report | auto
    evidence: Mapped[dict] = mapped_column(JSON, default=dict)
    assigned_account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    action_taken_at: Mapped[datetime | None] = mapped_column(DateTime)
    action_taken_by_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = created_at_column()


Index("ix_reports_open", Report.action_taken_at, Report.id)
Index("ix_reports_target_account_id", Report.target_account_id, Report.id)


class ModerationLogEntry(Base):
    """The audit log: one row per moderator (or automatic) action. Append-only: nothing updates or
    deletes these rows (triggers refuse it on both databases)."""

    __tablename__ = "moderation_log"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    moderator_id: Mapped[int | None] = mapped_column(BigId)  # None: the automatic scorer
    action: Mapped[str] = mapped_column(String(40))
    target_account_id: Mapped[int | None] = mapped_column(BigId)
    target_status_id: Mapped[int | None] = mapped_column(BigId)
    report_id: Mapped[int | None] = mapped_column(BigId)
    reason: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = created_at_column()


Index("ix_moderation_log_target", ModerationLogEntry.target_account_id, ModerationLogEntry.id)


class AccountWarning(Base):
    """The notice an account gets for a moderation action taken against it."""

    __tablename__ = "account_warnings"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text, default="")
    status_ids: Mapped[list] = mapped_column(JSON, default=list)
    report_id: Mapped[int | None] = mapped_column(BigId)
    created_at: Mapped[datetime] = created_at_column()


class Appeal(Base):
    """An account's appeal against one warning (at most one per warning)."""

    __tablename__ = "appeals"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    warning_id: Mapped[int] = mapped_column(ForeignKey("account_warnings.id", ondelete="CASCADE"), unique=True)
    text: Mapped[str] = mapped_column(Text)
    decision: Mapped[str | None] = mapped_column(String(10))  # approved | rejected
    decided_by_id: Mapped[int | None] = mapped_column(BigId)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = created_at_column()


class Filter(Base):
    """A person's keyword filter (Mastodon filters v2)."""

    __tablename__ = "filters"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    contexts: Mapped[list] = mapped_column(JSON, default=list)  # home notifications public thread account
    action: Mapped[str] = mapped_column(String(10), default="warn")  # warn | hide
    expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = created_at_column()


class FilterKeyword(Base):
    __tablename__ = "filter_keywords"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    filter_id: Mapped[int] = mapped_column(ForeignKey("filters.id", ondelete="CASCADE"), index=True)
    keyword: Mapped[str] = mapped_column(String(200))
    whole_word: Mapped[bool] = mapped_column(Boolean, default=True)


class FilterStatus(Base):
    __tablename__ = "filter_statuses"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    filter_id: Mapped[int] = mapped_column(ForeignKey("filters.id", ondelete="CASCADE"))
    status_id: Mapped[int] = mapped_column(ForeignKey("statuses.id", ondelete="CASCADE"))


Index("uq_filter_statuses_filter_status", FilterStatus.filter_id, FilterStatus.status_id, unique=True)
