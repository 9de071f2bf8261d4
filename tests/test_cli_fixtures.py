"""`starling fixtures mastodon-py`: the accounts, app and fixed tokens Mastodon.py's suite expects."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from starling.accounts import repository
from starling.accounts.models import AccessToken, Account, Application
from starling.accounts.passwords import verify_password
from starling.fixtures import MASTODON_PY_PASSWORD, seed_into
from tests.live import run_cli, server_env
from tests.postgres import instance_rows


async def seed_twice(ctx) -> None:
    for _ in range(2):
        async with ctx.db.write() as session:
            await seed_into(session, ctx.settings)


async def test_seeded_tokens_authenticate_as_their_owners(ctx, client):
    await seed_twice(ctx)
    owners = {"__MASTODON_PY_TEST_ACCESS_TOKEN": "mastodonpy_test",
              "__MASTODON_PY_TEST_ACCESS_TOKEN_3": "mastodonpy_test_2",
              "__MASTODON_PY_TEST_ACCESS_TOKEN_2": "admin"}
    for token, username in owners.items():
        response = await client.get("/api/v1/accounts/verify_credentials",
                                    headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, response.text
        assert response.json()["username"] == username


async def test_seed_is_idempotent_and_matches_setup_sql(ctx):
    await seed_twice(ctx)
    async with ctx.db.read() as session:
        assert await session.scalar(select(func.count()).select_from(Account)) == 4
        assert await session.scalar(select(func.count()).select_from(Application)) == 1
        assert await session.scalar(select(func.count()).select_from(AccessToken)) == 3
        test = await repository.by_username(session, "mastodonpy_test")
        assert (test.email, test.locked, test.locale) == ("mastodonpy_test@localhost", True, "ja")
        test2 = await repository.by_username(session, "mastodonpy_test_2")
        assert (test2.locked, test2.discoverable, test2.indexable) == (False, True, True)
        assert verify_password(test2.password_hash, MASTODON_PY_PASSWORD)
        admin2 = await repository.by_username(session, "admin2")
        assert (admin2.email, admin2.role) == ("zerocool@example.com", "admin")
        app = await session.scalar(select(Application))
        assert app.client_id == "__MASTODON_PY_TEST_CLIENT_ID"
        assert app.client_secret_hash != "__MASTODON_PY_TEST_CLIENT_SECRET"
        admin_token = await session.scalar(
            select(AccessToken).join(Account, Account.id == AccessToken.account_id)
            .where(Account.username == "admin"))
        assert "admin:write" in admin_token.scopes.split()


@pytest.mark.slow
def test_cli_command_seeds_a_fresh_data_dir(tmp_path):
    env = server_env(tmp_path / "data", "localhost:3000")
    for _ in range(2):
        assert "seeded" in run_cli(["fixtures", "mastodon-py"], env).stdout
    names = {row[0] for row in instance_rows(tmp_path / "data", "SELECT username FROM accounts")}
    assert names == {"admin", "admin2", "mastodonpy_test", "mastodonpy_test_2"}
    assert instance_rows(tmp_path / "data", "SELECT count(*) FROM oauth_access_tokens") == [(3,)]
