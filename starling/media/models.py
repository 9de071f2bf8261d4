"""Media attachments: the stored file, its preview, and what a person said about it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from starling.infra.db import Base, BigId
from starling.infra.models_common import created_at_column


class MediaAttachment(Base):
    __tablename__ = "media_attachments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    status_id: Mapped[int | None] = mapped_column(ForeignKey("statuses.id", ondelete="SET NULL"), index=True)
    position: Mapped[int] = mapped_column(SmallInteger, default=0)  # order within its status, as posted
    type: Mapped[str] = mapped_column(String(20), default="image")
    content_type: Mapped[str] = mapped_column(String(50))
    file_key: Mapped[str] = mapped_column(String(200))
    preview_key: Mapped[str] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(Integer, default=0)
    width: Mapped[int] = mapped_column(Integer, default=0)
    height: Mapped[int] = mapped_column(Integer, default=0)
    preview_width: Mapped[int] = mapped_column(Integer, default=0)
    preview_height: Mapped[int] = mapped_column(Integer, default=0)
    blurhash: Mapped[str | None] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    focus_x: Mapped[float] = mapped_column(Float, default=0.0)  # a point in [-1, 1], not money
    focus_y: Mapped[float] = mapped_column(Float, default=0.0)
    created_at: Mapped[datetime] = created_at_column()
