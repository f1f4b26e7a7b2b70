"""The command line against the session's database: `cli` runs commands in-process."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from termgate.settings import get_settings


@pytest.fixture
def cli(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    monkeypatch.setenv("TERMGATE_DATABASE_URL", database_url)
    monkeypatch.setenv("TERMGATE_SMTP_PORT", "9")
    monkeypatch.setenv("COLUMNS", "200")
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()
