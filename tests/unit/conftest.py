"""A fresh SQLite database per test, made from the models (no migrations: these tests must be
fast enough to run once per mutant)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from termgate.db.engine import create_engine, session_factory
from termgate.db.models import Base


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'unit.db'}")
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    yield session_factory(engine)
    await engine.dispose()
