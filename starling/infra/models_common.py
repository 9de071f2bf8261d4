"""Column helpers shared by every capability's models."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime
from sqlalchemy.orm import mapped_column

from starling import clock


def created_at_column():
    return mapped_column(DateTime, default=clock.utcnow_naive, nullable=False)


__all__ = ["created_at_column", "datetime"]
