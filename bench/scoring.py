"""`python -m bench.scoring`: what the spam scorer adds to posting. Creates the same posts (varied
ordinary text, a third with a link) through the posts service into a fresh SQLite database, once with
scoring off and once on, and prints the milliseconds per post of each. Prints figures; decides nothing.

    python -m bench.scoring --posts 500
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import tempfile
import time
from pathlib import Path

from starling.accounts import passwords
from starling.accounts import service as accounts
from starling.config import Settings
from starling.migrate import upgrade
from starling.posts import service as posts

WORDS = ("river harbour tram bakery library garden fox heron kettle bicycle rain fog market choir cello "
         "orchard ferry museum lantern pottery meadow chess soup dumpling kestrel canal hill moss").split()


def text(rng: random.Random, index: int) -> str:
    body = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 30)))
    return f"{body} https://site{index % 7}.example/{index}" if index % 3 == 0 else body


async def run(count: int, *, scoring: bool, seed: int) -> float:
    from starling.app import create_app

    root = Path(tempfile.mkdtemp(prefix="starling-bench-scoring-"))
    data = root / "data"
    data.mkdir()
    await asyncio.to_thread(upgrade, f"sqlite+aiosqlite:///{data}/starling.sqlite3")
    settings = Settings(data_dir=data, domain="bench.local", secret_key="b" * 48, embedded_worker=False,
                        sqlite_synchronous="NORMAL", spam_scoring_enabled=scoring, _env_file=None)
    ctx = create_app(settings, run_worker=False).state.ctx
    try:
        async with ctx.db.write() as session:
            authors = [(await accounts.create_account(session, settings, username=f"writer{i}", email=None,
                                                      password="correct horse battery")).id for i in range(20)]
        rng = random.Random(seed)
        started = time.perf_counter()
        for index in range(count):
            async with ctx.db.write() as session:
                await posts.create_status(session, settings, account_id=authors[index % len(authors)],
                                          text=text(rng, index))
        return (time.perf_counter() - started) / count * 1000
    finally:
        await ctx.close()
        shutil.rmtree(root, ignore_errors=True)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=500)
    args = parser.parse_args()
    passwords.use_test_parameters()
    off = await run(args.posts, scoring=False, seed=1)
    on = await run(args.posts, scoring=True, seed=1)
    print(f"posting, {args.posts} posts: scoring off {off:.1f} ms/post, on {on:.1f} ms/post "
          f"(+{on - off:.1f} ms)")


if __name__ == "__main__":
    asyncio.run(main())
