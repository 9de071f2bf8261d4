"""Password hashing: argon2id with the library's recommended parameters."""

from __future__ import annotations

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher.from_parameters(profiles.RFC_9106_LOW_MEMORY)


def use_test_parameters() -> None:
    """Cheap argon2id parameters, for the test suite only: it hashes hundreds of passwords, and the
    production cost (tens of milliseconds each, by design) would dominate its run time."""
    global _hasher
    _hasher = PasswordHasher.from_parameters(profiles.CHEAPEST)

MIN_LENGTH = 8
MAX_LENGTH = 72 * 4  # generous, but bounded: hashing cost must not be a denial-of-service lever


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    if not stored_hash or len(password) > MAX_LENGTH:
        return False
    try:
        return _hasher.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)
