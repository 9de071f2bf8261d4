"""The social graph: follows, follow requests, blocks, mutes and private notes on accounts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Text
from sqlalchemy.orm import Mapped, mapped_column

from starling.infra.db import Base, BigId
from starling.infra.models_common import created_at_column


class Follow(Base):
    __tablename__ = "follows"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    target_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    show_reblogs: Mapped[bool] = mapped_column(Boolean, default=True)
    notify: Mapped[bool] = mapped_column(Boolean, default=False)
    # When the follower endorsed (featured) the account on their profile; an unfollow ends it with the row.
    endorsed_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = created_at_column()


Index("uq_follows_pair", Follow.account_id, Follow.target_account_id, unique=True)
Index("ix_follows_target", Follow.target_account_id, Follow.account_id)


class FollowRequest(Base):
    __tablename__ = "follow_requests"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    target_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    show_reblogs: Mapped[bool] = mapped_column(Boolean, default=True)
    notify: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = created_at_column()


Index("uq_follow_requests_pair", FollowRequest.account_id, FollowRequest.target_account_id, unique=True)
Index("ix_follow_requests_target", FollowRequest.target_account_id, FollowRequest.id)


class Block(Base):
    __tablename__ = "blocks"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    target_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = created_at_column()


Index("uq_blocks_pair", Block.account_id, Block.target_account_id, unique=True)
Index("ix_blocks_target", Block.target_account_id, Block.account_id)


class Mute(Base):
    __tablename__ = "mutes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    target_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    hide_notifications: Mapped[bool] = mapped_column(Boolean, default=True)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = created_at_column()


Index("uq_mutes_pair", Mute.account_id, Mute.target_account_id, unique=True)


class AccountNote(Base):
    """A private note one account keeps about another: only its writer ever reads it."""

    __tablename__ = "account_notes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    target_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    comment: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = created_at_column()
    updated_at: Mapped[datetime] = mapped_column(DateTime)


Index("uq_account_notes_pair", AccountNote.account_id, AccountNote.target_account_id, unique=True)


class SuggestionDismissal(Base):
    """An account someone asked never to be suggested to follow again."""

    __tablename__ = "suggestion_dismissals"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    target_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"),
                                                   primary_key=True)
    created_at: Mapped[datetime] = created_at_column()
