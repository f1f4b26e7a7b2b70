"""`termgate admin ...`: administrators with roles, disabled and enabled, admin API tokens with
a label and an expiry, listed and revoked; the last active owner stays; and every write, from
the command line or the admin API, is audited under its real actor."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner, Result

from termgate.cli.common import cli_actor
from termgate.db.engine import create_engine, session_factory
from termgate.db.models import Developer, Plan, Product, Status, SubscriptionKey
from termgate.db.programme import Administrator, AdminRole, AdminToken, AuditEntry
from termgate.registry.admin_tokens import issue_admin_token
from termgate.registry.admins import create_administrator
from termgate.settings import load_settings
from termgate.web.app import create_control_app
from tests.cli.test_admin import TOKEN, invoke, read, refused
from tests.conftest import free_port

PASSWORD = "a long passphrase 12"
SECRET = ("--password", PASSWORD)


@pytest.fixture
def empty(engine: AsyncEngine) -> AsyncEngine:
    """The session's database emptied (the `engine` fixture does it), for a known set of owners."""
    return engine


@pytest.fixture
def os_user(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("LOGNAME", "kim")  # what getpass.getuser() reads first
    return "cli:kim"


def ok(result: Result) -> str:
    assert result.exit_code == 0, result.output
    return result.stdout


def test_clause_3_1_admin_roles_disable_enable_and_tokens(
    cli: CliRunner, database_url: str, empty: AsyncEngine, os_user: str
) -> None:
    assert cli_actor() == os_user
    owner, kim = "owner@provider.example", "kim@provider.example"
    ok(invoke(cli, "admin", "create", owner, "--name", "Owner", "--password", PASSWORD))
    created = ok(
        invoke(
            cli, "admin", "create", kim, "--name", "Kim", "--role", "viewer", "--password", PASSWORD
        )
    )
    assert f"administrator {kim} created as viewer" in created
    refused(
        invoke(
            cli,
            "admin",
            "create",
            "x@provider.example",
            "--name",
            "X",
            "--role",
            "root",
            "--password",
            PASSWORD,
        ),
        "'root' is not a role; use one of viewer, operator, owner",
    )
    listed = ok(invoke(cli, "admin", "list"))
    [row] = [line for line in listed.splitlines() if kim in line]
    assert "viewer" in row
    assert "is now operator" in ok(invoke(cli, "admin", "set-role", kim, "operator"))
    refused(invoke(cli, "admin", "set-role", owner, "viewer"), "is the last active owner")
    refused(invoke(cli, "admin", "disable", owner, "--reason", "x"), "is the last active owner")
    assert "disabled" in ok(invoke(cli, "admin", "disable", kim, "--reason", "left the team"))
    refused(invoke(cli, "admin", "disable", kim, "--reason", "again"), "already disabled")
    refused(invoke(cli, "admin", "token", "issue", kim), "is disabled; enable the account first")
    ok(invoke(cli, "admin", "enable", kim, "--reason", "back"))

    issued = ok(
        invoke(cli, "admin", "token", "issue", kim, "--label", "deploy", "--expires", "30d")
    )
    assert TOKEN.search(issued)
    for bad, message in (("-1d", "neither a duration"), ("2001-01-01", "in the future"),
                         ("99999d", "at most ten years")):  # fmt: skip
        refused(invoke(cli, "admin", "token", "issue", kim, "--expires", bad), message)
    tokens = ok(invoke(cli, "admin", "token", "list", kim))
    assert "deploy" in tokens
    token_id = read(database_url, select(AdminToken.id).where(AdminToken.label == "deploy"))
    assert isinstance(token_id, str)
    expires = read(database_url, select(AdminToken.expires_at).where(AdminToken.id == token_id))
    assert expires is not None
    assert "revoked" in ok(invoke(cli, "admin", "token", "revoke", token_id))
    refused(invoke(cli, "admin", "token", "revoke", token_id), "already revoked")
    refused(invoke(cli, "admin", "token", "revoke", "nope"), "no admin token")
    role = read(database_url, select(Administrator.role).where(Administrator.email == kim))
    assert role is AdminRole.OPERATOR


def _last_id(database_url: str) -> int:
    return int(read(database_url, select(func.coalesce(func.max(AuditEntry.id), 0))) or 0)  # type: ignore[call-overload]


def _entries_after(database_url: str, after: int) -> list[tuple[str, str]]:
    async def run() -> list[tuple[str, str]]:
        engine = create_engine(database_url)
        try:
            async with session_factory(engine)() as session:
                rows = await session.scalars(
                    select(AuditEntry).where(AuditEntry.id > after).order_by(AuditEntry.id)
                )
                return [(row.actor, row.action) for row in rows]
        finally:
            await engine.dispose()

    return asyncio.run(run())


def _cli_walk(cli: CliRunner, database_url: str, tmp_path: Path) -> None:
    kim = "kim@provider.example"
    developer = read(database_url, select(Developer.email).limit(1))
    key = read(
        database_url, select(SubscriptionKey.id).where(SubscriptionKey.status == Status.ACTIVE)
    )
    text = tmp_path / "terms.md"
    text.write_text("# Terms\n\nAmended.\n")
    for command in (
        ("admin", "create", kim, "--name", "Kim", "--role", "viewer", "--password", PASSWORD),
        ("admin", "set-role", kim, "operator"),
        ("admin", "disable", kim, "--reason", "leave"),
        ("admin", "enable", kim, "--reason", "back"),
        ("admin", "token", "issue", kim, "--label", "walk"),
        ("suspend", "developer", str(developer), "--reason", "probe"),
        ("reinstate", "developer", str(developer), "--reason", "cured"),
        ("key", "revoke", str(key), "--reason", "leaked"),
        ("plan", "set", "sandbox/free", "--rate", "77"),
        ("terms", "publish", str(text), "--version", "7.7", "--title", "T", "--summary", "S"),
        ("maintenance", "rule", "--weekday", "3"),
    ):
        ok(invoke(cli, *command))
    token_id = read(database_url, select(AdminToken.id).where(AdminToken.label == "walk"))
    ok(invoke(cli, "admin", "token", "revoke", str(token_id)))


async def _api_walk(database_url: str) -> None:
    settings = load_settings(
        database_url=database_url, secret_key="x" * 40, smtp_port=free_port(),
        public_url="http://portal.test", upstream_url=f"http://127.0.0.1:{free_port()}",
    )  # fmt: skip
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    async with sessions.begin() as session:
        owner = await create_administrator(
            session, email="lee@provider.example", name="Lee", actor="tests"
        )
        token = await issue_admin_token(session, owner, "audit-walk", actor="tests")
        developer = await session.scalar(select(Developer.id).limit(1))
        key = await session.scalar(
            select(SubscriptionKey.id).where(SubscriptionKey.status == Status.ACTIVE)
        )
        plan = await session.scalar(select(Plan.id).join(Product).where(Product.slug == "sandbox"))
    app = create_control_app(settings, engine)
    transport = httpx.ASGITransport(app=app)
    auth = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://portal.test/admin/api", headers=auth
    ) as api:
        created = await api.post(
            "/administrators",
            json={"email": "sam@provider.example", "name": "Sam", "role": "viewer"},
        )
        sam = created.json()["id"]
        answers = [
            created,
            await api.patch(f"/administrators/{sam}", json={"role": "operator"}),
            await api.patch(f"/administrators/{sam}", json={"disabled": True, "reason": "r"}),
            await api.patch(f"/administrators/{sam}", json={"disabled": False, "reason": "r"}),
            issued := await api.post(f"/administrators/{sam}/tokens", json={"label": "sam-ci"}),
            await api.post(f"/admin-tokens/{issued.json()['id']}/revoke"),
            await api.post(f"/developers/{developer}/suspend", json={"reason": "probe"}),
            await api.post(f"/developers/{developer}/reinstate", json={"reason": "cured"}),
            await api.patch(f"/plans/{plan}", json={"rateLimitPerMinute": 88}),
            await api.post(f"/keys/{key}/revoke", json={"reason": "leaked"}),
        ]
    await engine.dispose()
    for answer in answers:
        assert answer.status_code in (200, 201), answer.text


CLI_ACTIONS = {
    "created-administrator", "changed-administrator-role", "disabled-administrator",
    "enabled-administrator", "issued-admin-token", "revoked-admin-token", "suspended",
    "reinstated", "revoked", "changed-plan", "published-terms", "maintenance.rule",
}  # fmt: skip
API_ACTIONS = CLI_ACTIONS - {"published-terms", "maintenance.rule"}


def test_every_admin_action_audited_with_its_actor(
    cli: CliRunner, database_url: str, empty: AsyncEngine, os_user: str, tmp_path: Path
) -> None:
    ok(invoke(cli, "seed", "--credentials", str(tmp_path / "demo.json")))
    start = _last_id(database_url)
    _cli_walk(cli, database_url, tmp_path)
    walked = _entries_after(database_url, start)
    assert {actor for actor, _ in walked} == {os_user}, walked
    assert {action for _, action in walked} >= CLI_ACTIONS

    start = _last_id(database_url)
    asyncio.run(_api_walk(database_url))
    walked = _entries_after(database_url, start)
    actor = "token:audit-walk (lee@provider.example)"
    assert {who for who, _ in walked} == {"tests", actor}, walked
    assert {action for who, action in walked if who == actor} >= API_ACTIONS
