"""Secrets in the configuration: never printed by the real command line, readable from files.

Every case runs `python -m termgate` in a process of its own with sentinel secrets in its
environment and asserts that no sentinel reaches stdout or stderr.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from termgate.db.engine import create_engine, session_factory
from termgate.db.key_seal import KeySeal
from termgate.db.migrate import upgrade
from termgate.identity.signing_keys import signing_key
from termgate.preflight import _scripts
from tests.conftest import free_port

SECRET_KEY = "SENTINEL-secret-key-" + "k" * 32
SMTP_PASSWORD = "SENTINEL-smtp-password"
DB_PASSWORD = "SENTINEL-db-password"
REDIS_PASSWORD = "SENTINEL-redis-password"
SENTINELS = (SECRET_KEY, SMTP_PASSWORD, DB_PASSWORD, REDIS_PASSWORD, "SENTINEL")


@dataclass(frozen=True)
class Run:
    status: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def termgate(tmp_path: Path, env: dict[str, str], *args: str) -> Run:
    """`python -m termgate ARGS` with only the given `TERMGATE_*` settings."""
    clean = {name: value for name, value in os.environ.items() if not name.startswith("TERMGATE_")}
    clean.update({"TERMGATE_VAR_DIR": str(tmp_path / "var"), "COLUMNS": "200", **env})
    done = subprocess.run(
        [sys.executable, "-m", "termgate", *args],
        env=clean,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return Run(done.returncode, done.stdout, done.stderr)


def assert_no_secret(run: Run) -> None:
    for sentinel in SENTINELS:
        assert sentinel not in run.output, run.output
    assert "Traceback" not in run.output, run.output


def secrets_in_environment(database_port: int) -> dict[str, str]:
    return {
        "TERMGATE_SECRET_KEY": SECRET_KEY,
        "TERMGATE_SMTP_PASSWORD": SMTP_PASSWORD,
        "TERMGATE_DATABASE_URL": (
            f"postgresql+asyncpg://termgate:{DB_PASSWORD}@127.0.0.1:{database_port}/termgate"
        ),
    }


@pytest.mark.parametrize("command", [["developer", "list"], ["db", "upgrade"], ["serve"]])
def test_cross_field_error_names_both_settings_and_their_sources_without_secrets(
    tmp_path: Path, command: list[str]
) -> None:
    env = {**secrets_in_environment(free_port()), "TERMGATE_LIMITER_BACKEND": "redis"}
    run = termgate(tmp_path, {**env, "TERMGATE_PORT": str(free_port())}, *command)
    assert run.status == 2, run.output
    assert_no_secret(run)
    assert "TERMGATE_LIMITER_BACKEND is 'redis' (from the environment variable" in run.stderr
    assert "TERMGATE_REDIS_URL is not set (the default)" in run.stderr
    assert "TERMGATE_CONFIG" not in run.output  # no file was used, so none is blamed
    assert "secret_key" not in run.output


def test_cross_field_error_from_the_config_file_names_the_file(tmp_path: Path) -> None:
    config = tmp_path / "termgate.toml"
    config.write_text(f'limiter_backend = "redis"\nsmtp_password = "{SMTP_PASSWORD}"\n')
    env = {"TERMGATE_CONFIG": str(config), "TERMGATE_SECRET_KEY": SECRET_KEY}
    run = termgate(tmp_path, env, "developer", "list")
    assert run.status == 2, run.output
    assert_no_secret(run)
    assert f"TERMGATE_LIMITER_BACKEND is 'redis' (from the config file {config})" in run.stderr


def test_bad_secret_key_and_mistyped_secret_are_not_echoed(tmp_path: Path) -> None:
    config = tmp_path / "termgate.toml"
    config.write_text(f'smtp_pasword = "{SMTP_PASSWORD}"\n')
    env = {"TERMGATE_CONFIG": str(config), "TERMGATE_SECRET_KEY": "SENTINEL-short"}
    run = termgate(tmp_path, env, "db", "upgrade")
    assert run.status == 2, run.output
    assert_no_secret(run)
    assert "TERMGATE_SECRET_KEY:" in run.stderr
    assert f"TERMGATE_SMTP_PASWORD: not a setting (from the config file {config})" in run.stderr


def test_unreadable_database_url_is_refused_without_its_password(tmp_path: Path) -> None:
    url = f"postgresql+asyncpg://termgate:{DB_PASSWORD}@127.0.0.1:no-port/termgate"
    run = termgate(tmp_path, {"TERMGATE_DATABASE_URL": url}, "developer", "list")
    assert run.status == 2, run.output
    assert_no_secret(run)
    assert "TERMGATE_DATABASE_URL" in run.stderr
    assert "termgate:***@127.0.0.1:no-port" in run.stderr


def test_db_upgrade_shows_the_database_url_with_its_password_masked(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there: the connection is refused
    run = termgate(tmp_path, secrets_in_environment(port), "db", "upgrade")
    assert run.status == 1, run.output
    assert_no_secret(run)
    assert f"cannot migrate postgresql+asyncpg://termgate:***@127.0.0.1:{port}/termgate" in (
        run.stderr
    )
    assert len(run.stderr.strip().splitlines()) == 1


def test_file_variants_set_secret_settings_without_one_trailing_newline(tmp_path: Path) -> None:
    database = tmp_path / "from-file.db"
    url_file = tmp_path / "database-url"
    url_file.write_text(f"sqlite+aiosqlite:///{database}\n")
    key_file = tmp_path / "secret-key"
    key_file.write_text(SECRET_KEY + "\n")
    env = {"TERMGATE_DATABASE_URL_FILE": str(url_file), "TERMGATE_SECRET_KEY_FILE": str(key_file)}
    run = termgate(tmp_path, env, "db", "upgrade")
    assert run.status == 0, run.output
    assert_no_secret(run)
    assert f"database schema is up to date (sqlite+aiosqlite:///{database})" in run.stdout
    with sqlite3.connect(database) as connection:
        assert connection.execute("select version_num from alembic_version").fetchone()


@pytest.mark.parametrize("problem", ["missing", "both", "directory"])
def test_file_variant_that_cannot_be_used_is_one_line_naming_the_variable(
    tmp_path: Path, problem: str
) -> None:
    secret_file = tmp_path / "smtp-password"
    secret_file.write_text(SMTP_PASSWORD)
    env = {"TERMGATE_SMTP_PASSWORD_FILE": str(secret_file)}
    if problem == "missing":
        env["TERMGATE_SMTP_PASSWORD_FILE"] = str(tmp_path / "absent")
    elif problem == "directory":
        env["TERMGATE_SMTP_PASSWORD_FILE"] = str(tmp_path)
    else:
        env["TERMGATE_SMTP_PASSWORD"] = SMTP_PASSWORD + "-too"
    run = termgate(tmp_path, env, "developer", "list")
    assert run.status == 2, run.output
    assert_no_secret(run)
    message = run.stderr.strip().splitlines()
    assert message[0] == "error: bad configuration"
    assert len(message) == 2, message
    assert message[1].startswith("TERMGATE_SMTP_PASSWORD_FILE: "), message


BAD_HOST_URL = f"postgresql+asyncpg://termgate:{DB_PASSWORD}@no-such-host.invalid:5432/termgate"


@pytest.mark.parametrize("command", [["serve"], ["db", "upgrade"], ["db", "current"]], ids=" ".join)
def test_a_database_url_with_a_password_and_a_bad_host_is_one_line_without_it(
    tmp_path: Path, command: list[str]
) -> None:
    env = {
        "TERMGATE_SECRET_KEY": SECRET_KEY,
        "TERMGATE_SMTP_PASSWORD": SMTP_PASSWORD,
        "TERMGATE_DATABASE_URL": BAD_HOST_URL,
        "TERMGATE_PORT": str(free_port()),
    }
    run = termgate(tmp_path, env, *command)
    assert run.status == 1, run.output
    assert_no_secret(run)
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("error: "), lines
    assert "no-such-host.invalid" in lines[0]


def sqlite_env(tmp_path: Path, secret_key: str = SECRET_KEY) -> dict[str, str]:
    return {
        "TERMGATE_SECRET_KEY": secret_key,
        "TERMGATE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'termgate.db'}",
        "TERMGATE_PORT": str(free_port()),
    }


def test_db_current_says_whether_the_schema_is_the_expected_one(tmp_path: Path) -> None:
    env = sqlite_env(tmp_path)
    missing = termgate(tmp_path, env, "db", "current")
    assert missing.status == 1, missing.output
    assert "run `termgate db upgrade`" in missing.stderr
    assert not (tmp_path / "termgate.db").exists()  # asking created nothing

    upgrade(env["TERMGATE_DATABASE_URL"], secret_key=SECRET_KEY)
    current = termgate(tmp_path, env, "db", "current")
    assert current.status == 0, current.output
    head = _scripts().get_current_head()
    assert f"schema revision {head}, the one this termgate expects" in current.stdout
    assert_no_secret(current)

    with sqlite3.connect(tmp_path / "termgate.db") as connection:
        connection.execute("UPDATE alembic_version SET version_num = '0010'")
    behind = termgate(tmp_path, env, "db", "current")
    assert behind.status == 1, behind.output
    assert behind.stderr.strip().splitlines() == [
        f"error: TERMGATE_DATABASE_URL: SQLite file {tmp_path / 'termgate.db'} is at schema "
        f"revision 0010, this termgate needs {head}; run `termgate db upgrade`"
    ]


def test_db_current_of_a_newer_termgates_schema_says_so(tmp_path: Path) -> None:
    env = sqlite_env(tmp_path)
    upgrade(env["TERMGATE_DATABASE_URL"], secret_key=SECRET_KEY)
    with sqlite3.connect(tmp_path / "termgate.db") as connection:
        connection.execute("UPDATE alembic_version SET version_num = '0099'")
    ahead = termgate(tmp_path, env, "db", "current")
    assert ahead.status == 1, ahead.output
    assert "it was migrated by a newer termgate" in ahead.stderr
    # Issue 14: an old version's `db upgrade` (a rolling upgrade run backwards) says the same.
    refused = termgate(tmp_path, env, "db", "upgrade")
    assert refused.status == 1, refused.output
    (line,) = refused.stderr.strip().splitlines()
    assert "at schema revision 0099, which this termgate does not know" in line, line
    assert "migrated by a newer termgate" in line, line


def private_scalars(database: Path, secret_key: str) -> list[str]:
    """The private `d` of every signing key, opened with the secret key (the test's knowledge)."""
    with sqlite3.connect(database) as connection:
        rows = connection.execute("SELECT kid, sealed_jwk FROM signing_keys").fetchall()
    seal = KeySeal.from_secret(secret_key)
    return [json.loads(seal.open(kid, sealed))["d"] for kid, sealed in rows]


def migrated_with_a_key(tmp_path: Path, secret_key: str = SECRET_KEY) -> None:
    """The database of `sqlite_env`, migrated, with one signing key sealed under `secret_key`
    (made in this process: each command's process costs seconds on a busy machine)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'termgate.db'}"
    upgrade(url, secret_key=secret_key)

    async def make() -> None:
        engine = create_engine(url)
        try:
            async with session_factory(engine).begin() as session:
                await signing_key(session, KeySeal.from_secret(secret_key))
        finally:
            await engine.dispose()

    asyncio.run(make())


def test_signing_key_rows_hold_no_private_key_in_plaintext(tmp_path: Path) -> None:
    migrated_with_a_key(tmp_path)
    rotated = termgate(tmp_path, sqlite_env(tmp_path), "signing-key", "rotate")
    assert rotated.status == 0, rotated.output
    assert_no_secret(rotated)
    scalars = private_scalars(tmp_path / "termgate.db", SECRET_KEY)
    assert len(scalars) == 2
    stored = (tmp_path / "termgate.db").read_bytes()
    for scalar in scalars:
        assert scalar.encode() not in stored
    assert b"PRIVATE KEY" not in stored
    assert b'"d":' not in stored
    assert b'"d": ' not in stored


def test_issue_14_signing_key_commands_audit_the_os_user_who_ran_them(tmp_path: Path) -> None:
    migrated_with_a_key(tmp_path)
    env = {**sqlite_env(tmp_path), "LOGNAME": "kim"}  # what getpass.getuser() reads first
    rotated = termgate(tmp_path, env, "signing-key", "rotate")
    assert rotated.status == 0, rotated.output
    with sqlite3.connect(tmp_path / "termgate.db") as connection:
        trail = connection.execute("SELECT actor, entity FROM audit_entries").fetchall()
    assert ("cli:kim", "signing_key") in trail
    assert {actor for actor, entity in trail if entity == "signing_key"} == {"cli:kim"}


def test_wrong_secret_key_is_one_line_naming_it_and_rewrap_recovers(tmp_path: Path) -> None:
    migrated_with_a_key(tmp_path)
    new_secret = "SENTINEL-new-secret-key-" + "n" * 32
    new_env = sqlite_env(tmp_path, new_secret)

    refused = termgate(tmp_path, new_env, "serve")
    assert refused.status == 1, refused.output
    assert new_secret not in refused.output
    assert_no_secret(refused)
    (line,) = refused.stderr.strip().splitlines()
    assert line.startswith("error: TERMGATE_SECRET_KEY: the token-signing keys in"), line
    assert "termgate signing-key rewrap --old-secret-file" in line

    wrong_file = tmp_path / "wrong-secret"
    wrong_file.write_text("SENTINEL-neither-secret-key-" + "w" * 32 + "\n")
    wrong = termgate(tmp_path, new_env, "signing-key", "rewrap", "--old-secret-file",
                     str(wrong_file))  # fmt: skip
    assert wrong.status == 1, wrong.output
    assert_no_secret(wrong)
    assert "sealed under neither secret key" in wrong.stderr
    assert "nothing was changed" in wrong.stderr

    old_file = tmp_path / "old-secret"
    old_file.write_text(SECRET_KEY + "\n")
    rewrapped = termgate(tmp_path, new_env, "signing-key", "rewrap", "--old-secret-file",
                         str(old_file))  # fmt: skip
    assert rewrapped.status == 0, rewrapped.output
    assert_no_secret(rewrapped)
    assert "re-sealed 1 signing key(s)" in rewrapped.stdout
    assert len(private_scalars(tmp_path / "termgate.db", new_secret)) == 1
