"""Migration 0012: administrators get roles; those who existed before become owners (they could
do everything), with no account disabled and no token expired; a downgrade removes the columns."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text

from termgate.db.engine import create_engine
from termgate.db.migrate import alembic_config, upgrade_async
from tests.support.migrated import database_at


@pytest.fixture(params=["sqlite", "postgresql"])
async def before_0012(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A new database migrated to 0011 only."""
    async with database_at(request.param, tmp_path, "0011") as url:
        yield url


async def _run(url: str, sql: str) -> list[tuple[object, ...]]:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            result = await connection.execute(text(sql))
            return [tuple(row) for row in result] if result.returns_rows else []
    finally:
        await engine.dispose()


async def test_clause_3_1_existing_administrators_become_owners(before_0012: str) -> None:
    await _run(
        before_0012,
        "INSERT INTO administrators (id, email, name, session_epoch, created_at) "
        "VALUES ('a1', 'pat@provider.example', 'Pat', 0, CURRENT_TIMESTAMP)",
    )
    await _run(
        before_0012,
        "INSERT INTO admin_tokens (id, administrator_id, token_hash, label, created_at) "
        "VALUES ('t1', 'a1', 'h', 'ci', CURRENT_TIMESTAMP)",
    )
    await upgrade_async(before_0012, "0012")
    assert await _run(before_0012, "SELECT role, disabled_at FROM administrators") == [
        ("owner", None)
    ]
    tokens = await _run(before_0012, "SELECT expires_at, last_used_at FROM admin_tokens")
    assert tokens == [(None, None)]
    await asyncio.to_thread(command.downgrade, alembic_config(before_0012), "0011")
    assert await _run(before_0012, "SELECT email FROM administrators") == [
        ("pat@provider.example",)
    ]
