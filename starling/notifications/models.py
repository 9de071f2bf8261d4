"""Notifications and read-position markers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from starling.infra.db import Base, BigId
from starling.infra.models_common import created_at_column


class Notification(Base):
    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    from_account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(30))
    status_id: Mapped[int | None] = mapped_column(ForeignKey("statuses.id", ondelete="CASCADE"), index=True)
    # Makes creation idempotent: a retried job finds the same key and adds nothing.
    dedupe_key: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = created_at_column()


Index("ix_notifications_account_id_id", Notification.account_id, Notification.id)
Index("uq_notifications_dedupe", Notification.account_id, Notification.dedupe_key, unique=True)


class Marker(Base):
    __tablename__ = "markers"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    timeline: Mapped[str] = mapped_column(String(20), primary_key=True)
    last_read_id: Mapped[int] = mapped_column(BigId, default=0)
    version: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
