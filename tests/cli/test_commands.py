"""The `termgate` command line: registry commands, clear refusals, never a traceback."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner, Result

from termgate.cli import app
from termgate.core.secrets import hash_key
from termgate.db.engine import create_engine, session_factory
from termgate.db.models import Status, SubscriptionKey, new_id
from termgate.settings import get_settings

KEY_SHAPE = re.compile(r"^tg_[A-Za-z0-9_-]{43}$", re.MULTILINE)


@pytest.fixture
def cli(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("TERMGATE_DATABASE_URL", database_url)
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def invoke(cli: CliRunner, *args: str) -> Result:
    return cli.invoke(app, list(args))


def refused(result: Result, message: str) -> None:
    assert result.exit_code == 1, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output + result.stderr


def stored_key(database_url: str, secret: str) -> SubscriptionKey | None:
    async def read() -> SubscriptionKey | None:
        engine = create_engine(database_url)
        try:
            async with session_factory(engine)() as session:
                return await session.scalar(
                    select(SubscriptionKey).where(SubscriptionKey.key_hash == hash_key(secret))
                )
        finally:
            await engine.dispose()

    return asyncio.run(read())


@pytest.fixture
def new_key(cli: CliRunner, tmp_path: Path) -> Callable[[], tuple[str, str]]:
    """Makes a developer, an application and its key, all from the command line."""
    assert invoke(cli, "seed", "--credentials", str(tmp_path / "demo.json")).exit_code == 0
    return lambda: make_key(cli)


def make_key(cli: CliRunner) -> tuple[str, str]:
    email = f"dev-{new_id()[:8]}@example.nl"
    app_name = f"Insights {new_id()[:8]}"
    result = invoke(cli, "developer", "create", email, "--name", "Ann Jansen", "--accept-terms")
    assert result.exit_code == 0, result.output
    result = invoke(cli, "app", "create", "--developer", email, "--name", app_name)
    assert result.exit_code == 0, result.output
    result = invoke(cli, "key", "create", app_name)
    assert result.exit_code == 0, result.output
    match = KEY_SHAPE.search(result.stdout)
    assert match, result.stdout
    return match.group(0), app_name


def test_clause_2_key_is_created_shown_once_and_stored_hashed(
    cli: CliRunner, database_url: str, new_key: Callable[[], tuple[str, str]]
) -> None:
    secret, app_name = new_key()
    row = stored_key(database_url, secret)
    assert row is not None
    assert row.status is Status.ACTIVE
    listing = invoke(cli, "key", "list", "--app", app_name)
    assert listing.exit_code == 0
    assert row.prefix in listing.stdout
    assert secret not in listing.stdout


def test_clause_1_key_is_revoked_by_its_prefix(
    cli: CliRunner, database_url: str, new_key: Callable[[], tuple[str, str]]
) -> None:
    secret, _ = new_key()
    row = stored_key(database_url, secret)
    assert row is not None
    result = invoke(cli, "key", "revoke", row.prefix, "--reason", "lost laptop")
    assert result.exit_code == 0, result.output
    revoked = stored_key(database_url, secret)
    assert revoked is not None
    assert revoked.status is Status.REVOKED
    assert revoked.status_reason == "lost laptop"
    refused(invoke(cli, "key", "revoke", row.prefix), "already revoked")


def test_clause_3_2_production_key_needs_approval(
    cli: CliRunner, new_key: Callable[[], tuple[str, str]]
) -> None:
    _, app_name = new_key()
    refused(invoke(cli, "key", "create", app_name, "--product", "production"), "clause 3.2")


def test_bad_input_is_a_clear_message(cli: CliRunner) -> None:
    refused(invoke(cli, "developer", "create", "not-an-address", "--name", "X"), "e-mail")
    refused(
        invoke(cli, "app", "create", "--developer", "nobody@example.nl", "--name", "A"),
        "no developer",
    )
    refused(invoke(cli, "key", "create", "no such app"), "no application")
    refused(invoke(cli, "key", "revoke", "tg_unknown"), "no key")
    refused(invoke(cli, "key", "create", "no such app", "--slot", "third"), "no application")


def test_clause_3_2_an_application_declares_how_it_reads_data(cli: CliRunner) -> None:
    email = f"dev-{new_id()[:8]}@example.nl"
    assert invoke(cli, "developer", "create", email, "--name", "Ann Jansen").exit_code == 0
    made = ("app", "create", "--developer", email, "--name", "Nightly copy")
    refused(invoke(cli, *made, "--data-access", "everything"), "how the application reads data")
    result = invoke(cli, *made, "--data-access", "scheduled_sync")
    assert result.exit_code == 0, result.output
    listed = invoke(cli, "app", "list", "--developer", email, "--json")
    assert [row["data_access"] for row in json.loads(listed.stdout)] == ["scheduled_sync"]


def test_unmigrated_database_says_what_to_run(
    cli: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TERMGATE_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")
    get_settings.cache_clear()
    refused(invoke(cli, "developer", "list"), "termgate db upgrade")


def test_bad_setting_is_named(cli: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERMGATE_DATABASE_URL", "mysql://nowhere")
    get_settings.cache_clear()
    result = invoke(cli, "developer", "list")
    assert result.exit_code == 2
    assert "TERMGATE_DATABASE_URL" in result.stderr
    assert "Traceback" not in result.stderr


def test_seed_is_idempotent_and_replaces_a_revoked_demo_key(cli: CliRunner, tmp_path: Path) -> None:
    credentials = tmp_path / "demo-credentials.json"
    assert invoke(cli, "seed", "--credentials", str(credentials)).exit_code == 0
    first = json.loads(credentials.read_text())["subscription_key"]
    assert invoke(cli, "seed", "--credentials", str(credentials)).exit_code == 0
    assert json.loads(credentials.read_text())["subscription_key"] == first
    assert invoke(cli, "key", "revoke", first[:10]).exit_code == 0
    assert invoke(cli, "seed", "--credentials", str(credentials)).exit_code == 0
    assert json.loads(credentials.read_text())["subscription_key"] != first
