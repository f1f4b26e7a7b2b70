"""`termgate openapi PATH`: the operator sees what the gateway serves of a document and what it
could not use, before serving it (clause 3.2)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from termgate.cli import app
from tests.support.contract import contract_path


def test_clause_3_2_the_published_document_is_served_with_its_faults_listed() -> None:
    result = CliRunner().invoke(app, ["openapi", str(contract_path()), "--operations"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].endswith(": the gateway serves 123 operations")
    assert "  GET     /api/companies  getCompanies  [company.info.read]" in lines
    assert "1 not used as written:" in lines
    assert "4 found by the validator (served all the same):" in lines
    assert sum("hourComponentId" in line for line in lines) == 2


def test_clause_3_2_a_document_without_operations_fails_the_check(tmp_path: Path) -> None:
    empty = tmp_path / "empty.yaml"
    empty.write_text("openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths: {}\n")
    result = CliRunner().invoke(app, ["openapi", str(empty)])
    assert result.exit_code == 1
    assert "the gateway serves 0 operations" in result.output
    missing = CliRunner().invoke(app, ["openapi", str(tmp_path / "missing.json")])
    assert missing.exit_code == 1
