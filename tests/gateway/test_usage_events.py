"""Clause 4.1 (the provider monitors use): one usage event per request, none lost."""

from __future__ import annotations

import asyncio
import uuid

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from termgate.db.models import UsageEvent
from termgate.registry.keys import revoke_key
from tests.gateway.conftest import gateway_process, wait_for_status
from tests.support.echo_upstream import EchoUpstream
from tests.support.factories import issue_test_access
from tests.support.timing import within

BURST = 600
CONCURRENCY = 48


async def count_events(sessions: async_sessionmaker[AsyncSession], prefix: str) -> int:
    async with sessions() as session:
        query = select(func.count()).where(UsageEvent.client_request_id.like(f"{prefix}%"))
        return int((await session.execute(query)).scalar_one())


async def test_clause_4_1_every_request_of_a_concurrent_burst_is_one_usage_event(
    database_url: str,
    echo_upstream: tuple[EchoUpstream, str],
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    access = await issue_test_access(sessions)
    issued, token = access.key, access.token.token
    prefix = f"burst-{uuid.uuid4().hex[:8]}-"
    # A long flush interval: the events still buffered at shutdown must be written then.
    async with gateway_process(database_url, echo_upstream[1], usage_flush_seconds="30") as gateway:
        async with httpx.AsyncClient(timeout=10) as client:
            await wait_for_status(client, f"{gateway.url}/api/echo", issued.key, 200, token=token)
            gate = asyncio.Semaphore(CONCURRENCY)

            async def call(index: int) -> int:
                async with gate:
                    headers = {"X-Request-Id": f"{prefix}{index}"}
                    if index % 5:  # every fifth request is refused: it counts as well
                        headers.update(access.headers)
                    response = await client.get(f"{gateway.url}/api/echo", headers=headers)
                    return response.status_code

            statuses = await asyncio.gather(*(call(index) for index in range(BURST)))
        assert statuses.count(200) == BURST - BURST // 5
        assert statuses.count(401) == BURST // 5
    assert await count_events(sessions, prefix) == BURST


async def test_clause_4_1_usage_event_records_who_what_and_outcome(
    database_url: str,
    echo_upstream: tuple[EchoUpstream, str],
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    access = await issue_test_access(sessions)
    issued = access.key
    request_id = f"one-{uuid.uuid4().hex}"
    async with (
        gateway_process(database_url, echo_upstream[1]) as gateway,
        httpx.AsyncClient(timeout=10) as client,
    ):
        url = f"{gateway.url}/api/echo"
        await wait_for_status(client, url, issued.key, 200, token=access.token.token)
        response = await client.post(
            url,
            headers={**access.headers, "X-Request-Id": request_id},
            content=b"x" * 1000,
        )
        assert response.status_code == 200
    async with sessions() as session:
        event = (
            await session.execute(
                select(UsageEvent).where(UsageEvent.client_request_id == request_id)
            )
        ).scalar_one()
    assert event.key_id == issued.key_id
    assert event.application_id == issued.application_id
    assert event.developer_id == issued.developer_id
    assert event.method == "POST"
    assert event.operation == "/api/echo"
    assert event.status == 200
    assert event.bytes_in == 1000
    assert event.bytes_out == len(response.content)
    assert event.latency_ms > 0
    assert event.at.tzinfo is not None
    assert event.end_user_id == access.token.end_user_id
    assert event.data_category is None  # the echo API declares none


async def test_clause_2_revoked_key_is_refused_within_a_second(
    database_url: str,
    echo_upstream: tuple[EchoUpstream, str],
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    access = await issue_test_access(sessions)
    issued, token = access.key, access.token.token
    async with (
        gateway_process(database_url, echo_upstream[1], snapshot_refresh_seconds="0.5") as gateway,
        httpx.AsyncClient(timeout=10) as client,
    ):
        url = f"{gateway.url}/api/echo"
        await wait_for_status(client, url, issued.key, 200, token=token)
        async with sessions.begin() as session:
            await revoke_key(session, issued.key_id, "leaked", "tests")
        waited = await wait_for_status(client, url, issued.key, 401, token=token, code=40100)
        assert waited < within(1.0)


async def test_clause_4_1_client_request_id_is_kept_beside_the_gateway_s_own(
    database_url: str,
    echo_upstream: tuple[EchoUpstream, str],
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    access = await issue_test_access(sessions)
    client_id = f"same-{uuid.uuid4().hex}"
    async with (
        gateway_process(database_url, echo_upstream[1]) as gateway,
        httpx.AsyncClient(timeout=10) as client,
    ):
        url = f"{gateway.url}/api/echo"
        headers = {**access.headers, "X-Request-Id": client_id}
        answers = [await client.get(url, headers=headers) for _ in range(2)]
    async with sessions() as session:
        query = select(UsageEvent).where(UsageEvent.client_request_id == client_id)
        events = list(await session.scalars(query))
    assert [answer.status_code for answer in answers] == [200, 200]
    assert len(events) == 2
    ids = {answer.headers["x-request-id"] for answer in answers}
    assert {event.request_id for event in events} == ids  # one key per request
    assert client_id not in ids
