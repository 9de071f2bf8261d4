"""The graph's and notifications' dialect branches (ON CONFLICT DO NOTHING) on PostgreSQL.

Runs when STARLING_TEST_DATABASE_URL names a PostgreSQL server (as CI sets it); it creates a database of
its own there, migrates it, and drops it afterwards.
"""

from __future__ import annotations

from sqlalchemy import func, select

from starling import clock, ids
from starling.accounts.models import Account
from starling.graph import repository as graph_repository
from starling.graph import service as graph
from starling.notifications import service as notifications
from starling.notifications.models import Notification
from tests.postgres import requires_postgres

pytestmark = requires_postgres


async def _account(session, username: str, *, locked: bool = False) -> int:
    now = clock.utcnow_naive()
    account = Account(id=ids.new_id(), username=username, username_lower=username, locked=locked,
                      created_at=now, display_name="", note="", note_html="", fields=[])
    session.add(account)
    await session.flush()
    return account.id


async def test_graph_and_notifications_on_postgresql(pg_db):
    async with pg_db.write() as s:
        alice, bob, carol = (await _account(s, "alice"), await _account(s, "bob"),
                             await _account(s, "carol", locked=True))
    for _ in range(2):  # following twice changes nothing the second time
        async with pg_db.write() as s:
            await graph.follow(s, alice, bob)
            await graph.follow(s, alice, carol)
    async with pg_db.write() as s:
        await notifications.notify(s, recipient_id=bob, from_id=alice, type="follow")  # already there
        rels = await graph.relationships(s, alice, [bob, carol])
        assert [(r.following, r.requested) for r in rels] == [(True, False), (False, True)]
        assert (await s.get(Account, bob)).followers_count == 1
        assert await s.scalar(select(func.count()).select_from(Notification)) == 2
        now = clock.utcnow_naive()
        rows = [dict(id=ids.new_id(), account_id=bob, from_account_id=alice, type="follow", status_id=None,
                     dedupe_key=f"k{i}", created_at=now) for i in range(300)]
        assert await graph_repository.insert_ignore(s, Notification, rows) == 300
        # Same (recipient, dedupe_key) under new ids: all skipped.
        again = [{**r, "id": ids.new_id()} for r in rows[:10]]
        assert await graph_repository.insert_ignore(s, Notification, again) == 0
        await notifications.save_markers(s, bob, {"notifications": 5})
        markers = await notifications.save_markers(s, bob, {"notifications": 9})
        assert [(m.last_read_id, m.version) for m in markers] == [(9, 1)]

