"""Creating notifications: idempotent, never to oneself, never across blocks or hiding mutes; mentions,
`status` news to followers who asked for it, and `update` to boosters of an edited status."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from starling import clock, ids
from starling.graph import repository as graph_repository
from starling.graph import service as graph
from starling.notifications import service as notifications
from starling.notifications.models import Notification
from starling.posts.models import DIRECT, PRIVATE, PUBLIC, Mention, Status


async def make_status(ctx, author, *, visibility=PUBLIC, mentions=(), reply_to_account=None,
                      reblog_of=None) -> Status:
    """A status row straight through the model (the posts service is another helper's)."""
    async with ctx.db.write() as s:
        status = Status(id=ids.new_id(), account_id=author.id, text="hi", content="<p>hi</p>",
                        visibility=visibility, in_reply_to_account_id=reply_to_account,
                        reblog_of_id=reblog_of, created_at=clock.utcnow_naive())
        s.add(status)
        await s.flush()
        for m in mentions:
            s.add(Mention(status_id=status.id, account_id=m.id))
    return status


async def rows(ctx, **where):
    async with ctx.db.read() as s:
        stmt = select(Notification).order_by(Notification.id)
        for key, value in where.items():
            stmt = stmt.where(getattr(Notification, key) == value)
        return [(n.account_id, n.type, n.from_account_id, n.status_id) for n in await s.scalars(stmt)]


async def notify(ctx, recipient, sender, type="follow", status_id=None):
    async with ctx.db.write() as s:
        await notifications.notify(s, recipient_id=recipient.id, from_id=sender.id, type=type,
                                   status_id=status_id)


async def test_notify_is_idempotent_and_skips_self(ctx, cast):
    await notify(ctx, cast.bob, cast.alice)
    await notify(ctx, cast.bob, cast.alice)
    await notify(ctx, cast.alice, cast.alice)
    assert await rows(ctx) == [(cast.bob.id, "follow", cast.alice.id, None)]
    with pytest.raises(ValueError):
        await notify(ctx, cast.bob, cast.alice, type="poke")


async def test_notify_respects_blocks_and_mutes(ctx, cast):
    async with ctx.db.write() as s:
        await graph.block(s, cast.bob.id, cast.alice.id)            # recipient blocks sender
        await graph.block(s, cast.eve.id, cast.carol.id)            # sender (eve) blocks recipient (carol)
        await graph.mute(s, cast.admin.id, cast.alice.id)           # hides notifications
        await graph.mute(s, cast.carol.id, cast.alice.id, notifications=False)
    await notify(ctx, cast.bob, cast.alice)
    await notify(ctx, cast.carol, cast.eve)
    await notify(ctx, cast.admin, cast.alice)
    await notify(ctx, cast.carol, cast.alice)
    assert await rows(ctx) == [(cast.carol.id, "follow", cast.alice.id, None)]

    # An expired mute hides nothing.
    async with ctx.db.write() as s:
        await graph.mute(s, cast.eve.id, cast.alice.id, duration=60)
    clock.set_now(clock.now() + timedelta(seconds=61))
    await notify(ctx, cast.eve, cast.alice)
    assert (cast.eve.id, "follow", cast.alice.id, None) in await rows(ctx)


async def test_new_status_mentions_and_status_news(ctx, cast, client):
    async with ctx.db.write() as s:
        await graph.follow(s, cast.eve.id, cast.alice.id, notify=True)
        await graph.follow(s, cast.admin.id, cast.alice.id)          # follows without asking for news
        await graph.block(s, cast.carol.id, cast.alice.id)
    status = await make_status(ctx, cast.alice, mentions=[cast.bob, cast.carol, cast.alice])
    for _ in range(2):  # a retried job adds nothing
        async with ctx.db.write() as s:
            await notifications.notify_new_status(s, status)
    got = await rows(ctx, status_id=status.id)
    assert sorted(got) == sorted([(cast.bob.id, "mention", cast.alice.id, status.id),
                                  (cast.eve.id, "status", cast.alice.id, status.id)])


async def test_direct_replies_and_boosts_are_not_news(ctx, cast):
    async with ctx.db.write() as s:
        await graph.follow(s, cast.eve.id, cast.alice.id, notify=True)
    direct = await make_status(ctx, cast.alice, visibility=DIRECT, mentions=[cast.bob])
    reply = await make_status(ctx, cast.alice, reply_to_account=cast.bob.id, mentions=[cast.bob])
    self_reply = await make_status(ctx, cast.alice, visibility=PRIVATE, reply_to_account=cast.alice.id)
    original = await make_status(ctx, cast.bob)
    boost = await make_status(ctx, cast.alice, reblog_of=original.id)
    async with ctx.db.write() as s:
        for status in (direct, reply, self_reply, boost):
            await notifications.notify_new_status(s, status)
    got = [row for row in await rows(ctx) if row[1] != "follow"]
    assert sorted(got) == sorted([(cast.bob.id, "mention", cast.alice.id, direct.id),
                                  (cast.bob.id, "mention", cast.alice.id, reply.id),
                                  (cast.eve.id, "status", cast.alice.id, self_reply.id)])


async def test_edit_notifies_boosters_once_per_edit(ctx, cast):
    original = await make_status(ctx, cast.alice)
    for booster in (cast.bob, cast.eve, cast.alice):
        await make_status(ctx, booster, reblog_of=original.id)
    async with ctx.db.write() as s:
        await graph.mute(s, cast.eve.id, cast.alice.id)
    for edited in (clock.utcnow_naive(), clock.utcnow_naive() + timedelta(minutes=5)):
        original.edited_at = edited
        for _ in range(2):
            async with ctx.db.write() as s:
                await notifications.notify_status_edited(s, original)
    assert await rows(ctx, type="update") == [(cast.bob.id, "update", cast.alice.id, original.id)] * 2


async def test_insert_ignore_counts_only_new_rows_across_chunks(ctx, cast):
    now = clock.utcnow_naive()

    def batch(keys):
        return [dict(id=ids.new_id(), account_id=cast.bob.id, from_account_id=cast.alice.id, type="follow",
                     status_id=None, dedupe_key=f"k{k}", created_at=now) for k in keys]

    async with ctx.db.write() as s:
        assert await graph_repository.insert_ignore(s, Notification, batch(range(300))) == 300
        assert await graph_repository.insert_ignore(s, Notification, batch(range(250, 400))) == 100
        assert await graph_repository.insert_ignore(s, Notification, []) == 0
    async with ctx.db.read() as s:
        assert await s.scalar(select(func.count()).select_from(Notification)) == 400
