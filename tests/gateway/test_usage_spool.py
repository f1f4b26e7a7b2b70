"""Clause 4.1 (the provider monitors use): a hard kill of the gateway loses no usage event of a
request answered more than a spool interval before it; the spool is replayed once."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from termgate.db.engine import create_engine
from termgate.db.models import UsageEvent
from termgate.gateway.exchange import Exchange
from termgate.gateway.observe import UsageRecorder
from termgate.gateway.usage_rows import FIRST_COLUMNS
from termgate.gateway.usage_spool import UsageSpool
from tests.conftest import free_port
from tests.gateway.limits_support import private_redis
from tests.support.echo_upstream import EchoUpstream
from tests.support.factories import TEST_ISSUER, issue_test_access
from tests.support.processes import gateway_env, kill_hard, spawn, stop, wait_until_answering

REQUESTS = 400
CONCURRENCY = 32


async def events_of(sessions: async_sessionmaker[AsyncSession], prefix: str) -> list[str]:
    """The gateway request ids of the events whose client id starts with `prefix`."""
    async with sessions() as session:
        query = select(UsageEvent.request_id).where(UsageEvent.client_request_id.like(f"{prefix}%"))
        return list(await session.scalars(query))


def spool_files(folder: Path) -> list[Path]:
    return list(folder.glob("*.spool"))


def _recorder(engine: AsyncEngine, spool: UsageSpool | None) -> UsageRecorder:
    return UsageRecorder(engine, flush_seconds=60, batch_size=50, buffer_limit=1000, spool=spool)


def _record(recorder: UsageRecorder, prefix: str, count: int) -> None:
    for index in range(count):
        exchange = Exchange(
            "GET", "/api/echo", "", {}, f"{prefix}gw-{index}", time.perf_counter(), time.time()
        )
        exchange.client_request_id = f"{prefix}{index}"
        exchange.status = 200
        recorder.record(exchange, time.perf_counter())


async def test_clause_4_1_spool_of_a_killed_process_is_replayed_once(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    prefix = f"spool-{uuid.uuid4().hex[:8]}-"
    dead = _recorder(engine, UsageSpool(tmp_path))
    _record(dead, prefix, 120)
    dead.spool_pending()
    assert dead.spool is not None
    assert dead.spool.current is not None
    # The first 50 reached the database just before the kill; the spool was not yet cut.
    await dead._insert(dead.buffer[:50])
    UsageSpool.release(dead.spool.current)  # the process is gone: its lock with it

    alive = _recorder(engine, UsageSpool(tmp_path))
    assert await alive.replay() == 70
    ids = await events_of(sessions, prefix)
    assert sorted(ids) == sorted(f"{prefix}gw-{index}" for index in range(120))
    assert await alive.replay() == 0  # the replayed segment is gone
    assert not spool_files(tmp_path)


async def test_clause_4_1_spool_written_before_the_detection_columns_is_replayed_with_them_empty(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    prefix = f"old-{uuid.uuid4().hex[:8]}-"
    dead = _recorder(engine, UsageSpool(tmp_path))
    _record(dead, prefix, 6)
    assert dead.spool is not None
    # What a gateway of the release before wrote: rows without the last five columns.
    dead.spool.append([row[:FIRST_COLUMNS] for row in dead.buffer[:4]])
    dead.spool.append(
        [(*row[:FIRST_COLUMNS], "extra") for row in dead.buffer[4:]]
    )  # no such release
    assert dead.spool.current is not None
    UsageSpool.release(dead.spool.current)

    assert await _recorder(engine, UsageSpool(tmp_path)).replay() == 4
    async with sessions() as session:
        query = select(UsageEvent).where(UsageEvent.client_request_id.like(f"{prefix}%"))
        events = list(await session.scalars(query))
    assert sorted(str(event.client_request_id) for event in events) == [
        f"{prefix}{index}" for index in range(4)
    ]
    assert {(event.debtor_id, event.client_ip, event.scope) for event in events} == {
        (None, None, None)
    }


async def test_clause_4_1_live_spool_of_another_worker_is_not_replayed(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    prefix = f"live-{uuid.uuid4().hex[:8]}-"
    worker = _recorder(engine, UsageSpool(tmp_path))
    _record(worker, prefix, 10)
    worker.spool_pending()
    other = _recorder(engine, UsageSpool(tmp_path))
    assert await other.replay() == 0
    assert await worker.flush() == 10
    worker.close()
    assert len(await events_of(sessions, prefix)) == 10
    assert not spool_files(tmp_path)


async def test_clause_4_1_events_a_failed_write_kept_are_replayed_from_the_spool(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    prefix = f"fail-{uuid.uuid4().hex[:8]}-"
    # A database nobody listens on: every write fails, the events wait in memory and on disk.
    port = free_port()
    gone = create_engine(f"postgresql+asyncpg://nobody@127.0.0.1:{port}/none")
    recorder = _recorder(gone, UsageSpool(tmp_path))
    _record(recorder, prefix, 120)
    with pytest.raises(OSError, match=str(port)):
        await recorder.flush()
    await gone.dispose()
    assert len(recorder.buffer) == 120
    _record(recorder, prefix + "late-", 5)
    recorder.spool_pending()
    assert recorder.spool is not None
    assert recorder.spool.current is not None
    assert len(spool_files(tmp_path)) == 1  # moved to the current segment
    UsageSpool.release(recorder.spool.current)  # killed now

    replayer = _recorder(engine, UsageSpool(tmp_path))
    assert await replayer.replay() == 125
    assert len(await events_of(sessions, prefix)) == 125


async def test_clause_4_1_sigkill_of_termgate_serve_loses_no_answered_request(
    database_url: str,
    echo_upstream: tuple[EchoUpstream, str],
    sessions: async_sessionmaker[AsyncSession],
    tmp_path: Path,
) -> None:
    access = await issue_test_access(sessions)
    prefix = f"kill-{uuid.uuid4().hex[:8]}-"
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    # Nothing reaches the database on its own before the kill: every event must come from the
    # spools of the two workers (one file each).
    with private_redis() as redis:
        env = gateway_env(
            database_url,
            port,
            echo_upstream[1],
            public_url=TEST_ISSUER,
            workers="2",
            limiter_backend="redis",  # several workers need it (docs/limits.md)
            redis_url=redis.url,
            usage_flush_seconds="60",
            usage_spool_dir=str(tmp_path / "spool"),
        )
        server = spawn(["-m", "termgate", "serve"], env)
        try:
            await asyncio.to_thread(wait_until_answering, f"{url}/healthz", server, 60.0)
            gate = asyncio.Semaphore(CONCURRENCY)
            async with httpx.AsyncClient(timeout=10) as client:

                async def call(index: int) -> int:
                    async with gate:
                        headers = {**access.headers, "X-Request-Id": f"{prefix}{index}"}
                        response = await client.get(f"{url}/api/echo", headers=headers)
                        return response.status_code

                statuses = await asyncio.gather(*(call(index) for index in range(REQUESTS)))
            assert statuses.count(200) == REQUESTS
            await asyncio.sleep(0.3)  # many spool intervals
            assert len(spool_files(tmp_path / "spool")) >= 1
        finally:
            kill_hard(server)
        assert await events_of(sessions, prefix) == []  # the database got nothing before the kill

        restarted = spawn(["-m", "termgate", "serve"], env)
        try:
            await asyncio.to_thread(wait_until_answering, f"{url}/healthz", restarted, 60.0)
            ids = await events_of(sessions, prefix)
            for _ in range(100):  # each worker replays at its own start
                if len(ids) >= REQUESTS:
                    break
                await asyncio.sleep(0.1)
                ids = await events_of(sessions, prefix)
        finally:
            await asyncio.to_thread(stop, restarted)
    assert len(ids) == REQUESTS
    assert len(set(ids)) == REQUESTS
    assert not spool_files(tmp_path / "spool")  # a clean stop leaves no spool


async def test_clause_4_1_an_unwritable_spool_loses_nothing_on_a_clean_flush(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    prefix = f"nospool-{uuid.uuid4().hex[:8]}-"
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")  # the spool's folder cannot be made
    recorder = _recorder(engine, UsageSpool(blocked))
    _record(recorder, prefix, 30)
    recorder.spool_pending()
    assert recorder.buffer  # kept in memory
    assert await recorder.flush() == 30
    assert len(await events_of(sessions, prefix)) == 30
