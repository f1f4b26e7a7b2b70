"""Listings for programs (`--json`, stable keys), tables that are not cut at 80 columns when
piped, and the command line's actor (`cli:<OS user>`) on what it creates."""

from __future__ import annotations

import asyncio
import getpass
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner, Result

from termgate.cli import app
from termgate.db.engine import create_engine, session_factory
from termgate.db.models import new_id
from termgate.db.programme import AuditEntry
from termgate.settings import get_settings

LONG_NAME = "Annemarie " + "van der " * 20 + "Berg-Jansen"  # 181 characters
DEVELOPER_KEYS = {
    "id", "email", "name", "organisation", "status", "status_reason", "email_verified",
    "created_at",
}  # fmt: skip
APPLICATION_KEYS = {
    "id", "name", "developer_id", "developer_email", "data_access", "environment", "status",
    "status_reason", "created_at",
}  # fmt: skip
KEY_KEYS = {
    "id", "prefix", "slot", "subscription_id", "application_id", "application", "plan_id",
    "plan", "status", "status_reason", "created_at", "revoked_at",
}  # fmt: skip


@pytest.fixture
def cli(database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[CliRunner]:
    monkeypatch.setenv("TERMGATE_DATABASE_URL", database_url)
    monkeypatch.setenv("TERMGATE_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("COLUMNS", raising=False)
    get_settings.cache_clear()
    runner = CliRunner()
    seeded = runner.invoke(app, ["seed", "--credentials", str(tmp_path / "demo.json")])
    assert seeded.exit_code == 0, seeded.output
    yield runner
    get_settings.cache_clear()


def invoke(cli: CliRunner, *args: str) -> Result:
    result = cli.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result


def listed(cli: CliRunner, *args: str) -> list[dict[str, Any]]:
    rows = json.loads(invoke(cli, *args, "--json").stdout)
    assert isinstance(rows, list)
    return rows


def audit_of(database_url: str, entity_id: str) -> list[tuple[str, str, str]]:
    async def read() -> list[tuple[str, str, str]]:
        engine = create_engine(database_url)
        try:
            async with session_factory(engine)() as session:
                rows = await session.scalars(
                    select(AuditEntry).where(AuditEntry.entity_id == entity_id)
                )
                return [(e.actor, e.action, e.reason) for e in rows]
        finally:
            await engine.dispose()

    return asyncio.run(read())


def made_from_the_command_line(cli: CliRunner) -> tuple[str, str]:
    email = f"dev-{new_id()[:8]}@example.nl"
    app_name = f"Insights {new_id()[:8]}"
    invoke(cli, "developer", "create", email, "--name", LONG_NAME, "--accept-terms")
    invoke(cli, "app", "create", "--developer", email, "--name", app_name)
    invoke(cli, "key", "create", app_name)
    return email, app_name


def test_listings_in_json_parse_with_stable_keys(cli: CliRunner, tmp_path: Path) -> None:
    email, app_name = made_from_the_command_line(cli)
    developers = {row["email"]: row for row in listed(cli, "developer", "list")}
    assert set(developers[email]) == DEVELOPER_KEYS
    assert developers[email]["name"] == LONG_NAME
    assert developers[email]["status"] == "active"
    applications = {row["name"]: row for row in listed(cli, "app", "list")}
    assert set(applications[app_name]) == APPLICATION_KEYS
    assert applications[app_name]["developer_email"] == email
    keys = listed(cli, "key", "list", "--app", app_name)
    assert [set(row) for row in keys] == [KEY_KEYS]
    assert keys[0]["application"] == app_name
    assert keys[0]["created_at"].startswith("20")
    # A product of this test's own: the session's database is shared, and other tests change
    # the seeded plans.
    product = f"listing-{new_id()[:8]}"
    catalogue = tmp_path / "catalogue.toml"
    catalogue.write_text(
        f'[products.{product}]\nname = "Listing"\nenvironment = "sandbox"\n'
        f'[products.{product}.plans.basic]\nname = "Basic"\nrate_limit_per_minute = 60\n',
        encoding="utf-8",
    )
    invoke(cli, "apply", str(catalogue))
    plans = {f"{row['product']}/{row['plan']}": row for row in listed(cli, "plan", "list")}
    assert plans[f"{product}/basic"]["rate_limit_per_minute"] == 60
    assert plans[f"{product}/basic"]["max_in_flight"] is None  # no limit is null, not a word
    assert listed(cli, "lifecycle", "show") == []


def test_clause_8_the_maintenance_calendar_in_json(cli: CliRunner) -> None:
    # The rule is set here: the session's database is shared with tests that change it.
    invoke(cli, "maintenance", "rule", "--weekday", "2", "--start", "20:00", "--duration", "60")
    calendar = json.loads(invoke(cli, "maintenance", "show", "--json").stdout)
    assert set(calendar) == {"weekly", "windows", "exceptions"}
    assert calendar["weekly"] == [
        {
            "weekday": 2,
            "start_time": "20:00",
            "time_zone": "Europe/Amsterdam",
            "duration_minutes": 60,
        }
    ]
    assert len(calendar["windows"]) >= 12
    assert set(calendar["windows"][0]) == {"start", "end", "kind", "reason", "uid"}
    assert calendar["windows"][0]["start"].endswith("+00:00")


def test_clause_4_2_what_the_command_line_creates_is_audited_as_cli_and_the_os_user(
    cli: CliRunner, database_url: str
) -> None:
    email, app_name = made_from_the_command_line(cli)
    actor = f"cli:{getpass.getuser()}"
    developer = listed(cli, "developer", "list")
    [developer_id] = [row["id"] for row in developer if row["email"] == email]
    [application_id] = [row["id"] for row in listed(cli, "app", "list") if row["name"] == app_name]
    [key] = listed(cli, "key", "list", "--app", app_name)
    # `--accept-terms` records an acceptance made outside the portal: the operator did that.
    created, accepted = audit_of(database_url, developer_id)
    assert created == (actor, "created", "")
    assert accepted[:2] == (actor, "accepted-terms")
    # The version current in the session's shared database (other tests publish some).
    assert re.fullmatch(
        rf"version \S+, accepted by {re.escape(email)} outside the portal", accepted[2]
    )
    assert audit_of(database_url, application_id) == [
        (actor, "created", f"for developer {developer_id}")
    ]
    assert audit_of(database_url, key["subscription_id"]) == [
        (actor, "created", "plan sandbox/free")
    ]
    issued = f"primary key {key['prefix']}… of subscription {key['subscription_id']}"
    assert audit_of(database_url, key["id"]) == [(actor, "issued", issued)]
    invoke(cli, "key", "revoke", key["id"], "--reason", "rotated")
    assert audit_of(database_url, key["id"])[-1] == (actor, "revoked", "rotated")


def test_clause_4_4_a_plan_change_says_unlimited_not_none(
    cli: CliRunner, database_url: str
) -> None:
    [plan] = [row for row in listed(cli, "plan", "list") if row["plan"] == "free"]
    invoke(cli, "plan", "set", "sandbox/free", "--in-flight", "5")
    invoke(cli, "plan", "set", "sandbox/free", "--in-flight", "none")
    reasons = [reason for _, action, reason in audit_of(database_url, plan["id"])]
    assert reasons[-2:] == ["max_in_flight unlimited → 5", "max_in_flight 5 → unlimited"]


def test_tables_are_not_cut_at_80_columns_when_piped(
    cli: CliRunner, database_url: str, tmp_path: Path
) -> None:
    email, _ = made_from_the_command_line(cli)
    env = {name: value for name, value in os.environ.items() if name != "COLUMNS"}
    env["TERMGATE_DATABASE_URL"] = database_url
    env["TERMGATE_VAR_DIR"] = str(tmp_path / "var")
    piped = subprocess.run(
        [sys.executable, "-m", "termgate", "developer", "list"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert piped.returncode == 0, piped.stderr
    [row] = [line for line in piped.stdout.splitlines() if email in line]
    assert LONG_NAME in row
    assert len(row) > 200


def piped_run(database_url: str, tmp_path: Path, *args: str) -> str:
    """A command run as a script runs it: stdout a pipe, no terminal, no COLUMNS."""
    env = {name: value for name, value in os.environ.items() if name != "COLUMNS"}
    env["TERMGATE_DATABASE_URL"] = database_url
    env["TERMGATE_VAR_DIR"] = str(tmp_path / "var")
    done = subprocess.run(
        [sys.executable, "-m", "termgate", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_issue_14_piped_messages_and_every_table_keep_ids_on_one_line(
    cli: CliRunner, database_url: str, tmp_path: Path
) -> None:
    email = f"dev-{new_id()[:8]}@example.nl"
    invoke(cli, "developer", "create", email, "--name", "Piped", "--accept-terms")
    app_name = "Payroll export for" + " a very long customer name" * 4
    created = piped_run(
        database_url, tmp_path, "app", "create", "--developer", email, "--name", app_name
    )
    [application_id] = [row["id"] for row in listed(cli, "app", "list") if row["name"] == app_name]
    assert created == f"application {app_name} created: id {application_id}\n"
    key_line, secret = piped_run(database_url, tmp_path, "key", "create", app_name).splitlines()
    [key] = listed(cli, "key", "list", "--app", app_name)
    assert key_line == f"primary key {key['id']} for sandbox; it is shown only this once:"
    assert secret.startswith(key["prefix"])
    # Tables printed by commands other than the listings of `--json` are not cut either.
    issued = piped_run(
        database_url,
        tmp_path,
        "admin",
        "token",
        "issue",
        "admin@provider.example",
        "--label",
        "piped",
    )
    token_id = ""
    for line in piped_run(database_url, tmp_path, "admin", "token", "list").splitlines():
        if " piped " in line:
            token_id = line.split()[1]
    assert re.fullmatch("[0-9a-f]{32}", token_id), issued
    [current] = piped_run(database_url, tmp_path, "db", "current").splitlines()
    assert current.endswith("the one this termgate expects")


ADMIN_KEYS = {"id", "email", "name", "role", "created_at", "disabled_at"}
TOKEN_KEYS = {
    "id", "label", "administrator_id", "administrator_email", "created_at", "expires_at",
    "last_used_at", "revoked_at",
}  # fmt: skip


def test_issue_14_administrators_and_their_tokens_in_json(cli: CliRunner) -> None:
    email = f"ops-{new_id()[:8]}@provider.example"
    invoke(cli, "admin", "create", email, "--name", "Ops", "--password", "a long passphrase 9",
           "--role", "operator")  # fmt: skip
    [admin] = [row for row in listed(cli, "admin", "list") if row["email"] == email]
    assert set(admin) == ADMIN_KEYS
    assert (admin["role"], admin["disabled_at"]) == ("operator", None)
    invoke(cli, "admin", "token", "issue", email, "--label", "nightly", "--expires", "30d")
    [token] = listed(cli, "admin", "token", "list", email)
    assert set(token) == TOKEN_KEYS
    assert (token["label"], token["administrator_id"]) == ("nightly", admin["id"])
    lifetime = datetime.fromisoformat(token["expires_at"]) - datetime.fromisoformat(
        token["created_at"]
    )
    assert abs(lifetime - timedelta(days=30)) < timedelta(minutes=1)
    assert (token["last_used_at"], token["revoked_at"]) == (None, None)
    invoke(cli, "admin", "token", "revoke", token["id"])
    [revoked] = listed(cli, "admin", "token", "list", email)
    assert datetime.fromisoformat(revoked["revoked_at"]).tzinfo is not None


def test_issue_14_terms_signing_keys_incidents_and_attestations_list_in_json(
    cli: CliRunner,
) -> None:
    terms = listed(cli, "terms", "list")
    assert terms
    assert set(terms[0]) == {
        "version", "current", "title", "published_at", "published_by", "reaccept_deadline",
        "accepted",
    }  # fmt: skip
    assert [row["current"] for row in terms].count(True) == 1
    signing = listed(cli, "signing-key", "list")
    assert signing
    assert set(signing[0]) == {
        "kid", "state", "created_at", "activates_at", "retired_at", "sealed_by_this_secret_key",
        "seal_id",
    }  # fmt: skip
    assert any(row["state"] == "active" for row in signing), signing
    for command in (("incidents", "list"), ("attestations", "outstanding")):
        assert isinstance(listed(cli, *command), list)
