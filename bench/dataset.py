"""A synthetic network written straight into a migrated database with bulk inserts.

Accounts follow each other along a power law (a few accounts have most of the followers), posts are
spread over the last 30 days by a similarly skewed activity, and the home feeds of the accounts the
benchmark reads as are filled from the follow graph exactly as fan-out would have left them.
Account 1 is a "celebrity" whom every other account follows, for the large fan-out measurement; with
`celebrity_followers` above the account count, extra accounts that follow only the celebrity make up the
difference (the 100,000-follower fan-out).

SQLite is filled with multi-row INSERTs on one transaction; PostgreSQL with COPY (asyncpg's
copy_records_to_table), then VACUUM ANALYZE, as a long-running instance would have fresh statistics.
"""

from __future__ import annotations

import asyncio
import bisect
import itertools
import json
import random
import time
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import JSON, Table, create_engine, insert, make_url, text

from starling.accounts import tokens
from starling.accounts.passwords import hash_password
from starling.migrate import upgrade
from starling.models import AccessToken, Account, Follow, HomeFeedEntry, Status

WORDS = ("morning coffee garden river train city music book rain light window street bread friend "
         "weekend project idea walk market bicycle sunset mountain story photo paint winter summer "
         "kitchen recipe code bug release concert museum harbour forest quiet bright slow").split()
TAGS = ("photography", "gardening", "python", "music", "books", "cycling", "cooking", "art", "travel")


@dataclass
class Dataset:
    accounts: int
    posts: int
    readers: list[tuple[int, str]]  # (account id, raw token) the load generator reads as
    posters: list[tuple[int, str]]
    celebrity: tuple[int, str]
    build_seconds: float


def _sync_url(async_url: str) -> str:
    return async_url.replace("sqlite+aiosqlite", "sqlite")


CHUNK = 20_000


def _chunks(rows: list | Iterator[list[dict]], size: int = CHUNK) -> Iterator[list[dict]]:
    """A table's rows in chunks: a list is cut, an iterator (already in chunks) passes through."""
    if not isinstance(rows, list):
        yield from rows
        return
    for i in range(0, len(rows), size):
        yield rows[i:i + size]


def _status_chunks(offsets: array, authors: array, start: datetime, start_ms: int,
                   seed: int) -> Iterator[list[dict]]:
    """The posts' rows, CHUNK at a time, with texts from a generator of their own (the same for a seed)."""
    words_rng = random.Random(seed + 1)
    for first in range(0, len(offsets), CHUNK):
        chunk = []
        for n in range(first, min(first + CHUNK, len(offsets))):
            offset = offsets[n]
            words = " ".join(words_rng.choice(WORDS) for _ in range(words_rng.randint(6, 24)))
            if words_rng.random() < 0.15:
                words += f" #{words_rng.choice(TAGS)}"
            chunk.append(dict(id=((start_ms + offset) << 16) | (n & 0xFFFF), account_id=authors[n], text=words,
                              content=f"<p>{words}</p>", spoiler_text="", sensitive=False, visibility=0,
                              language="en", created_at=start + timedelta(milliseconds=offset), replies_count=0,
                              reblogs_count=0, favourites_count=0))
        yield chunk


def build(database_url: str, *, accounts: int, posts: int, avg_following: int = 100, readers: int = 500,
          feed_cap: int = 800, seed: int = 1, celebrity_followers: int = 0, redis_url: str = "",
          redis_prefix: str = "") -> Dataset:
    """Migrate `database_url` and fill it. Returns who to read and post as. With `redis_url` the home
    feeds go into Redis under `redis_prefix` instead of the `home_feed` table, as a server configured
    with that Redis keeps them: every account's feed built (empty but for the readers'), as account
    creation and a first read leave them."""
    started = time.perf_counter()
    upgrade(database_url)
    rng = random.Random(seed)
    now = datetime.now(UTC).replace(tzinfo=None)
    start = now - timedelta(days=30)
    password = hash_password("bench-password")

    # Account ids: 1 is the celebrity, then 2 .. accounts+1. Plain small ids keep the data compact;
    # the server mints time-sortable ids for everything created during the run.
    account_ids = list(range(1, accounts + 2))
    account_rows = [dict(id=i, username=f"user{i}", username_lower=f"user{i}", display_name=f"User {i}",
                         note="", note_html="", fields=[], email=f"user{i}@bench.invalid",
                         password_hash=password, role="user", approved=True, confirmed_at=start,
                         created_at=start, locale="en", default_privacy="public") for i in account_ids]

    # Popularity follows a Zipf-like law; everyone also follows the celebrity.
    ordinary = account_ids[1:]
    weights = [1.0 / (rank + 1) ** 1.1 for rank in range(len(ordinary))]
    cumulative = list(itertools.accumulate(weights))
    total_weight = cumulative[-1]
    follow_rows = []
    follow_id = 1
    following: dict[int, list[int]] = {}
    for follower in ordinary:
        targets = {1}
        want = max(1, int(rng.expovariate(1 / avg_following)))
        for _ in range(min(want * 2, 4 * avg_following)):
            if len(targets) > want:
                break
            targets.add(ordinary[bisect.bisect_left(cumulative, rng.random() * total_weight)])
        targets.discard(follower)
        following[follower] = sorted(targets)
        for target in targets:
            follow_rows.append(dict(id=follow_id, account_id=follower, target_account_id=target,
                                    show_reblogs=True, notify=False, created_at=start))
            follow_id += 1

    # Posts: skewed activity, time-ordered ids built from their timestamps. Who wrote what is decided
    # here for every post (cheap: two integers each); the rows themselves are made a chunk at a time as
    # they are loaded, so ten million posts never sit in memory at once.
    activity = [rng.paretovariate(1.2) for _ in account_ids]
    act_cum = list(itertools.accumulate(activity))
    span_ms = int((now - start).total_seconds() * 1000)
    start_ms = int(start.replace(tzinfo=UTC).timestamp() * 1000)
    offsets = array("q", sorted(rng.randrange(span_ms) for _ in range(posts)))
    authors = array("q", (account_ids[bisect.bisect_left(act_cum, rng.random() * act_cum[-1])]
                          for _ in range(posts)))
    by_author: dict[int, list[int]] = {}
    for n, (offset, author) in enumerate(zip(offsets, authors, strict=True)):
        by_author.setdefault(author, []).append(((start_ms + offset) << 16) | (n & 0xFFFF))
    status_rows = _status_chunks(offsets, authors, start, start_ms, seed)

    reader_ids = rng.sample(ordinary, min(readers, len(ordinary)))
    poster_ids = rng.sample(ordinary, min(200, len(ordinary)))
    feed_rows = []
    for reader in reader_ids:
        entries = []
        for target in following[reader]:
            entries.extend((sid, target) for sid in by_author.get(target, [])[-feed_cap:])
        entries.extend((sid, reader) for sid in by_author.get(reader, [])[-feed_cap:])
        entries.sort(reverse=True)
        feed_rows.extend(dict(account_id=reader, status_id=sid, author_id=author)
                         for sid, author in entries[:feed_cap])

    token_rows, readers_out, posters_out = [], [], []
    token_id = 1
    for group, out in ((reader_ids, readers_out), (poster_ids, posters_out), ([1], None)):
        for account_id in group:
            raw = tokens.new_secret()
            token_rows.append(dict(id=token_id, token_hash=tokens.digest(raw), account_id=account_id,
                                   scopes="read write follow push", created_at=start))
            token_id += 1
            if out is not None:
                out.append((account_id, raw))
            else:
                celebrity = (account_id, raw)

    # Accounts beyond the network that follow only the celebrity, up to `celebrity_followers` in all.
    extra = max(0, celebrity_followers - len(ordinary))
    for i in range(accounts + 2, accounts + 2 + extra):
        account_rows.append(dict(id=i, username=f"fan{i}", username_lower=f"fan{i}", display_name="",
                                 note="", note_html="", fields=[], email=f"fan{i}@bench.invalid",
                                 password_hash=password, role="user", approved=True, confirmed_at=start,
                                 created_at=start, locale="en", default_privacy="public"))
        following[i] = [1]
        follow_rows.append(dict(id=follow_id, account_id=i, target_account_id=1, show_reblogs=True, notify=False,
                                created_at=start))
        follow_id += 1

    counts_followers: dict[int, int] = {}
    for row in follow_rows:
        counts_followers[row["target_account_id"]] = counts_followers.get(row["target_account_id"], 0) + 1
    for row in account_rows:
        row["followers_count"] = counts_followers.get(row["id"], 0)
        row["following_count"] = len(following.get(row["id"], []))
        row["statuses_count"] = len(by_author.get(row["id"], []))

    redis_feeds: dict[int, list[tuple[int, int]]] = {}
    if redis_url:
        redis_feeds = {row["id"]: [] for row in account_rows}
        for row in feed_rows:
            redis_feeds[row["account_id"]].append((row["status_id"], row["author_id"]))
        feed_rows = []
    tables = ((Account, account_rows), (Follow, follow_rows), (Status, status_rows), (HomeFeedEntry, feed_rows),
              (AccessToken, token_rows))
    if database_url.startswith("postgresql"):
        asyncio.run(_load_postgres(database_url, [(model.__table__, rows) for model, rows in tables]))
    else:
        _load_sqlite(database_url, [(model.__table__, rows) for model, rows in tables])
    if redis_url:
        asyncio.run(fill_redis_feeds(redis_url, redis_prefix, redis_feeds, feed_cap))
    return Dataset(accounts=accounts, posts=posts, readers=readers_out, posters=posters_out,
                   celebrity=celebrity, build_seconds=time.perf_counter() - started)


async def fill_redis_feeds(redis_url: str, prefix: str, feeds: dict[int, list[tuple[int, int]]], cap: int) -> None:
    """Build each account's Redis feed through the server's own feed code (RedisFeeds.build_many,
    pipelined), so the benchmark starts from the steady state instead of rebuilding every reader's feed
    inside the timed run."""
    from redis.asyncio import Redis

    from starling.config import Settings
    from starling.timelines.redis_feeds import RedisFeeds

    client = Redis.from_url(redis_url, socket_timeout=60)
    try:
        settings = Settings(redis_url=redis_url, redis_prefix=prefix, feed_cap=cap)
        await RedisFeeds(client, settings).build_many(feeds, cap)
    finally:
        await client.aclose()


def _load_sqlite(database_url: str, tables: list[tuple[Table, list[dict] | Iterator[list[dict]]]]) -> None:
    engine = create_engine(_sync_url(database_url))
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA journal_mode=WAL")
    with engine.begin() as conn:
        for table, rows in tables:
            for chunk in _chunks(rows):
                conn.execute(insert(table), chunk)
        conn.execute(text("INSERT INTO status_search(rowid, text) SELECT id, text FROM statuses"))
    with engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")  # fresh statistics, as a long-running instance would have
    engine.dispose()


def _records(table: Table, rows: list[dict]) -> tuple[list[str], list[tuple]]:
    """Rows as COPY wants them: every column, Python-side defaults filled in, JSON as text."""
    columns = [c for c in table.columns if not c.computed]
    defaults = {}
    for column in columns:
        if column.name not in rows[0] and column.default is not None:
            arg = column.default.arg
            defaults[column.name] = arg(None) if callable(arg) else arg
    names = [c.name for c in columns if c.name in rows[0] or c.name in defaults]
    as_json = {c.name for c in columns if isinstance(c.type, JSON)}
    records = []
    for row in rows:
        values = [row.get(name, defaults.get(name)) for name in names]
        records.append(tuple(json.dumps(v) if name in as_json else v for name, v in zip(names, values, strict=True)))
    return names, records


async def _load_postgres(database_url: str, tables: list[tuple[Table, list[dict] | Iterator[list[dict]]]]) -> None:
    import asyncpg

    conn = await asyncpg.connect(make_url(database_url).set(drivername="postgresql").render_as_string(False))
    try:
        async with conn.transaction():
            for table, rows in tables:
                for chunk in _chunks(rows):
                    if chunk:
                        names, records = _records(table, chunk)
                        await conn.copy_records_to_table(table.name, records=records, columns=names)
        await conn.execute("VACUUM ANALYZE")
    finally:
        await conn.close()


def write_tokens(path: Path, pairs: list[tuple[int, str]]) -> None:
    path.write_text("\n".join(raw for _, raw in pairs) + "\n")
