"""Clause 8 through a real gateway process: inside the weekly window every request is answered
503 (code 50301) with Retry-After up to the window's end; the clock is moved, never slept."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from termgate.governance.maintenance_calendar import add_window, cancel_window, ensure_default_rule
from tests.gateway.conftest import Gateway, gateway_process, wait_for_status
from tests.support.contract_errors import CONTRACT_MEDIA_TYPE, assert_contract_problem
from tests.support.echo_upstream import EchoUpstream
from tests.support.factories import IssuedAccess, issue_test_key, issue_test_token

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def next_wednesday_window(after: datetime) -> datetime:
    """The UTC start of a Wednesday 20:00 Amsterdam window some weeks after `after`."""
    day = (after + timedelta(weeks=5)).astimezone(AMSTERDAM).date()
    day += timedelta(days=(2 - day.weekday()) % 7)
    return datetime(day.year, day.month, day.day, 20, 0, tzinfo=AMSTERDAM).astimezone(UTC)


@dataclass(frozen=True)
class InsideWindow:
    """A gateway whose clock stands 30 minutes into a future weekly window (and moves on as the
    test runs); the offset is taken when the test starts, however late that is."""

    gateway: Gateway
    window: datetime
    offset: float

    def now(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=self.offset)


async def access_on_gateway_clock(
    sessions: async_sessionmaker[AsyncSession], clock: InsideWindow
) -> IssuedAccess:
    """A key and a token issued at the gateway's (moved) time, so the token is not expired."""
    key = await issue_test_key(sessions)
    token = await issue_test_token(sessions, key.application_id, now=clock.now())
    return IssuedAccess(key, token)


@pytest.fixture
async def inside_window(
    database_url: str,
    echo_upstream: tuple[EchoUpstream, str],
    sessions: async_sessionmaker[AsyncSession],
) -> AsyncIterator[InsideWindow]:
    window = next_wednesday_window(datetime.now(UTC))
    offset = (window + timedelta(minutes=30) - datetime.now(UTC)).total_seconds()
    async with gateway_process(
        database_url, echo_upstream[1], clock_offset_seconds=str(offset)
    ) as gateway:
        yield InsideWindow(gateway, window, offset)


async def test_clause_8_weekly_window_answers_503_50301_with_retry_after(
    inside_window: InsideWindow,
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    access = await access_on_gateway_clock(sessions, inside_window)
    url = f"{inside_window.gateway.url}/api/echo"
    await wait_for_status(client, url, access.key.key, 200, token=access.token.token)
    async with sessions.begin() as session:
        await ensure_default_rule(session, "tests")
    await wait_for_status(client, url, access.key.key, 503, token=access.token.token)
    response = await client.get(url, headers=access.headers)
    assert response.status_code == 503
    assert response.headers["content-type"] == CONTRACT_MEDIA_TYPE
    problem = response.json()
    assert_contract_problem(problem, 503, 50301, "8")
    assert problem["type"] == "apiError"  # as the contract's Service_Unavailable
    retry_after = int(response.headers["retry-after"])
    assert 25 * 60 <= retry_after <= 30 * 60  # seconds to the window's end


async def test_clause_8_cancelled_window_lets_traffic_through_and_extra_window_refuses(
    inside_window: InsideWindow,
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    access = await access_on_gateway_clock(sessions, inside_window)
    url = f"{inside_window.gateway.url}/api/echo"
    now, window = inside_window.now(), inside_window.window
    async with sessions.begin() as session:
        await ensure_default_rule(session, "tests")
        await cancel_window(session, window, "nothing to deploy", "tests", window - timedelta(1))
    await wait_for_status(client, url, access.key.key, 200, token=access.token.token)
    async with sessions.begin() as session:
        await add_window(
            session, now - timedelta(minutes=5), 20, "urgent patch", "tests", now - timedelta(1)
        )
    await wait_for_status(client, url, access.key.key, 503, token=access.token.token)
    response = await client.get(url, headers=access.headers)
    assert 14 * 60 <= int(response.headers["retry-after"]) <= 15 * 60
