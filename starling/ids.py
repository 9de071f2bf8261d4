"""64-bit time-sortable IDs: milliseconds since the Unix epoch in the high bits, 16 low bits of sequence.

Every ID minted after 2018 has 18 decimal digits, so clients comparing IDs by length then text sort
them correctly. The low bits start at a random per-process offset so processes sharing a database
rarely collide, and they count up within a millisecond so one process never collides with itself.
"""

from __future__ import annotations

import secrets
import threading
from datetime import datetime

from starling import clock

_lock = threading.Lock()
_last_ms = 0
_seq = 0
_salt = secrets.randbits(16)


def new_id(at: datetime | None = None) -> int:
    """A fresh ID for now (or for `at`, when backfilling)."""
    global _last_ms, _seq
    moment = at or clock.now()
    ms = int(moment.timestamp() * 1000)
    with _lock:
        if at is None:
            if ms <= _last_ms:
                ms = _last_ms
                _seq += 1
                if _seq >= 0x10000:
                    ms += 1
                    _seq = 0
            else:
                _seq = 0
            _last_ms = ms
            low = (_salt + _seq) & 0xFFFF
        else:
            low = secrets.randbits(16)
    return (ms << 16) | low


def forget_last_moment() -> None:
    """Let the next ID start from the clock again. IDs never go back in time within a process, so after
    a test moved the clock forward and back, later IDs would keep the future moment without this."""
    global _last_ms, _seq
    with _lock:
        _last_ms, _seq = 0, 0


def id_floor(moment: datetime) -> int:
    """The smallest ID that could have been minted at `moment` (for time-window queries)."""
    return int(moment.timestamp() * 1000) << 16


def is_decimal(text: str) -> bool:
    """Whether `text` is a non-negative number in ASCII digits: str.isdigit() alone also admits "²" and
    "٣", which int() refuses. Every number read from a client is checked with this."""
    return text.isascii() and text.isdigit()


def parse_id(raw: str | int | None) -> int | None:
    """An ID from a client: a decimal string of at most 19 digits; anything else is None."""
    if raw is None:
        return None
    text = str(raw).strip()
    if not is_decimal(text) or len(text) > 19:
        return None
    value = int(text)
    return value if value < 2**63 else None
