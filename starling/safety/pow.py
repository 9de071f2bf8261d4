"""Proof of work for sign-ups: SHA-256 hashcash. One extra cost layer for mass sign-up scripts, never a
defence on its own (the other sign-up layers stay on).

A challenge is `v1.<expires>.<difficulty>.<random>.<mac>`: the server keeps nothing until it is spent
(the MAC, keyed by the instance secret, proves it issued it). The client finds a nonce (decimal text)
such that SHA-256("<challenge>:<nonce>") starts with `difficulty` zero bits, which takes 2^difficulty
hashes on average; checking costs one HMAC and one SHA-256. A spent challenge is claimed in the shared
counters until it expires, so each is accepted once on every process.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

from starling import ids
from starling.safety import counters

VERSION = "v1"
MAX_CHALLENGE = 200
MAX_NONCE = 20


class ProofRefused(Exception):
    """Why a proof was not accepted (missing, malformed, forged, expired, too easy, wrong or replayed)."""


@dataclass(frozen=True)
class Challenge:
    text: str
    difficulty: int
    expires_at: int  # epoch seconds


def _mac(secret: str, body: str) -> str:
    return hmac.new(secret.encode(), f"pow|{body}".encode(), hashlib.sha256).hexdigest()[:32]


def issue(secret: str, difficulty: int, ttl_seconds: int, *, now: float | None = None) -> Challenge:
    """A fresh challenge, valid for `ttl_seconds`."""
    expires = int(now if now is not None else time.time()) + ttl_seconds
    body = f"{VERSION}.{expires}.{difficulty}.{secrets.token_hex(12)}"
    return Challenge(f"{body}.{_mac(secret, body)}", difficulty, expires)


def leading_zero_bits(digest: bytes) -> int:
    bits = 0
    for byte in digest:
        if byte == 0:
            bits += 8
            continue
        return bits + 8 - byte.bit_length()
    return bits


def solve(challenge: str, difficulty: int) -> str:
    """The first nonce meeting the difficulty (what the browser's script does; here for tests and tools)."""
    prefix = f"{challenge}:".encode()
    nonce = 0
    while True:
        if leading_zero_bits(hashlib.sha256(prefix + str(nonce).encode()).digest()) >= difficulty:
            return str(nonce)
        nonce += 1


def check(secret: str, challenge: str | None, nonce: str | None, *, min_difficulty: int,
          now: float | None = None) -> tuple[str, int]:
    """Verify a proof without spending it; returns (the challenge's random part, seconds it has left).
    Raises ProofRefused."""
    if not challenge or not nonce:
        raise ProofRefused("is missing")
    if len(challenge) > MAX_CHALLENGE or len(nonce) > MAX_NONCE or not nonce.isdigit() or not nonce.isascii():
        raise ProofRefused("is malformed")
    parts = challenge.split(".")
    if len(parts) != 5 or parts[0] != VERSION or not ids.is_decimal(parts[1]) or not ids.is_decimal(parts[2]):
        raise ProofRefused("is malformed")
    body, mac = ".".join(parts[:4]), parts[4]
    if not hmac.compare_digest(_mac(secret, body), mac):
        raise ProofRefused("was not issued by this server")
    left = int(parts[1]) - int(now if now is not None else time.time())
    if left <= 0:
        raise ProofRefused("has expired; fetch a new challenge")
    difficulty = int(parts[2])
    if difficulty < min_difficulty:
        raise ProofRefused("is too easy; fetch a new challenge")
    digest = hashlib.sha256(f"{challenge}:{nonce}".encode()).digest()
    if leading_zero_bits(digest) < difficulty:
        raise ProofRefused("is wrong")
    return parts[3], left


async def spend(ctx_or_counters, secret: str, challenge: str | None, nonce: str | None, *,
                min_difficulty: int, prefix: str) -> None:
    """Verify a proof and mark its challenge used; a second use anywhere on the instance is refused."""
    random_part, left = check(secret, challenge, nonce, min_difficulty=min_difficulty)
    store = ctx_or_counters if isinstance(ctx_or_counters, counters.Counters) else \
        counters.for_context(ctx_or_counters)
    if not await store.claim(f"{prefix}pow:{random_part}", left + 5):
        raise ProofRefused("was already used; fetch a new challenge")
