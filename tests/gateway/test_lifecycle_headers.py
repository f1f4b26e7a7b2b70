"""Clause 4.6 through a real gateway process: a deprecated operation answers with Deprecation
(RFC 9745), Sunset (RFC 8594) and Link headers; brown-outs answer 410 (41001) inside their period
only; a retired operation answers 410 (41002)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from termgate.db.traffic import LifecycleState
from termgate.governance.lifecycle import add_brownout, set_lifecycle
from tests.gateway.conftest import Gateway, gateway_process, wait_for_status
from tests.support.echo_upstream import EchoUpstream
from tests.support.factories import IssuedAccess, issue_test_access

GUIDE = "https://developer.example/migrate/echo-v2"


@pytest.fixture(scope="module")
async def gateway(
    database_url: str, echo_upstream: tuple[EchoUpstream, str]
) -> AsyncIterator[Gateway]:
    async with gateway_process(database_url, echo_upstream[1]) as gateway:
        yield gateway


@pytest.fixture
async def access(
    gateway: Gateway, client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> IssuedAccess:
    issued = await issue_test_access(sessions)
    url = f"{gateway.url}/api/echo"
    await wait_for_status(client, url, issued.key.key, 200, token=issued.token.token)
    return issued


async def until(
    client: httpx.AsyncClient, url: str, access: IssuedAccess, check: str
) -> httpx.Response:
    """The first answer that has header `check` or the status `check` names (snapshot caught up)."""
    for _ in range(100):
        response = await client.get(url, headers=access.headers)
        if check in response.headers or str(response.status_code) == check:
            return response
        await asyncio.sleep(0.05)
    return response


async def test_clause_4_6_deprecated_operation_carries_deprecation_sunset_and_link(
    gateway: Gateway,
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    access: IssuedAccess,
) -> None:
    now = datetime.now(UTC)
    deprecated_at = now.replace(microsecond=0) - timedelta(days=1)
    sunset = (now + timedelta(days=90)).replace(microsecond=0)
    async with sessions.begin() as session:
        await set_lifecycle(
            session,
            ["echoGet"],
            LifecycleState.DEPRECATED,
            actor="tests",
            now=now,
            deprecated_at=deprecated_at,
            sunset_at=sunset,
            migration_url=GUIDE,
        )
    response = await until(client, f"{gateway.url}/api/echo", access, "deprecation")
    assert response.status_code == 200
    assert response.headers["deprecation"] == f"@{int(deprecated_at.timestamp())}"
    assert parsedate_to_datetime(response.headers["sunset"]) == sunset
    assert response.headers["sunset"].endswith(" GMT")
    assert response.headers["link"] == f'<{GUIDE}>; rel="deprecation"'
    # Another operation of the same API is untouched.
    other = await client.post(f"{gateway.url}/api/echo", headers=access.headers, content=b"x")
    assert other.status_code == 200
    assert "deprecation" not in other.headers


async def test_clause_4_6_brownout_answers_410_inside_its_period_only(
    gateway: Gateway,
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    access: IssuedAccess,
) -> None:
    now = datetime.now(UTC)
    url = f"{gateway.url}/api/echo"
    async with sessions.begin() as session:
        await set_lifecycle(
            session,
            ["echoGet"],
            LifecycleState.DEPRECATED,
            actor="tests",
            now=now,
            sunset_at=now + timedelta(days=30),
        )
        # A brown-out next week: outside it the operation still answers.
        await add_brownout(
            session,
            ["echoGet"],
            now + timedelta(days=7),
            now + timedelta(days=7, hours=1),
            actor="tests",
            now=now,
        )
    outside = await until(client, url, access, "deprecation")
    assert outside.status_code == 200
    async with sessions.begin() as session:
        await add_brownout(
            session,
            ["echoGet"],
            now - timedelta(minutes=1),
            now + timedelta(minutes=10),
            actor="tests",
            now=now,
        )
    inside = await until(client, url, access, "410")
    assert inside.status_code == 410
    problem = inside.json()
    assert problem["code"] == 41001
    assert problem["clause"] == "4.6"
    assert "deprecation" in inside.headers  # the refusal says why, in headers too


async def test_clause_4_6_retired_operation_answers_410_41002(
    gateway: Gateway,
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    access: IssuedAccess,
) -> None:
    now = datetime.now(UTC)
    url = f"{gateway.url}/api/echo"
    async with sessions.begin() as session:
        # Retiring with a sunset in the future: still served until then.
        await set_lifecycle(
            session,
            ["echoGet"],
            LifecycleState.RETIRED,
            actor="tests",
            now=now,
            sunset_at=now + timedelta(days=3),
            migration_url=GUIDE,
        )
    before = await until(client, url, access, "sunset")
    assert before.status_code == 200
    async with sessions.begin() as session:
        await set_lifecycle(
            session,
            ["echoGet"],
            LifecycleState.RETIRED,
            actor="tests",
            now=now,
            deprecated_at=now - timedelta(days=60),
            sunset_at=now - timedelta(days=1),
        )
    response = await until(client, url, access, "410")
    assert response.status_code == 410
    assert response.json()["code"] == 41002
    assert response.json()["clause"] == "4.6"
    assert GUIDE in response.json()["detail"]
