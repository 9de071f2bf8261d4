"""Secrets handed to clients (tokens, codes, client secrets): 256 bits from the CSPRNG, stored only
as SHA-256 digests, compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def matches(secret: str, stored_digest: str) -> bool:
    return hmac.compare_digest(digest(secret), stored_digest)


# Mastodon's scopes: the top-level ones and the sub-scopes each grants.
TOP_SCOPES = ("read", "write", "follow", "push", "profile", "admin:read", "admin:write")
READ_SUB = ("accounts", "blocks", "bookmarks", "favourites", "filters", "follows", "lists", "mutes",
            "notifications", "search", "statuses")
WRITE_SUB = ("accounts", "blocks", "bookmarks", "conversations", "favourites", "filters", "follows", "lists",
             "media", "mutes", "notifications", "reports", "statuses")
ADMIN_SUB = ("accounts", "reports", "domain_allows", "domain_blocks", "ip_blocks", "email_domain_blocks",
             "canonical_email_blocks")
ALL_SCOPES = frozenset(
    list(TOP_SCOPES) + ["admin"]
    + [f"read:{s}" for s in READ_SUB] + [f"write:{s}" for s in WRITE_SUB]
    + [f"admin:read:{s}" for s in ADMIN_SUB] + [f"admin:write:{s}" for s in ADMIN_SUB]
)
# The legacy `follow` scope grants these.
FOLLOW_GRANTS = {"read:blocks", "write:blocks", "read:follows", "write:follows", "read:mutes", "write:mutes"}


def parse_scopes(raw: str | None, default: str = "read") -> list[str]:
    """Split a space- (or plus-) separated scope string; unknown scopes raise ValueError."""
    text = (raw or default).replace("+", " ")
    scopes = [s for s in text.split() if s]
    unknown = [s for s in scopes if s not in ALL_SCOPES]
    if unknown:
        raise ValueError(f"unknown scope: {unknown[0]}")
    return list(dict.fromkeys(scopes))


def grants(held: set[str] | frozenset[str], wanted: str) -> bool:
    """Whether holding `held` satisfies `wanted` (e.g. `read` grants `read:statuses`)."""
    if wanted in held:
        return True
    parts = wanted.split(":")
    for i in range(1, len(parts)):
        if ":".join(parts[:i]) in held:
            return True
    if wanted.startswith("admin:") and "admin" in held:
        return True
    return "follow" in held and wanted in FOLLOW_GRANTS
