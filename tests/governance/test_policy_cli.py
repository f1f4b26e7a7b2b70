"""Clauses 8 and 4.6 from the command line: clear one-line refusals, nothing changed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from termgate.cli import app
from termgate.settings import get_settings


@pytest.fixture
def cli(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("TERMGATE_DATABASE_URL", database_url)
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_clause_8_cli_shows_adds_and_refuses(cli: CliRunner, engine: object) -> None:
    assert cli.invoke(app, ["maintenance", "default"]).exit_code == 0
    shown = cli.invoke(app, ["maintenance", "show"])
    assert shown.exit_code == 0
    assert "Wednesday 20:00 Europe/Amsterdam" in shown.output
    bad = cli.invoke(app, ["maintenance", "add", "2030-01-01T10:00", "--reason", "x"])
    assert bad.exit_code == 1
    assert "UTC offset" in bad.stderr
    assert "Traceback" not in bad.output + bad.stderr
    good = cli.invoke(app, ["maintenance", "add", "2030-01-01T10:00Z", "--reason", "Storage"])
    assert good.exit_code == 0, good.stderr
    assert "extra window at 2030-01-01 10:00 UTC" in good.output
    notified = cli.invoke(app, ["maintenance", "notify"])
    assert notified.exit_code == 0
    assert "0 window(s)" in notified.output  # 2030 is beyond the notice period
    wrong = cli.invoke(app, ["maintenance", "cancel", "2030-01-02T10:00Z"])
    assert wrong.exit_code == 1
    assert "no weekly window starts" in wrong.stderr
