"""Cluster tests: several gateway processes on the machine's real PostgreSQL and a Redis server.

Skipped, with the reason, when PostgreSQL does not answer or redis-server is not installed."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from termgate.db.engine import create_engine, session_factory
from termgate.db.migrate import upgrade
from tests.conftest import _create_database, _drop_database, _postgres_reachable, _postgres_url


@pytest.fixture(scope="module")
def cluster_database_url() -> Iterator[str]:
    reason = asyncio.run(_postgres_reachable())
    if reason:
        pytest.skip(f"the cluster test needs PostgreSQL: {reason}")
    if shutil.which("redis-server") is None:
        pytest.skip("the cluster test needs redis-server (a private one is started)")
    name = f"termgate_cluster_{uuid.uuid4().hex[:10]}"
    asyncio.run(_create_database(name))
    url = _postgres_url(name)
    try:
        upgrade(url)
        yield url
    finally:
        asyncio.run(_drop_database(name))


@pytest.fixture
async def cluster_sessions(
    cluster_database_url: str,
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(cluster_database_url)
    yield session_factory(engine)
    await engine.dispose()
