"""A new database of each kind migrated to one revision only, for the tests of a migration."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from termgate.db.migrate import upgrade_async
from tests.conftest import _create_database, _drop_database, _postgres_reachable, _postgres_url


@asynccontextmanager
async def database_at(kind: str, folder: Path, revision: str) -> AsyncIterator[str]:
    """`kind` is "sqlite" (a file in `folder`) or "postgresql" (a database dropped afterwards;
    the test is skipped when the server is not there)."""
    if kind == "sqlite":
        url = f"sqlite+aiosqlite:///{folder / 'termgate.db'}"
        await upgrade_async(url, revision)
        yield url
        return
    reason = await _postgres_reachable()
    if reason:
        pytest.skip(reason)
    name = f"termgate_test_{uuid.uuid4().hex[:10]}"
    await _create_database(name)
    url = _postgres_url(name)
    try:
        await upgrade_async(url, revision)
        yield url
    finally:
        await _drop_database(name)
