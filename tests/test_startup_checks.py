"""`termgate serve` checks its workers' limiter, database, Redis and public URL before it opens
its port.

Each bad configuration ends the real process with one line naming the setting, a non-zero exit
status and no traceback, and the port is never bound. Secrets in the URLs are never printed.
"""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from termgate.db.migrate import upgrade
from tests.conftest import free_port
from tests.support.processes import spawn, stop

PASSWORD = "s3cret-never-printed"
EXIT_WITHIN = 30.0  # seconds; the checks themselves take well under one, imports the rest


def listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
    except OSError:
        return False
    return True


def serve_refused(tmp_path: Path, command: list[str], **settings: str) -> str:
    """Run `serve` until it exits, probing its port all along; its output (one process)."""
    port = free_port()
    env = {
        "TERMGATE_PORT": str(port),
        "TERMGATE_VAR_DIR": str(tmp_path / "var"),
        "TERMGATE_LOG_LEVEL": "info",
        **{f"TERMGATE_{name.upper()}": value for name, value in settings.items()},
    }
    process = spawn(command, env)
    deadline = time.monotonic() + EXIT_WITHIN
    bound = False
    try:
        while process.poll() is None and time.monotonic() < deadline:
            bound = bound or listening(port)
            time.sleep(0.05)
        assert process.poll() is not None, f"serve still running after {EXIT_WITHIN} s"
    finally:
        output = stop(process)
    assert process.returncode != 0, output
    assert not bound, f"port {port} was opened before the check failed:\n{output}"
    assert "Traceback" not in output, output
    assert PASSWORD not in output, output
    errors = [line for line in output.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, output
    return errors[0]


def migrated_sqlite(tmp_path: Path) -> str:
    url = f"sqlite+aiosqlite:///{tmp_path / 'termgate.db'}"
    upgrade(url)
    return url


CLI = ["-m", "termgate", "serve"]
MODULE = ["-m", "termgate.server"]  # how the tests' own gateways start


@pytest.mark.parametrize("command", [CLI, MODULE], ids=["cli", "module"])
def test_unreachable_database_is_named_without_its_password(
    tmp_path: Path, command: list[str]
) -> None:
    closed = free_port()
    line = serve_refused(
        tmp_path,
        command,
        database_url=f"postgresql+asyncpg://termgate:{PASSWORD}@127.0.0.1:{closed}/termgate",
    )
    assert line.startswith("error: TERMGATE_DATABASE_URL: cannot reach the database"), line
    assert f"127.0.0.1:{closed}/termgate" in line


def test_unmigrated_sqlite_file_says_run_db_upgrade(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    empty.write_bytes(b"")
    line = serve_refused(tmp_path, CLI, database_url=f"sqlite+aiosqlite:///{empty}")
    assert "TERMGATE_DATABASE_URL" in line, line
    assert "has no termgate schema" in line, line
    assert "run `termgate db upgrade`" in line


def test_missing_sqlite_file_is_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.db"
    line = serve_refused(tmp_path, CLI, database_url=f"sqlite+aiosqlite:///{missing}")
    assert "TERMGATE_DATABASE_URL" in line, line
    assert "run `termgate db upgrade`" in line, line
    assert not missing.exists()


def test_database_behind_the_newest_migration_says_run_db_upgrade(tmp_path: Path) -> None:
    url = migrated_sqlite(tmp_path)
    with sqlite3.connect(tmp_path / "termgate.db") as connection:
        connection.execute("UPDATE alembic_version SET version_num = '0009'")
    line = serve_refused(tmp_path, CLI, database_url=url)
    assert "schema revision 0009" in line, line
    assert "run `termgate db upgrade`" in line, line


def test_unreachable_redis_of_the_redis_limiter_is_named(tmp_path: Path) -> None:
    closed = free_port()
    line = serve_refused(
        tmp_path,
        MODULE,
        database_url=migrated_sqlite(tmp_path),
        limiter_backend="redis",
        redis_url=f"redis://:{PASSWORD}@127.0.0.1:{closed}/0",
    )
    assert line.startswith("error: TERMGATE_REDIS_URL: cannot reach Redis"), line
    assert f"127.0.0.1:{closed}" in line


@pytest.mark.parametrize(
    ("command", "settings"),
    [([*CLI, "--workers", "2"], {}), (MODULE, {"workers": "3"})],
    ids=["cli-option", "module-env"],
)
def test_clause_4_4_several_workers_without_redis_are_refused(
    tmp_path: Path, command: list[str], settings: dict[str, str]
) -> None:
    """Each worker would count the plan's limits on its own: the node would admit the plan's
    rate once per worker."""
    line = serve_refused(tmp_path, command, database_url=migrated_sqlite(tmp_path), **settings)
    assert line.startswith("error: TERMGATE_WORKERS: "), line
    assert "TERMGATE_LIMITER_BACKEND=memory" in line, line
    assert "TERMGATE_LIMITER_BACKEND=redis" in line, line


def test_plain_http_public_url_off_the_loopback_is_refused(tmp_path: Path) -> None:
    line = serve_refused(
        tmp_path,
        CLI,
        database_url=migrated_sqlite(tmp_path),
        public_url="http://api.provider.example",
    )
    assert line.startswith("error: TERMGATE_PUBLIC_URL:"), line
    assert "https" in line


def test_listening_on_every_address_needs_a_public_url(tmp_path: Path) -> None:
    line = serve_refused(tmp_path, CLI, database_url=migrated_sqlite(tmp_path), host="0.0.0.0")
    assert line.startswith("error: TERMGATE_HOST:"), line
    assert "TERMGATE_PUBLIC_URL" in line, line


def test_a_migrated_database_on_the_loopback_serves(tmp_path: Path) -> None:
    """The checks refuse only what is wrong: the same start with a good database listens."""
    port = free_port()
    env = {
        "TERMGATE_PORT": str(port),
        "TERMGATE_VAR_DIR": str(tmp_path / "var"),
        "TERMGATE_DATABASE_URL": migrated_sqlite(tmp_path),
        "TERMGATE_UPSTREAM_URL": f"http://127.0.0.1:{free_port()}",
    }
    process: subprocess.Popen[bytes] = spawn(CLI, env)
    try:
        deadline = time.monotonic() + EXIT_WITHIN
        while not listening(port) and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert listening(port)
    finally:
        output = stop(process)
    assert "Traceback" not in output, output
