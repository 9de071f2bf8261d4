"""The accounts domain's admin operations, authorised apps and email change, called directly (the web
pages are tested in tests/web): each checks its actor and input itself."""

from __future__ import annotations

import pytest

from starling.accounts import admin, authorizations, credentials, instance, oauth, service
from starling.accounts.models import Account
from starling.accounts.passwords import verify_password
from starling.errors import Forbidden, NotFound, Unprocessable


async def load(session, account_id: int) -> Account:
    return await session.get(Account, account_id)


async def test_only_a_usable_admin_may_act(ctx, cast):
    async with ctx.db.write() as session:
        alice, bob = await load(session, cast.alice.id), await load(session, cast.bob.id)
        for call in (admin.suspend(session, alice, bob.id), admin.reset_password(session, alice, bob.id),
                     admin.overview(session, alice), admin.find_accounts(session, alice),
                     admin.get_account(session, alice, bob.id)):
            with pytest.raises(Forbidden):
                await call
        boss = await load(session, cast.admin.id)
        boss.suspended_at = boss.created_at
        with pytest.raises(Forbidden):
            await admin.suspend(session, boss, bob.id)


async def test_suspend_revokes_tokens_and_unsuspend_lifts_it(client, ctx, cast):
    async with ctx.db.write() as session:
        boss = await load(session, cast.admin.id)
        suspended = await admin.suspend(session, boss, cast.bob.id)
        first = suspended.suspended_at
        again = await admin.suspend(session, boss, cast.bob.id)
        assert again.suspended_at == first  # suspending twice changes nothing
    assert (await client.get("/api/v1/accounts/verify_credentials", headers=cast.bob.headers)).status_code == 401
    async with ctx.db.write() as session:
        await admin.unsuspend(session, await load(session, cast.admin.id), cast.bob.id)
    async with ctx.db.read() as session:
        assert (await load(session, cast.bob.id)).suspended_at is None
    # The token stays revoked: bob signs in again.
    assert (await client.get("/api/v1/accounts/verify_credentials", headers=cast.bob.headers)).status_code == 401


async def test_admins_and_oneself_are_out_of_reach(ctx, cast, make_account):
    other = await make_account("admin2", role="admin")
    async with ctx.db.write() as session:
        boss = await load(session, cast.admin.id)
        for target in (boss.id, other.id):
            with pytest.raises(Unprocessable):
                await admin.suspend(session, boss, target)
            with pytest.raises(Unprocessable):
                await admin.reset_password(session, boss, target)
        with pytest.raises(NotFound):
            await admin.suspend(session, boss, 42)


async def test_reset_password_sets_a_working_random_password(ctx, cast):
    async with ctx.db.write() as session:
        account, password = await admin.reset_password(session, await load(session, cast.admin.id), cast.eve.id)
        assert len(password) >= 16 and account.id == cast.eve.id
    async with ctx.db.read() as session:
        stored = (await load(session, cast.eve.id)).password_hash
    assert verify_password(stored, password) and not verify_password(stored, cast.eve.password)


async def test_find_accounts_filters_and_pages(ctx, cast):
    async with ctx.db.write() as session:
        boss = await load(session, cast.admin.id)
        (await load(session, cast.carol.id)).approved = False
        await admin.suspend(session, boss, cast.bob.id)
        assert [a.username for a in await admin.find_accounts(session, boss, status="suspended")] == ["bob"]
        assert [a.username for a in await admin.find_accounts(session, boss, status="pending")] == ["carol"]
        assert [a.username for a in await admin.find_accounts(session, boss, query="ALI")] == ["alice"]
        assert [a.username for a in await admin.find_accounts(session, boss, query="100%_")] == []
        everyone = await admin.find_accounts(session, boss)
        assert [a.username for a in everyone] == ["eve", "carol", "bob", "alice", "admin"]
        older = await admin.find_accounts(session, boss, max_id=everyone[1].id, limit=2)
        assert [a.username for a in older] == ["bob", "alice"]
        with pytest.raises(Unprocessable):
            await admin.find_accounts(session, boss, status="everyone")


async def test_overview_counts(ctx, cast):
    async with ctx.db.write() as session:
        boss = await load(session, cast.admin.id)
        await admin.suspend(session, boss, cast.eve.id)
        facts = await admin.overview(session, boss)
    assert facts.accounts["total"] == 5 and facts.accounts["usable"] == 4 and facts.accounts["suspended"] == 1
    assert facts.accounts["new"] == 5 and len(facts.weeks) == 4


async def test_instance_settings_are_saved_all_or_none(ctx):
    async with ctx.db.write() as session:
        with pytest.raises(Unprocessable) as refused:
            await instance.update_instance_settings(session, {"title": "Fine", "max_characters": "0",
                                                              "registrations": "maybe", "colour": "red"})
        assert set(refused.value.details) == {"max_characters", "registrations", "colour"}
        options = await instance.get_instance_settings(session, ctx.settings)
        assert options.title == ctx.settings.instance_title
        await instance.update_instance_settings(session, {"title": "  Fine  ", "max_characters": "640"})
        options = await instance.get_instance_settings(session, ctx.settings)
        assert (options.title, options.max_characters) == ("Fine", 640)


async def test_authorizations_group_live_tokens_by_app_and_revoke_only_ones_own(client, ctx, cast):
    app = (await client.post("/api/v1/apps", json={
        "client_name": "Reader", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob", "scopes": "read write"})).json()
    async with ctx.db.write() as session:
        application = await oauth.authenticate_client(session, app["client_id"], app["client_secret"])
        for scopes in ("read", "write:statuses"):
            await service.issue_token(session, account_id=cast.alice.id, scopes=scopes, application_id=application.id)
        granted = await authorizations.authorizations(session, cast.alice.id)
        reader = next(a for a in granted if a.application_id == application.id)
        assert reader.name == "Reader" and reader.tokens == 2
        assert sorted(reader.scopes) == ["read", "write:statuses"]
        with pytest.raises(NotFound):
            await authorizations.revoke_authorization(session, cast.bob.id, application.id)
        assert await authorizations.revoke_authorization(session, cast.alice.id, application.id) == 2
        assert all(a.application_id != application.id
                   for a in await authorizations.authorizations(session, cast.alice.id))


async def test_change_email_checks_password_format_and_uniqueness(ctx, cast):
    async with ctx.db.write() as session:
        with pytest.raises(Unprocessable) as wrong:
            await credentials.change_email(session, cast.alice.id, email="not-an-email", current_password="nope")
        assert set(wrong.value.details) == {"email", "current_password"}
        with pytest.raises(Unprocessable) as taken:
            await credentials.change_email(session, cast.alice.id, email="BOB@testserver",
                                           current_password=cast.alice.password)
        assert "taken" in taken.value.message
        same = await credentials.change_email(session, cast.alice.id, email="ALICE@testserver",
                                              current_password=cast.alice.password)
        assert same.email == "ALICE@testserver"
