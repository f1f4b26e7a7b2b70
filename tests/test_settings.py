"""Configuration: environment and TOML, and a clear error naming a bad setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from termgate.settings import SettingsError, load_settings


def test_environment_overrides_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERMGATE_PORT", "9123")
    assert load_settings().port == 9123


def test_bad_value_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERMGATE_PORT", "eighty")
    with pytest.raises(SettingsError, match="TERMGATE_PORT"):
        load_settings()


def test_bad_database_url_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERMGATE_DATABASE_URL", "mysql://x")
    with pytest.raises(SettingsError, match="TERMGATE_DATABASE_URL"):
        load_settings()


def test_toml_file_is_read_and_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "termgate.toml"
    config.write_text("port = 8100\nupstream_timeout = 5.5\n")
    monkeypatch.setenv("TERMGATE_CONFIG", str(config))
    assert load_settings().upstream_timeout == 5.5
    monkeypatch.setenv("TERMGATE_PORT", "8200")
    assert load_settings().port == 8200


def test_missing_config_file_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERMGATE_CONFIG", "/nonexistent/termgate.toml")
    with pytest.raises(SettingsError, match="TERMGATE_CONFIG"):
        load_settings()


def test_problem_media_type_is_the_contract_s_unless_set(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().problem_content_type == "application/json"
    monkeypatch.setenv("TERMGATE_PROBLEM_CONTENT_TYPE", "application/problem+json")
    assert load_settings().problem_content_type == "application/problem+json"
    monkeypatch.setenv("TERMGATE_PROBLEM_CONTENT_TYPE", "text/html")
    with pytest.raises(SettingsError, match="TERMGATE_PROBLEM_CONTENT_TYPE"):
        load_settings()
