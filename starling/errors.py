"""One family of errors. Each carries a status, a client-safe message and an internal one for logs."""

from __future__ import annotations


class StarlingError(Exception):
    status = 400

    def __init__(self, message: str, *, internal: str | None = None, details: dict | None = None):
        super().__init__(internal or message)
        self.message = message
        self.internal = internal or message
        self.details = details


class BadRequest(StarlingError):
    status = 400


class Unauthorized(StarlingError):
    status = 401


class Forbidden(StarlingError):
    status = 403


class NotFound(StarlingError):
    status = 404

    def __init__(self, message: str = "Record not found", **kwargs):
        super().__init__(message, **kwargs)


class Conflict(StarlingError):
    status = 409


class Unprocessable(StarlingError):
    status = 422


class TooLarge(StarlingError):
    status = 413


class RateLimited(StarlingError):
    status = 429

    def __init__(self, message: str = "Too many requests", *, retry_after: int = 60, **kwargs):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class Unavailable(StarlingError):
    status = 503
