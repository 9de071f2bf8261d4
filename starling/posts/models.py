"""Statuses (posts and boosts), their edits, mentions, hashtags, favourites, bookmarks and pins."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Index, Integer, SmallInteger, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from starling.infra.db import Base, BigId
from starling.infra.models_common import created_at_column

VISIBILITIES = ("public", "unlisted", "private", "direct")
PUBLIC, UNLISTED, PRIVATE, DIRECT = range(4)


class Status(Base):
    __tablename__ = "statuses"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    text: Mapped[str] = mapped_column(Text, default="")  # source as typed
    content: Mapped[str] = mapped_column(Text, default="")  # sanitised HTML
    spoiler_text: Mapped[str] = mapped_column(Text, default="")
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False)
    visibility: Mapped[int] = mapped_column(SmallInteger, default=PUBLIC)
    language: Mapped[str | None] = mapped_column(String(10))
    in_reply_to_id: Mapped[int | None] = mapped_column(BigId)
    in_reply_to_account_id: Mapped[int | None] = mapped_column(BigId)
    reblog_of_id: Mapped[int | None] = mapped_column(ForeignKey("statuses.id", ondelete="CASCADE"))
    conversation_id: Mapped[int | None] = mapped_column(BigId)
    application_id: Mapped[int | None] = mapped_column(BigId)
    poll: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = created_at_column()
    edited_at: Mapped[datetime | None] = mapped_column(DateTime)
    replies_count: Mapped[int] = mapped_column(Integer, default=0)
    reblogs_count: Mapped[int] = mapped_column(Integer, default=0)
    favourites_count: Mapped[int] = mapped_column(Integer, default=0)
    # Held back by the spam scorer or a moderator: only its author sees it (safety.scoring decides).
    quarantined: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    @property
    def visibility_name(self) -> str:
        return VISIBILITIES[self.visibility]


Index("ix_statuses_account_id_id", Status.account_id, Status.id)
Index("ix_statuses_in_reply_to_id", Status.in_reply_to_id)
Index("ix_statuses_visibility_id", Status.visibility, Status.id)
Index("uq_statuses_reblog", Status.account_id, Status.reblog_of_id, unique=True,
      sqlite_where=Status.reblog_of_id.isnot(None), postgresql_where=Status.reblog_of_id.isnot(None))
Index("ix_statuses_reblog_of_id", Status.reblog_of_id)
# Muting a conversation asks whether the muter took part in it (posts.service.mute_conversation).
Index("ix_statuses_conversation_id", Status.conversation_id)


class StatusEdit(Base):
    """One version in a status's edit history (the first is the original)."""

    __tablename__ = "status_edits"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    status_id: Mapped[int] = mapped_column(ForeignKey("statuses.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    content: Mapped[str] = mapped_column(Text)
    spoiler_text: Mapped[str] = mapped_column(Text, default="")
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False)
    media_ids: Mapped[list] = mapped_column(JSON, default=list)
    poll: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = created_at_column()


class Mention(Base):
    __tablename__ = "mentions"

    status_id: Mapped[int] = mapped_column(ForeignKey("statuses.id", ondelete="CASCADE"), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)


Index("ix_mentions_account_id", Mention.account_id, Mention.status_id)


class Tag(Base):
    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)  # lower-case
    display_name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = created_at_column()


class StatusTag(Base):
    __tablename__ = "status_tags"

    status_id: Mapped[int] = mapped_column(ForeignKey("statuses.id", ondelete="CASCADE"), primary_key=True)
    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True)


Index("ix_status_tags_tag_id_status_id", StatusTag.tag_id, StatusTag.status_id)


class Favourite(Base):
    __tablename__ = "favourites"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    status_id: Mapped[int] = mapped_column(ForeignKey("statuses.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = created_at_column()


Index("uq_favourites_account_status", Favourite.account_id, Favourite.status_id, unique=True)


class Bookmark(Base):
    __tablename__ = "bookmarks"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    status_id: Mapped[int] = mapped_column(ForeignKey("statuses.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = created_at_column()


Index("uq_bookmarks_account_status", Bookmark.account_id, Bookmark.status_id, unique=True)


class Pin(Base):
    __tablename__ = "pins"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    status_id: Mapped[int] = mapped_column(ForeignKey("statuses.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = created_at_column()


Index("uq_pins_account_status", Pin.account_id, Pin.status_id, unique=True)


class ConversationMute(Base):
    """An account muted a conversation (a thread, by its root's id): no notifications from it reach
    them, and its statuses show `muted` to them."""

    __tablename__ = "conversation_mutes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    conversation_id: Mapped[int] = mapped_column(BigId)
    created_at: Mapped[datetime] = created_at_column()


# Conversation first: notifications ask "who among these muted conversation X", pages ask "did the
# viewer mute X"; both are answered by this one index.
Index("uq_conversation_mutes_pair", ConversationMute.conversation_id, ConversationMute.account_id, unique=True)


class IdempotencyKey(Base):
    """A client's Idempotency-Key for a status it created, so a retried request never posts twice."""

    __tablename__ = "idempotency_keys"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    status_id: Mapped[int] = mapped_column(BigId)
    created_at: Mapped[datetime] = created_at_column()
