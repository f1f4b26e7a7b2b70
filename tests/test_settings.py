"""Configuration: environment and TOML, and a clear error naming a bad setting."""

from __future__ import annotations

from pathlib import Path

import pytest

from termgate.secret_settings import mask_url, redact, secret_values
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


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql+asyncpg://tg:pw@db:5432/tg", "postgresql+asyncpg://tg:***@db:5432/tg"),
        ("redis://:pw@cache:6379/0", "redis://:***@cache:6379/0"),
        ("postgresql+asyncpg://tg:p@ss/w@db/tg", "postgresql+asyncpg://tg:***@db/tg"),
        (
            "postgresql+asyncpg://db/tg?user=tg&password=pw",
            "postgresql+asyncpg://db/tg?user=tg&password=***",
        ),
        ("postgresql+asyncpg://tg@db/tg", "postgresql+asyncpg://tg@db/tg"),
        ("sqlite+aiosqlite:///var/termgate.db", "sqlite+aiosqlite:///var/termgate.db"),
    ],
)
def test_database_and_redis_urls_are_shown_without_their_password(url: str, shown: str) -> None:
    assert mask_url(url) == shown


def test_settings_repr_hides_every_secret() -> None:
    settings = load_settings(
        secret_key="S" * 40,
        smtp_password="smtp-pw",
        database_url="postgresql+asyncpg://tg:db-pw@db/tg",
        redis_url="redis://:redis-pw@cache/0",
    )
    shown = repr(settings) + str(settings)
    for secret in ("S" * 40, "smtp-pw", "db-pw", "redis-pw"):
        assert secret not in shown
    assert "tg:***@db/tg" in shown
    assert sorted(secret_values(dict(settings))) == sorted(
        ["S" * 40, "smtp-pw", "db-pw", "redis-pw"]
    )


def test_redact_hides_every_known_secret_in_a_message() -> None:
    message = "could not parse postgresql://tg:db-pw@db/tg; key abc"
    assert redact(message, ["db-pw", ""]) == "could not parse postgresql://tg:***@db/tg; key abc"


def test_file_variant_loses_exactly_one_trailing_newline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret_file = tmp_path / "smtp-password"
    secret_file.write_text("pw with spaces \n\n")
    monkeypatch.setenv("TERMGATE_SMTP_PASSWORD_FILE", str(secret_file))
    password = load_settings().smtp_password
    assert password is not None
    assert password.get_secret_value() == "pw with spaces \n"
    secret_file.write_bytes(b"pw\r\n")
    password = load_settings().smtp_password
    assert password is not None
    assert password.get_secret_value() == "pw"


def test_file_variant_too_short_secret_key_is_named_not_shown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_file = tmp_path / "secret-key"
    key_file.write_text("short-secret\n")
    monkeypatch.setenv("TERMGATE_SECRET_KEY_FILE", str(key_file))
    with pytest.raises(SettingsError, match="TERMGATE_SECRET_KEY_FILE") as refused:
        load_settings()
    assert "short-secret" not in str(refused.value)
