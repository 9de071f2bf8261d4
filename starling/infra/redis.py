"""The Redis connection, when one is configured (STARLING_REDIS_URL). Redis is a cache and a bus: every
caller must work, more slowly, when `client` is None or when Redis stops answering (see infra.cache for
the guard and circuit every caller uses)."""

from __future__ import annotations

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError


def connect(url: str) -> Redis | None:
    """A pooled asyncio client for `url`, or None when no URL is set. Short timeouts: a Redis that has
    gone away must cost a request milliseconds, not seconds, before it falls back to SQL. A broken
    pooled connection (Redis restarted) is replaced once at once; a timeout is not retried."""
    if not url:
        return None
    return Redis.from_url(url, socket_timeout=0.25, socket_connect_timeout=0.25, health_check_interval=15,
                          retry=Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)))
