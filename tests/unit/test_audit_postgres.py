"""The audit chain on PostgreSQL (clause 4.2): concurrent writers still make one linear chain.

PostgreSQL runs writers side by side, so `record` takes a transaction-scoped advisory lock there;
without it two writers read the same predecessor and the trail forks. Runs on the machine's
PostgreSQL (TERMGATE_TEST_POSTGRES) in a schema of its own, dropped afterwards; skipped, saying
so, when no server answers.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from sqlalchemy import Select, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from termgate.core.audit import GENESIS, record, verify_chain
from termgate.db.programme import AuditEntry
from tests.conftest import POSTGRES_ADMIN

Sessions = async_sessionmaker[AsyncSession]
WRITERS = 6
HELD = 0.08  # s each writer keeps its transaction open after writing, so the writers overlap


@pytest.fixture
async def pg() -> AsyncIterator[Sessions]:
    try:
        connection = await asyncpg.connect(POSTGRES_ADMIN, timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError) as error:
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_ADMIN}: {error}")
    schema = f"audit_{uuid.uuid4().hex[:12]}"
    await connection.execute(f'CREATE SCHEMA "{schema}"')
    url = POSTGRES_ADMIN.replace("postgresql://", "postgresql+asyncpg://", 1)
    engine = create_async_engine(
        url, pool_size=WRITERS, connect_args={"server_settings": {"search_path": schema}}
    )
    try:
        async with engine.begin() as setup:
            await setup.run_sync(lambda sync: AuditEntry.__table__.create(sync))
        yield async_sessionmaker(engine, expire_on_commit=False)
    finally:
        await engine.dispose()
        await connection.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await connection.close()


def select_all() -> Select[tuple[AuditEntry]]:
    return select(AuditEntry).order_by(AuditEntry.id)


async def write(sessions: Sessions, writer: int, held: float = HELD) -> None:
    async with sessions.begin() as session:
        await record(session, f"writer-{writer}", "suspended", "key", f"k{writer}", "load")
        await asyncio.sleep(held)


async def test_clause_4_2_concurrent_writers_keep_the_chain_linear(pg: Sessions) -> None:
    await asyncio.gather(*(write(pg, writer) for writer in range(WRITERS)))
    async with pg() as session:
        entries = list(await session.scalars(select_all()))
        assert await verify_chain(session) is None
    assert len(entries) == WRITERS
    links = [entry.previous_hash for entry in entries]
    assert links == [GENESIS, *(entry.hash for entry in entries[:-1])]
    assert len(set(links)) == WRITERS  # no two entries claim the same predecessor


async def test_clause_4_2_chain_is_walked_by_id_not_by_storage_order(pg: Sessions) -> None:
    """An update of a row moves it to the end of the table's storage (PostgreSQL writes a new
    row version); the chain is still read in the order it was written."""
    for writer in range(3):
        await write(pg, writer, held=0)
    async with pg.begin() as session:
        first = await session.scalar(select_all().limit(1))
        assert first is not None
        await session.execute(
            update(AuditEntry).where(AuditEntry.id == first.id).values(reason=first.reason)
        )
    async with pg() as session:
        unordered = (await session.execute(text("SELECT id FROM audit_entries"))).scalars()
        assert list(unordered)[-1] == first.id  # the storage order is no longer the id order
        assert await verify_chain(session) is None
