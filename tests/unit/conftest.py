"""A fresh SQLite database per test, made from the models (no migrations: these tests must be
fast enough to run once per mutant)."""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis.asyncio
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from termgate.db.engine import create_engine, session_factory
from termgate.db.models import Base
from tests.gateway.limits_support import PrivateRedis, private_redis


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'unit.db'}")
    async with engine.begin() as connection:
        await connection.run_sync(Base.metadata.create_all)
    yield session_factory(engine)
    await engine.dispose()


@pytest.fixture
def server_zone() -> Iterator[str]:
    """The process runs in Amsterdam local time, as a server set up by an operator there might;
    times the product stores and reports must stay UTC."""
    zone, before = "Europe/Amsterdam", os.environ.get("TZ")
    os.environ["TZ"] = zone
    time.tzset()
    try:
        yield zone
    finally:
        if before is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = before
        time.tzset()


@pytest.fixture
def own_redis() -> Iterator[PrivateRedis]:
    """A redis-server of the test's own, on a free port."""
    with private_redis() as server:
        yield server


@pytest.fixture
async def inspect(own_redis: PrivateRedis) -> AsyncIterator[redis.asyncio.Redis]:
    """A plain client of `own_redis`, to look at what the limiter stored."""
    client = redis.asyncio.Redis.from_url(own_redis.url)
    yield client
    await client.aclose()
