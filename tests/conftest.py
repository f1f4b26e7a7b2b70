"""Shared fixtures: every database test runs on SQLite and on the machine's real PostgreSQL.

PostgreSQL tests get a database of their own per run (created and dropped here); when no server
answers at TERMGATE_TEST_POSTGRES (default postgresql://postgres@127.0.0.1:5432/test) they are
skipped with that reason, never silently passed.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from termgate.db import monitoring  # noqa: F401 (its tables are emptied per test too)
from termgate.db.engine import create_engine, session_factory
from termgate.db.migrate import upgrade
from termgate.db.models import Base

# pytest-xdist's workers (`make test` runs two) start with COLUMNS=80 and LINES=24 set: a Rich
# console created at import would keep that size for good, where a plain run lets the CLI tests'
# own COLUMNS apply when each line is printed.
if "PYTEST_XDIST_WORKER" in os.environ:
    for variable in ("COLUMNS", "LINES"):
        os.environ.pop(variable, None)


def pytest_configure(config: pytest.Config) -> None:
    """A run stopped with SIGTERM (`timeout`, a CI job's limit, `kill`) ends as Ctrl-C ends it:
    the fixtures then stop the servers they started, which would otherwise outlive the run and
    share the machine with the next run or bench."""
    signal.signal(signal.SIGTERM, signal.default_int_handler)


POSTGRES_ADMIN = os.environ.get(
    "TERMGATE_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test"
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _postgres_reachable() -> str | None:
    try:
        connection = await asyncpg.connect(POSTGRES_ADMIN, timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError) as error:
        return f"PostgreSQL not reachable at {POSTGRES_ADMIN}: {error}"
    await connection.close()
    return None


async def _create_database(name: str) -> None:
    connection = await asyncpg.connect(POSTGRES_ADMIN)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


async def _drop_database(name: str) -> None:
    connection = await asyncpg.connect(POSTGRES_ADMIN)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


def _postgres_url(database: str) -> str:
    base = POSTGRES_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    return f"{base}/{database}"


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A migrated, empty database of each kind; the same one serves the whole session."""
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("db") / "termgate.db"
        url = f"sqlite+aiosqlite:///{path}"
        upgrade(url)
        yield url
        return
    reason = asyncio.run(_postgres_reachable())
    if reason:
        pytest.skip(reason)
    name = f"termgate_test_{uuid.uuid4().hex[:10]}"
    asyncio.run(_create_database(name))
    url = _postgres_url(name)
    try:
        upgrade(url)
        yield url
    finally:
        asyncio.run(_drop_database(name))


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine on an emptied database: every test starts from no rows."""
    engine = create_engine(database_url)
    async with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            await connection.execute(text(f"DELETE FROM {table.name}"))
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return session_factory(engine)
