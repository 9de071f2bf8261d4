"""`starling user create` and `starling user list`, run in-process on a fresh data dir."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from starling.cli import app
from starling.config import get_settings
from tests.postgres import ON_POSTGRES, backend_env


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    data = tmp_path / "data"
    monkeypatch.setenv("STARLING_DATA_DIR", str(data))
    monkeypatch.setenv("STARLING_DOMAIN", "localhost:3999")
    for name in ("STARLING_DATABASE_URL", "STARLING_REDIS_URL", "STARLING_REDIS_PREFIX"):
        monkeypatch.delenv(name, raising=False)
    for name, value in backend_env(data).items():  # the PostgreSQL pass: this data dir's database
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    yield data
    get_settings.cache_clear()


def test_user_create_and_list(data_dir):
    runner = CliRunner()
    assert runner.invoke(app, ["migrate"]).exit_code == 0
    created = runner.invoke(app, ["user", "create", "bob", "--email", "b@x.y", "--password",
                                  "a good password"])
    assert created.exit_code == 0, created.output
    assert "created @bob" in created.output and "password:" not in created.output
    generated = runner.invoke(app, ["user", "create", "root2", "--email", "r@x.y", "--admin"])
    assert generated.exit_code == 0 and "password: " in generated.output
    listed = runner.invoke(app, ["user", "list"])
    assert listed.exit_code == 0
    lines = listed.output.strip().splitlines()
    assert [line.split("\t")[1] for line in lines] == ["@bob", "@root2"]
    assert lines[0].split("\t")[2:] == ["b@x.y", "user"] and lines[1].endswith("admin")
    assert (data_dir / "starling.sqlite3").exists() != ON_POSTGRES


def test_user_create_reports_validation_errors(data_dir):
    runner = CliRunner()
    runner.invoke(app, ["migrate"])
    runner.invoke(app, ["user", "create", "bob", "--email", "b@x.y", "--password", "a good password"])
    duplicate = runner.invoke(app, ["user", "create", "BOB", "--email", "b@x.y", "--password",
                                    "a good password"])
    assert duplicate.exit_code == 1
    assert "Username has already been taken" in duplicate.output
    short = runner.invoke(app, ["user", "create", "carl", "--email", "c@x.y", "--password", "short"])
    assert short.exit_code == 1 and "Password is too short" in short.output
