"""The moderation and scoring tables on PostgreSQL: the migration, the LSH band lookup, first-seen
link domains (insert-unless-present), quarantine, and the audit log's append-only trigger."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from starling import clock, ids
from starling.accounts.models import Account
from starling.posts.models import Status
from starling.safety import fingerprint
from starling.safety import scoring_repository as repository
from starling.safety.models import ModerationLogEntry
from tests.postgres import requires_postgres

pytestmark = requires_postgres


async def test_scoring_queries_and_append_only_log_on_postgres(pg_db):
    now = clock.utcnow_naive()
    async with pg_db.write() as session:
        account = Account(id=ids.new_id(), username="pgbot", username_lower="pgbot")
        session.add(account)
        await session.flush()
        texts = ["Loving these polarised sunglasses, half price this weekend only, grab yours now",
                 "LOVING these polarised sunglasses, 80% off this weekend only, grab yours now"]
        status_ids = []
        for body in texts:
            status = Status(id=ids.new_id(), account_id=account.id, text=body)
            session.add(status)
            await session.flush()
            sig = fingerprint.signature(body)
            await repository.add_fingerprint(session, status_id=status.id, account_id=account.id,
                                             signature=fingerprint.to_bytes(sig), keys=fingerprint.band_keys(sig),
                                             now=now)
            status_ids.append(status.id)
        await repository.note_domains(session, ["a.example", "b.example"], now)
        await repository.note_domains(session, ["a.example"], now)
        await repository.set_domain_blocked(session, "b.example", now, "spam")
        await repository.set_quarantined(session, [status_ids[0]], True)
        session.add(ModerationLogEntry(id=ids.new_id(), action="account.silence", reason="x", details={},
                                       created_at=now))

    async with pg_db.write() as session:
        sig = fingerprint.signature(texts[1])
        found = await repository.band_candidates(session, fingerprint.band_keys(sig), since=now,
                                                 exclude_status=status_ids[1])
        assert [s for s, _, _ in found] == [status_ids[0]]
        assert fingerprint.similarity(sig, fingerprint.from_bytes(found[0][2])) >= 0.6
        domains = await repository.link_domains(session, ["a.example", "b.example", "c.example"])
        assert set(domains) == {"a.example", "b.example"} and domains["b.example"].blocked_at is not None
        assert (await session.get(Status, status_ids[0])).quarantined is True

    async with pg_db.write() as session:
        with pytest.raises(DBAPIError):
            await session.execute(text("UPDATE moderation_log SET reason = 'rewritten'"))
    async with pg_db.write() as session:
        with pytest.raises(DBAPIError):
            await session.execute(text("DELETE FROM moderation_log"))
