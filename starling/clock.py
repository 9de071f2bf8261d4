"""The one clock. Tests may set it; everything else asks it for the time."""

from __future__ import annotations

from datetime import UTC, datetime

_frozen: datetime | None = None


def now() -> datetime:
    """The current time, timezone-aware UTC (or the time a test set)."""
    return _frozen if _frozen is not None else datetime.now(UTC)


def set_now(value: datetime | None) -> None:
    """Freeze the clock at `value` (None lets it run again). For tests."""
    global _frozen
    _frozen = value


def to_naive(value: datetime) -> datetime:
    """UTC datetimes are stored naive; this drops the zone after converting."""
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def utcnow_naive() -> datetime:
    return to_naive(now())


def iso(value: datetime | None) -> str | None:
    """ISO-8601 with milliseconds and a Z, as Mastodon clients expect."""
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
