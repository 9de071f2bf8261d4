"""The home feed store (SQL side) and lists."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from starling.infra.db import Base, BigId
from starling.infra.models_common import created_at_column


class HomeFeedEntry(Base):
    """One status in one account's precomputed home feed (fan-out on write)."""

    __tablename__ = "home_feed"

    account_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    status_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    author_id: Mapped[int] = mapped_column(BigId)


# Deleting a status takes it out of every feed: that lookup goes by status.
Index("ix_home_feed_status_id", HomeFeedEntry.status_id)


class List(Base):
    __tablename__ = "lists"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    replies_policy: Mapped[str] = mapped_column(String(20), default="list")
    exclusive: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = created_at_column()


class ListAccount(Base):
    __tablename__ = "list_accounts"

    list_id: Mapped[int] = mapped_column(ForeignKey("lists.id", ondelete="CASCADE"), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True,
                                            index=True)
