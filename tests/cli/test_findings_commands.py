"""Clause 4.1 at the command line: `termgate findings list|show|dismiss` and `termgate detect
run`; bad input ends in one clear line and changes nothing."""

from __future__ import annotations

import asyncio
import json

from typer.testing import CliRunner

from termgate.cli import app
from termgate.db.engine import create_engine, session_factory
from termgate.db.models import new_id
from termgate.monitoring.findings import FindingDraft, get_finding, record_finding
from termgate.settings import load_settings


def seed_finding(database_url: str, developer_id: str) -> str:
    async def run() -> str:
        engine = create_engine(database_url)
        try:
            async with session_factory(engine).begin() as session:
                draft = FindingDraft(
                    "probing",
                    "3.3 c",
                    "major",
                    developer_id,
                    new_id(),
                    None,
                    "probing:application",
                    "40 of 50 requests refused",
                    {"requests": 50, "refused": 40},
                )
                finding = await record_finding(
                    session, draft, now=load_settings().now(), simulated=False
                )
                return finding.id
        finally:
            await engine.dispose()

    return asyncio.run(run())


def state_of(database_url: str, finding_id: str) -> tuple[str, str | None]:
    async def run() -> tuple[str, str | None]:
        engine = create_engine(database_url)
        try:
            async with session_factory(engine)() as session:
                finding = await get_finding(session, finding_id)
                return finding.state, finding.state_reason
        finally:
            await engine.dispose()

    return asyncio.run(run())


def test_clause_4_1_findings_listed_shown_and_dismissed_from_the_command_line(
    cli: CliRunner, database_url: str
) -> None:
    developer = new_id()
    finding_id = seed_finding(database_url, developer)
    listed = cli.invoke(app, ["findings", "list", "--developer", developer, "--json"])
    assert listed.exit_code == 0, listed.output
    [row] = json.loads(listed.stdout)
    assert (row["id"], row["clause"], row["evidence"]["refused"]) == (finding_id, "3.3 c", 40)
    table = cli.invoke(app, ["findings", "list", "--state", "open", "--developer", developer])
    assert finding_id in table.stdout
    shown = cli.invoke(app, ["findings", "show", finding_id])
    assert json.loads(shown.stdout)["summary"] == "40 of 50 requests refused"

    unknown = cli.invoke(app, ["findings", "show", "nope"])
    assert unknown.exit_code == 1
    assert "no finding 'nope'" in unknown.stderr
    blank = cli.invoke(app, ["findings", "dismiss", finding_id, "--reason", " "])
    assert blank.exit_code == 1
    assert "reason" in blank.stderr
    assert "Traceback" not in blank.output + blank.stderr
    assert state_of(database_url, finding_id) == ("open", None)

    dismissed = cli.invoke(app, ["findings", "dismiss", finding_id, "--reason", "load test"])
    assert dismissed.exit_code == 0, dismissed.output
    assert state_of(database_url, finding_id) == ("dismissed", "load test")
    again = cli.invoke(app, ["findings", "dismiss", finding_id, "--reason", "again"])
    assert again.exit_code == 1
    assert "already dismissed" in again.stderr


def test_clause_4_1_detect_run_runs_one_pass(cli: CliRunner) -> None:
    done = cli.invoke(app, ["detect", "run"])
    assert done.exit_code == 0, done.output
    assert "finding(s) recorded or updated" in done.stdout
    bad = cli.invoke(app, ["detect", "run", "--at", "yesterday"])
    assert bad.exit_code == 2
