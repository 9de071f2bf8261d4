"""CSRF protection for our forms: a random nonce kept in a signed, HttpOnly, SameSite=Lax cookie, and
a form token derived from it with HMAC under the instance secret. A forged cross-site POST carries
neither a cookie we signed nor the matching token."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from fastapi import Request
from starlette.responses import Response

COOKIE = "starling_csrf"
MAX_AGE = 60 * 60 * 12


def _mac(secret: str, purpose: str, nonce: str) -> str:
    return hmac.new(secret.encode(), f"starling-csrf:{purpose}:{nonce}".encode(), hashlib.sha256).hexdigest()


def _nonce_from_cookie(secret: str, value: str | None) -> str | None:
    if not value or "." not in value or len(value) > 200:
        return None
    nonce, _, signature = value.partition(".")
    return nonce if hmac.compare_digest(signature, _mac(secret, "cookie", nonce)) else None


def form_token(secret: str, nonce: str) -> str:
    return _mac(secret, "form", nonce)


def nonce_for(request: Request, secret: str) -> tuple[str, bool]:
    """The request's valid nonce, or a fresh one; the flag says whether the cookie must be (re)set."""
    nonce = _nonce_from_cookie(secret, request.cookies.get(COOKIE))
    if nonce is not None:
        return nonce, False
    return secrets.token_urlsafe(24), True


def set_cookie(response: Response, secret: str, nonce: str, *, secure: bool) -> None:
    response.set_cookie(COOKIE, f"{nonce}.{_mac(secret, 'cookie', nonce)}", max_age=MAX_AGE, path="/",
                        httponly=True, samesite="lax", secure=secure)


def verify(request: Request, secret: str, submitted: str | None) -> bool:
    """Whether the submitted form token matches the signed cookie this browser holds."""
    nonce = _nonce_from_cookie(secret, request.cookies.get(COOKIE))
    if nonce is None or not submitted:
        return False
    return hmac.compare_digest(submitted, form_token(secret, nonce))
