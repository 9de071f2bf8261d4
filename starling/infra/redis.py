"""The Redis connection, when one is configured (STARLING_REDIS_URL). Redis is a cache and a bus: every
caller must work, more slowly, when `client` is None or when Redis stops answering."""

from __future__ import annotations

from redis.asyncio import Redis


def connect(url: str) -> Redis | None:
    """A pooled asyncio client for `url`, or None when no URL is set. Short timeouts: a Redis that has
    gone away must cost a request milliseconds, not seconds, before it falls back to SQL."""
    if not url:
        return None
    return Redis.from_url(url, socket_timeout=0.25, socket_connect_timeout=0.25, health_check_interval=15)
