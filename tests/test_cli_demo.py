"""`starling demo`: a believable small network, built through the service layer, the same every time
for the same seed."""

from __future__ import annotations

import random
import statistics

import pytest
from sqlalchemy import func, select

from starling import demo
from starling.accounts import service as accounts
from starling.accounts.models import Account
from starling.graph.models import Follow
from starling.infra.jobs import Job
from starling.media.models import MediaAttachment
from starling.posts.models import Favourite, Status, StatusTag
from starling.timelines.feed_store import feed_store
from tests import postgres as backend
from tests.live import run_cli, server_env
from tests.postgres import instance_rows


async def count(session, model, *where) -> int:
    return await session.scalar(select(func.count()).select_from(model).where(*where))


async def test_small_demo_network_has_the_right_shape(ctx, client):
    summary = await demo.build(accounts=24, posts=160, seed=3, settings=ctx.settings)
    assert summary.startswith("demo: 24 accounts")
    async with ctx.db.read() as session:
        assert await count(session, Account) == 24
        originals = await count(session, Status, Status.reblog_of_id.is_(None))
        assert originals == 160
        assert await count(session, Status, Status.in_reply_to_id.isnot(None)) >= 15
        assert await count(session, Status, Status.reblog_of_id.isnot(None)) >= 5
        assert await count(session, Favourite) >= 20
        assert await count(session, StatusTag) >= 30
        described = await count(session, MediaAttachment, MediaAttachment.status_id.isnot(None),
                                MediaAttachment.description != "")
        assert described >= 1
        assert await count(session, Job, Job.state != "done") == 0
        store = feed_store(session)  # the home_feed table, or Redis when configured
        feed_sizes = {a: len(await store.entries(a)) for a in await session.scalars(select(Account.id))}
        assert sum(feed_sizes.values()) > originals
        followers = list((await session.execute(
            select(func.count()).select_from(Follow).group_by(Follow.target_account_id))).scalars())
        # A few popular accounts, most with a handful of followers.
        assert max(followers) >= 3 * statistics.median(followers)
        texts = list(await session.scalars(select(Status.text).where(Status.reblog_of_id.is_(None))))
        assert len(set(texts)) >= 0.6 * len(texts), "posts should not all read the same"
        reader = max(feed_sizes, key=feed_sizes.get)

    # Someone in the network opens their app and finds a full home timeline.
    async with ctx.db.write() as session:
        token = await accounts.issue_token(session, account_id=reader, scopes="read")
    response = await client.get("/api/v1/timelines/home", params={"limit": 20},
                                headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    assert len(response.json()) >= 10  # a page may come back short when replies are filtered out


def test_post_text_is_deterministic_and_varied():
    a = [demo.post_text(random.Random(11), topic) for topic in sorted(demo.TOPICS)]
    b = [demo.post_text(random.Random(11), topic) for topic in sorted(demo.TOPICS)]
    assert a == b
    rng = random.Random(5)
    sample = [demo.post_text(rng, "cooking") for _ in range(50)]
    assert len(set(sample)) > 25
    assert all("{" not in text for text in sample), "a template placeholder was left unfilled"


@pytest.mark.slow
def test_demo_command_on_a_fresh_data_dir(tmp_path):
    env = server_env(tmp_path / "data", "127.0.0.1:9")
    out = run_cli(["demo", "--accounts", "12", "--posts", "60", "--seed", "1"], env, timeout=120).stdout
    assert "demo: 12 accounts" in out
    data = tmp_path / "data"
    assert instance_rows(data, "SELECT count(*) FROM statuses WHERE reblog_of_id IS NULL") == [(60,)]
    if not backend.ON_POSTGRES:
        assert instance_rows(data, "PRAGMA integrity_check") == [("ok",)]
