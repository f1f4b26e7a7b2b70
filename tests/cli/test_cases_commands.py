"""Clause 4.2 from the command line: open, list, show, escalate, accept; refusals are one line."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from termgate.db.models import new_id
from tests.cli.test_admin import invoke, refused
from tests.cli.test_mail_commands import cli  # noqa: F401 (the fixture)


def test_clause_4_2_cases_from_the_cli(cli: CliRunner) -> None:  # noqa: F811
    email = f"dev-{new_id()[:8]}@example.nl"
    assert invoke(cli, "developer", "create", email, "--name", "Ann Jansen").exit_code == 0
    refused(
        invoke(cli, "cases", "open", email, "--clause", "77", "--summary", "x"),
        "clauses: 77 is not a clause of the terms policy",
    )
    refused(
        invoke(cli, "cases", "open", "nobody@example.nl", "--clause", "4.4", "--summary", "x"),
        "no developer",
    )
    assert json.loads(invoke(cli, "cases", "list", "--json").stdout) == []
    opened = invoke(
        cli,
        "cases",
        "open",
        email,
        "--clause",
        "4.4",
        "--summary",
        "Over quota",
        "--cure-days",
        "5",
    )
    assert opened.exit_code == 0, opened.output
    [case] = json.loads(invoke(cli, "cases", "list", "--json").stdout)
    assert (case["state"], case["clauses"]) == ("noticed", "4.4")
    shown = invoke(cli, "cases", "show", case["id"])
    assert "case-notice" in shown.stdout
    refused(invoke(cli, "cases", "escalate", case["id"], "--reason", " "), "reason must not be")
    escalated = invoke(cli, "cases", "escalate", case["id"], "--reason", "no answer")
    assert "is suspended" in escalated.stdout, escalated.output
    accepted = invoke(cli, "cases", "accept", case["id"], "--reason", "paid up")
    assert "is cured" in accepted.stdout, accepted.output
    refused(invoke(cli, "cases", "accept", case["id"], "--reason", "again"), "cured cannot be")
    refused(invoke(cli, "cases", "show", "nope"), "no case 'nope'")
