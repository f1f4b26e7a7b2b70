"""Clauses 5.1, 6.2-6.4 from the command line: terminate a developer, list who has not attested,
export the case file; bad input is one line naming the option, and changes nothing."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from termgate.db.due_process_records import Termination
from termgate.db.models import Developer, Status, new_id
from tests.cli.test_admin import invoke, read, refused


def _developer_id(database_url: str, email: str) -> str:
    found = read(database_url, select(Developer.id).where(Developer.email == email))
    assert isinstance(found, str)
    return found


def test_clause_6_2_terminate_list_outstanding_and_export_the_case_file(
    cli: CliRunner,
    database_url: str,
    engine: AsyncEngine,  # empties the tables first
    tmp_path: Path,
) -> None:
    email = f"dev-{new_id()[:8]}@example.nl"
    assert invoke(cli, "developer", "create", email, "--name", "Ann Jansen").exit_code == 0
    developer_id = _developer_id(database_url, email)
    refused(
        invoke(cli, "terminate", developer_id, "--ground", "boredom", "--reason", "x"),
        "--ground: ground must be one of",
    )
    refused(
        invoke(cli, "terminate", developer_id, "--ground", "other", "--reason", " "),
        "--reason:",
    )
    refused(
        invoke(cli, "terminate", "nobody", "--ground", "other", "--reason", "x"), "no developer"
    )
    assert read(database_url, select(func.count()).select_from(Termination)) == 0

    done = invoke(cli, "terminate", developer_id, "--ground", "insolvency", "--reason", "bankrupt")
    assert done.exit_code == 0, done.output
    assert "Terminated" in done.stdout
    assert "end users notified (mail queued)" in done.stdout  # issue 14: queued, not told
    status = read(database_url, select(Developer.status).where(Developer.id == developer_id))
    assert status is Status.REVOKED
    again = invoke(cli, "terminate", developer_id, "--ground", "other", "--reason", "x")
    refused(again, "already terminated")

    outstanding = invoke(cli, "attestations", "outstanding")
    assert email in outstanding.stdout
    termination_id = read(database_url, select(Termination.id))
    assert isinstance(termination_id, str)
    refused(invoke(cli, "attestations", "verify", termination_id), "no attestation yet")

    target = tmp_path / "case.json"
    exported = invoke(
        cli, "case-file", "export", "termination", termination_id, "--output", str(target)
    )
    assert exported.exit_code == 0, exported.output
    document = json.loads(target.read_text())
    assert document["record"]["ground"] == "insolvency"
    assert document["audit_chain"]["intact"] is True
    pdf = tmp_path / "case.pdf"
    assert (
        invoke(
            cli,
            "case-file",
            "export",
            "termination",
            termination_id,
            "--output",
            str(pdf),
            "--format",
            "pdf",
        ).exit_code
        == 0
    )
    assert pdf.read_bytes().startswith(b"%PDF-")
    refused(
        invoke(cli, "case-file", "export", "planet", termination_id, "--output", str(target)),
        "--kind:",
    )
    refused(invoke(cli, "incidents", "contain", "nope", "--scope", "application"), "no incident")
    assert invoke(cli, "incidents", "list").exit_code == 0
    assert read(database_url, select(func.count()).select_from(Termination)) == 1
