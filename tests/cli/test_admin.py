"""`termgate admin|terms|suspend|reinstate`: the provider's commands, clear one-line refusals."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner, Result

from termgate.cli import app
from termgate.cli.common import cli_actor
from termgate.cli.demo_seed import ADMIN
from termgate.core.audit import verify_chain
from termgate.db.engine import create_engine, session_factory
from termgate.db.models import Developer, Status, new_id
from termgate.db.programme import AuditEntry
from termgate.registry.admins import administrator_for_token

TOKEN = re.compile(r"^tga_tg_[A-Za-z0-9_-]{43}$", re.MULTILINE)


def invoke(cli: CliRunner, *args: str, input: str | None = None) -> Result:
    return cli.invoke(app, list(args), input=input)


def refused(result: Result, message: str) -> None:
    assert result.exit_code == 1, result.output
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.output + result.stderr


def read(database_url: str, query: object) -> object:
    async def run() -> object:
        engine = create_engine(database_url)
        try:
            async with session_factory(engine)() as session:
                return await session.scalar(query)  # type: ignore[call-overload]
        finally:
            await engine.dispose()

    return asyncio.run(run())


def has_token(database_url: str, token: str) -> bool:
    async def run() -> bool:
        engine = create_engine(database_url)
        try:
            async with session_factory(engine)() as session:
                return await administrator_for_token(session, token) is not None
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_clause_3_1_admin_create_takes_its_password_from_a_file_or_a_terminal_only(
    cli: CliRunner, database_url: str, tmp_path: Path
) -> None:
    email = f"ops-{new_id()[:8]}@provider.example"
    secret = tmp_path / "password"
    secret.write_text("long enough secret\n", encoding="utf-8")
    created = invoke(cli, "admin", "create", email, "--name", "Ops", "--password-file", str(secret))
    assert created.exit_code == 0, created.output
    assert "long enough secret" not in created.output
    assert f"administrator {email} created" in created.stdout
    refused(
        invoke(cli, "admin", "create", email, "--name", "Ops", "--password", "a new passphrase"),
        "already exists",
    )
    refused(
        invoke(cli, "admin", "create", f"x{email}", "--name", "Ops", "--password", "short"),
        "at least 10 characters",
    )
    # Issue 14: no password from a script is one line naming the file option (the password is
    # never read where it would be echoed), and a published or guessable one is refused.
    refused(invoke(cli, "admin", "create", f"y{email}", "--name", "Ops"), "--password-file FILE")
    refused(
        invoke(cli, "admin", "create", f"z{email}", "--name", "Ops", "--password", ADMIN[2]),
        "that password is published",
    )
    refused(
        invoke(cli, "admin", "create", f"w{email}", "--name", "Ops", "--password", "a" * 12),
        "too easy to guess",
    )
    refused(
        invoke(cli, "admin", "create", f"v{email}", "--name", "Ops", "--password-file", "/nope"),
        "--password-file: cannot read '/nope'",
    )
    listed = invoke(cli, "admin", "list", "--json").stdout
    assert email in listed
    for prefix in "xyzwv":
        assert f"{prefix}{email}" not in listed

    issued = invoke(cli, "admin", "token", "issue", email, "--label", "ci")
    assert issued.exit_code == 0, issued.output
    match = TOKEN.search(issued.stdout)
    assert match, issued.stdout
    assert has_token(database_url, match.group(0))
    refused(invoke(cli, "admin", "token", "issue", "nobody@provider.example"), "no administrator")


def test_clause_9_terms_publish_and_list(cli: CliRunner, database_url: str, tmp_path: Path) -> None:
    assert invoke(cli, "seed", "--credentials", str(tmp_path / "demo.json")).exit_code == 0
    text = tmp_path / "terms.md"
    text.write_text("# API Terms of Use\n\nAmended text.\n")
    version = f"9.{new_id()[:6]}"
    published = invoke(
        cli,
        "terms",
        "publish",
        str(text),
        "--version",
        version,
        "--title",
        "API Terms of Use",
        "--summary",
        "Clarified clause 4.4.",
        "--reaccept-days",
        "14",
    )
    assert published.exit_code == 0, published.output
    assert f"terms version {version} published; developers must accept it by" in published.stdout
    listed = invoke(cli, "terms", "list")
    assert listed.exit_code == 0, listed.output
    assert f"{version} (current)" in listed.stdout
    assert cli_actor() in listed.stdout

    again = invoke(
        cli, "terms", "publish", str(text), "--version", version, "--title", "T", "--summary", "S"
    )
    refused(again, "already exists")
    missing = invoke(
        cli,
        "terms",
        "publish",
        str(tmp_path / "nope.md"),
        "--version",
        "x",
        "--title",
        "T",
        "--summary",
        "S",
    )
    refused(missing, "cannot read")


def test_clause_3_1_suspend_and_reinstate_from_the_command_line(
    cli: CliRunner, database_url: str
) -> None:
    email = f"dev-{new_id()[:8]}@example.nl"
    assert invoke(cli, "developer", "create", email, "--name", "Ann Jansen").exit_code == 0
    suspended = invoke(cli, "suspend", "developer", email, "--reason", "unpaid invoices")
    assert suspended.exit_code == 0, suspended.output
    assert f"developer account {email} suspended" in suspended.stdout
    status = read(database_url, select(Developer.status).where(Developer.email == email))
    assert status is Status.SUSPENDED
    refused(invoke(cli, "suspend", "developer", email, "--reason", "again"), "already suspended")
    refused(invoke(cli, "reinstate", "developer", email, "--reason", "  "), "give a reason")
    reinstated = invoke(cli, "reinstate", "developer", email, "--reason", "paid")
    assert reinstated.exit_code == 0, reinstated.output
    last = read(database_url, select(AuditEntry).order_by(AuditEntry.id.desc()).limit(1))
    assert isinstance(last, AuditEntry)
    assert (last.action, last.actor, last.reason) == ("reinstated", cli_actor(), "paid")

    async def chain() -> int | None:
        engine = create_engine(database_url)
        try:
            async with session_factory(engine)() as session:
                return await verify_chain(session)
        finally:
            await engine.dispose()

    assert asyncio.run(chain()) is None
    refused(invoke(cli, "suspend", "key", "tg_nothing", "--reason", "x"), "no key")
    refused(invoke(cli, "suspend", "subscription", "nope", "--reason", "x"), "no subscription")
    wrong_kind = invoke(cli, "suspend", "planet", "x", "--reason", "x")
    assert wrong_kind.exit_code == 2
