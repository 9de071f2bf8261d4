"""Home feeds in Redis: one sorted set per account, `<prefix>feed:<account_id>`.

A member is "<status_id>:<author_id>" (the author lets an unfollow take an account's entries out without
asking the database) and its score the status ID. Scores are doubles, exact only to 2**53, while IDs
reach 2**57 and more: neighbouring IDs may share a score. Members of equal score sort by their text,
and every status ID minted since 2018 has 18 digits, so Redis's order is still the IDs' order; windows
are read with inclusive score bounds and cut exactly here.

Only building creates a feed: an account's empty feed when the account is created, or its feed rebuilt
from the follow graph and the posts table when its owner reads home and finds it missing (flushed or
evicted Redis, or expired). Fan-out adds to the feeds that exist and skips the others, so Redis holds
feeds of people who read, as Mastodon keeps only recently active people's feeds. A built feed carries
the member "0" (score 0, always rank 0), so an empty feed still exists and is not rebuilt on every
read. Feeds expire `feed_ttl_seconds` after their last read.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

from redis.asyncio import Redis

from starling.config import Settings
from starling.infra.cache import guard, key

BUILT = "0"

# ARGV: score/member pairs, added to each feed that exists (a feed nobody reads is not kept up to date:
# its owner's next read rebuilds it). Returns how many feeds took them.
_ADD = """
local took = 0
for _, feed in ipairs(KEYS) do
  if redis.call('EXISTS', feed) == 1 then
    for start = 1, #ARGV, 1000 do
      redis.call('ZADD', feed, unpack(ARGV, start, math.min(start + 999, #ARGV)))
    end
    took = took + 1
  end
end
return took
"""

# ARGV: ttl, cap, then score/member pairs. Marks one feed built (creating it), adds the pairs, trims it
# to the newest `cap` entries and sets its expiry.
_BUILD = """
local feed = KEYS[1]
redis.call('ZADD', feed, 0, '0')
for start = 3, #ARGV, 1000 do
  redis.call('ZADD', feed, unpack(ARGV, start, math.min(start + 999, #ARGV)))
end
redis.call('ZREMRANGEBYRANK', feed, 1, -(tonumber(ARGV[2]) + 1))
redis.call('EXPIRE', feed, ARGV[1])
return 1
"""

# ARGV: cap. Keeps the newest `cap` entries of each feed (and its built mark, which is rank 0).
_TRIM = """
local cap = tonumber(ARGV[1])
for _, feed in ipairs(KEYS) do
  local first = 0
  if redis.call('ZSCORE', feed, '0') then first = 1 end
  redis.call('ZREMRANGEBYRANK', feed, first, -(cap + 1))
end
return #KEYS
"""

# ARGV: entry, then members to remove from each feed (an unfollow: those of one author).
_REMOVE_AUTHOR = """
local suffix = ':' .. ARGV[1]
for _, feed in ipairs(KEYS) do
  local doomed = {}
  for _, member in ipairs(redis.call('ZRANGE', feed, 0, -1)) do
    if string.sub(member, -#suffix) == suffix then doomed[#doomed + 1] = member end
  end
  for start = 1, #doomed, 1000 do
    redis.call('ZREM', feed, unpack(doomed, start, math.min(start + 999, #doomed)))
  end
end
return #KEYS
"""

# ARGV: ttl, ascending (1/0), low, high, offset, count. One round trip for a home read: whether the feed
# is built, a refreshed expiry, and a window of members (inclusive score bounds; cut exactly by the caller)
# joined by spaces, as one reply element is parsed much faster than dozens.
_WINDOW = """
local built = redis.call('ZSCORE', KEYS[1], '0')
redis.call('EXPIRE', KEYS[1], ARGV[1])
local found
if ARGV[2] == '1' then
  found = redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[3], ARGV[4], 'LIMIT', ARGV[5], ARGV[6])
else
  found = redis.call('ZREVRANGEBYSCORE', KEYS[1], ARGV[4], ARGV[3], 'LIMIT', ARGV[5], ARGV[6])
end
return {built and 1 or 0, table.concat(found, ' ')}
"""

# Members read per window beyond the page, for the entries cut by exact bounds at equal scores.
SLACK = 16


def member(status_id: int, author_id: int) -> str:
    return f"{status_id}:{author_id}"


def status_of(entry: bytes | str) -> int:
    text = entry.decode() if isinstance(entry, bytes) else entry
    return int(text.partition(":")[0])


class RedisFeeds:
    """The feed operations on one Redis client (see the module's note). Every call may raise
    infra.cache.RedisUnavailable."""

    def __init__(self, redis: Redis, settings: Settings):
        self.redis = redis
        self.settings = settings
        self._add = redis.register_script(_ADD)
        self._build = redis.register_script(_BUILD)
        self._trim = redis.register_script(_TRIM)
        self._remove_author = redis.register_script(_REMOVE_AUTHOR)
        self._window = redis.register_script(_WINDOW)

    def key(self, account_id: int) -> str:
        return key(self.settings, "feed", account_id)

    def _keys(self, account_ids: Iterable[int]) -> list[str]:
        return [self.key(a) for a in sorted(set(account_ids))]

    async def add(self, account_ids: Collection[int], entries: Sequence[tuple[int, int]]) -> None:
        """Put (status_id, author_id) entries into each of these feeds that exists (ZADD: present ones
        stay); a missing feed rebuilds from SQL when read, so it needs nothing now."""
        if not account_ids or not entries:
            return
        args: list[Any] = []
        for status_id, author_id in entries:
            args += [status_id, member(status_id, author_id)]
        keys = self._keys(account_ids)
        batch = max(1, self.settings.fanout_batch)
        async with guard(self.redis) as redis:
            if len(keys) <= batch:
                await self._add(keys=keys, args=args)
                return
            async with redis.pipeline(transaction=False) as pipe:
                for start in range(0, len(keys), batch):
                    await self._add(keys=keys[start:start + batch], args=args, client=pipe)
                await pipe.execute()

    async def trim(self, account_ids: Collection[int], cap: int) -> None:
        if account_ids:
            async with guard(self.redis):
                await self._trim(keys=self._keys(account_ids), args=[cap])

    async def remove(self, account_ids: Collection[int], entries: Sequence[tuple[int, int]]) -> None:
        """Take (status_id, author_id) entries out of each of these feeds."""
        if not account_ids or not entries:
            return
        members = [member(s, a) for s, a in entries]
        keys = self._keys(account_ids)
        async with guard(self.redis) as redis:
            async with redis.pipeline(transaction=False) as pipe:
                for feed in keys:
                    pipe.zrem(feed, *members)
                await pipe.execute()

    async def remove_author(self, account_id: int, author_id: int) -> None:
        async with guard(self.redis):
            await self._remove_author(keys=[self.key(account_id)], args=[author_id])

    async def entries(self, account_id: int) -> list[int]:
        """Every status ID stored in a feed, newest first (the built mark left out)."""
        async with guard(self.redis) as redis:
            found = await redis.zrevrange(self.key(account_id), 0, -1)
        return [s for s in map(status_of, found) if s]

    async def window(self, account_id: int, window: Any) -> tuple[bool, list[int]]:
        """Whether the feed is built, and its status IDs inside `window` (newest first; the oldest ones
        when paging up from min_id). Refreshes the feed's expiry."""
        feed = self.key(account_id)
        hi = window.max_id
        lo = max(window.since_id or 0, window.min_id or 0)
        ascending = window.min_id is not None
        wanted = window.limit
        top = "+inf" if hi is None else hi
        bottom = lo if lo > 0 else "(0"
        found: list[int] = []
        offset = 0
        async with guard(self.redis):
            while True:
                count = wanted + SLACK
                built, joined = await self._window(keys=[feed], args=[
                    self.settings.feed_ttl_seconds, int(ascending), bottom, top, offset, count])
                raw = joined.split()
                found.extend(s for s in map(status_of, raw) if lo < s and (hi is None or s < hi))
                if len(found) >= wanted or len(raw) < count:
                    break
                offset += count
        page = found[:wanted]
        return bool(built), page[::-1] if ascending else page

    def _build_args(self, entries: Sequence[tuple[int, int]], cap: int) -> list[Any]:
        args: list[Any] = [self.settings.feed_ttl_seconds, cap]
        for status_id, author_id in entries:
            args += [status_id, member(status_id, author_id)]
        return args

    async def build(self, account_id: int, entries: Sequence[tuple[int, int]], cap: int) -> None:
        """Mark a feed built, with `entries` (the newest of what SQL says belongs in it) merged into
        whatever fan-out has put there meanwhile, then trimmed to `cap`."""
        async with guard(self.redis):
            await self._build(keys=[self.key(account_id)], args=self._build_args(entries, cap))

    async def build_many(self, feeds: Mapping[int, Sequence[tuple[int, int]]], cap: int, *,
                         per_round_trip: int = 500) -> None:
        """`build` for many feeds, pipelined `per_round_trip` feeds at a time: filling the feeds of a
        whole instance (a bulk import, the benchmark's dataset) in a few hundred round trips."""
        accounts = sorted(feeds)
        async with guard(self.redis) as redis:
            for start in range(0, len(accounts), per_round_trip):
                async with redis.pipeline(transaction=False) as pipe:
                    for account_id in accounts[start:start + per_round_trip]:
                        await self._build(keys=[self.key(account_id)],
                                          args=self._build_args(feeds[account_id], cap), client=pipe)
                    await pipe.execute()
