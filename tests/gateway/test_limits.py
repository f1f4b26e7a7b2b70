"""Clauses 3.3 e-h and 4.4: the plan's limits at the gateway (in-process counters)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from termgate.db.models import Plan
from termgate.registry.plans import change_limits
from tests.gateway.conftest import gateway_process, wait_for_status
from tests.gateway.limits_support import MovedClock, limited_apps, problem_of, rate_items
from tests.support.echo_upstream import EchoUpstream
from tests.support.factories import issue_test_token


async def test_clause_4_4_rate_limit_refuses_with_throttling_error_and_headers(
    database_url: str,
    echo_upstream: tuple[EchoUpstream, str],
    sessions: async_sessionmaker[AsyncSession],
    client: httpx.AsyncClient,
) -> None:
    (app,) = await limited_apps(sessions, rate_limit_per_minute=5)
    async with gateway_process(database_url, echo_upstream[1]) as gateway:
        url = f"{gateway.url}/api/echo"
        answers = [await client.get(url, headers=app.headers) for _ in range(6)]
    assert [answer.status_code for answer in answers] == [200] * 5 + [429]
    first = answers[0]
    assert first.headers["ratelimit-policy"] == '"app";q=5;w=60, "developer";q=5;w=60'
    assert rate_items(first)["app"]["r"] == 4
    assert [rate_items(answer)["app"]["r"] for answer in answers[:5]] == [4, 3, 2, 1, 0]
    body = problem_of(answers[5], 429, 42908, "4.4")
    assert body["type"] == "throttlingError"
    assert int(answers[5].headers["retry-after"]) >= 1
    assert rate_items(answers[5])["app"]["r"] == 0
    assert answers[5].headers["ratelimit-policy"]


async def test_clause_3_3_g_developer_limit_holds_across_two_applications(
    database_url: str,
    echo_upstream: tuple[EchoUpstream, str],
    sessions: async_sessionmaker[AsyncSession],
    client: httpx.AsyncClient,
) -> None:
    # developer_rate_limit_per_minute unset: the developer gets the same 4, not 4 per app.
    first, second = await limited_apps(sessions, 2, rate_limit_per_minute=4)
    async with gateway_process(database_url, echo_upstream[1]) as gateway:
        url = f"{gateway.url}/api/echo"
        statuses = [(await client.get(url, headers=first.headers)).status_code for _ in range(2)]
        statuses += [(await client.get(url, headers=second.headers)).status_code for _ in range(2)]
        refused = await client.get(url, headers=second.headers)
    assert statuses == [200] * 4
    problem_of(refused, 429, 42908, "3.3 g")
    assert "retry-after" in refused.headers


async def test_clause_4_4_a_refused_request_consumes_no_budget(
    database_url: str,
    echo_upstream: tuple[EchoUpstream, str],
    sessions: async_sessionmaker[AsyncSession],
    client: httpx.AsyncClient,
) -> None:
    (app,) = await limited_apps(sessions, rate_limit_per_minute=2, quota_per_period=10)
    async with gateway_process(database_url, echo_upstream[1]) as gateway:
        url = f"{gateway.url}/api/echo"
        admitted = [await client.get(url, headers=app.headers) for _ in range(2)]
        refused = [await client.get(url, headers=app.headers) for _ in range(5)]
    assert all(answer.status_code == 200 for answer in admitted)
    for answer in refused:
        problem_of(answer, 429, 42908, "4.4")
    # Five refusals later the quota still shows only the two admitted requests spent.
    assert rate_items(refused[-1])["quota"]["r"] == 8


async def test_clause_4_4_quota_exhausted_is_not_retryable_and_names_reset(
    database_url: str,
    echo_upstream: tuple[EchoUpstream, str],
    sessions: async_sessionmaker[AsyncSession],
    client: httpx.AsyncClient,
) -> None:
    clock = MovedClock.mid_period()
    (app,) = await limited_apps(
        sessions, now=clock.now(), quota_per_period=2, time_zone="Europe/Amsterdam"
    )
    async with gateway_process(
        database_url, echo_upstream[1], clock_offset_seconds=str(clock.offset)
    ) as gateway:
        url = f"{gateway.url}/api/echo"
        statuses = [(await client.get(url, headers=app.headers)).status_code for _ in range(2)]
        refused = await client.get(url, headers=app.headers)
    assert statuses == [200, 200]
    body = problem_of(refused, 429, 42909, "4.4")
    assert "retry-after" not in refused.headers
    reset = datetime.fromisoformat(str(body["resetAt"]))
    local = clock.now().astimezone(ZoneInfo("Europe/Amsterdam"))
    expected = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    assert (reset.year, reset.month, reset.day, reset.hour) == (*expected, 1, 0)
    assert reset.utcoffset() == ZoneInfo("Europe/Amsterdam").utcoffset(reset.replace(tzinfo=None))
    assert rate_items(refused)["quota"]["r"] == 0
    assert rate_items(refused)["quota"]["t"] > 0


async def test_clause_4_4_quota_is_seeded_from_usage_events_after_a_restart(
    database_url: str,
    echo_upstream: tuple[EchoUpstream, str],
    sessions: async_sessionmaker[AsyncSession],
    client: httpx.AsyncClient,
) -> None:
    (app,) = await limited_apps(sessions, quota_per_period=3, quota_period="rolling:7")
    async with gateway_process(database_url, echo_upstream[1]) as gateway:
        url = f"{gateway.url}/api/echo"
        for _ in range(2):
            assert (await client.get(url, headers=app.headers)).status_code == 200
    # A new process: its counters start from the usage events the first one wrote.
    async with gateway_process(database_url, echo_upstream[1]) as gateway:
        url = f"{gateway.url}/api/echo"
        last = await client.get(url, headers=app.headers)
        refused = await client.get(url, headers=app.headers)
    assert last.status_code == 200
    assert rate_items(last)["quota"]["r"] == 0
    problem_of(refused, 429, 42909, "4.4")


async def test_clause_3_3_e_response_larger_than_the_plan_allows_is_not_relayed(
    database_url: str,
    echo_upstream: tuple[EchoUpstream, str],
    sessions: async_sessionmaker[AsyncSession],
    client: httpx.AsyncClient,
) -> None:
    (app,) = await limited_apps(sessions, max_response_bytes=4096)
    async with gateway_process(database_url, echo_upstream[1]) as gateway:
        url = f"{gateway.url}/api/stream"
        small = await client.get(url, params={"size": "4000"}, headers=app.headers)
        large = await client.get(url, params={"size": "200000"}, headers=app.headers)
        after = await client.get(f"{gateway.url}/api/echo", headers=app.headers)
    assert small.status_code == 200
    assert len(small.content) == 4000
    body = problem_of(large, 403, 40311, "3.3 e")
    assert "pageSize" in str(body["detail"])
    assert body["maxResponseBytes"] == 4096
    assert after.status_code == 200  # the gateway is fine after closing that upstream


async def test_clause_3_3_f_bandwidth_budget_per_day(
    database_url: str,
    echo_upstream: tuple[EchoUpstream, str],
    sessions: async_sessionmaker[AsyncSession],
    client: httpx.AsyncClient,
) -> None:
    clock = MovedClock.mid_period()  # noon: both responses fall on the same day
    (app,) = await limited_apps(
        sessions, now=clock.now(), bandwidth_bytes_per_day=5000, time_zone="Europe/Amsterdam"
    )
    async with gateway_process(
        database_url, echo_upstream[1], clock_offset_seconds=str(clock.offset)
    ) as gateway:
        url = f"{gateway.url}/api/stream"
        first = await client.get(url, params={"size": "3000"}, headers=app.headers)
        second = await client.get(url, params={"size": "3000"}, headers=app.headers)
        refused = await client.get(url, params={"size": "10"}, headers=app.headers)
    assert first.status_code == second.status_code == 200
    assert rate_items(second)["bandwidth"]["r"] == 2000  # counted after the first response
    body = problem_of(refused, 429, 42910, "3.3 f")
    # From noon to the end of the Amsterdam day: 12 hours, less the seconds the test took.
    assert 11 * 3600 < int(refused.headers["retry-after"]) <= 12 * 3600
    reset = datetime.fromisoformat(str(body["resetAt"]))
    assert (reset.hour, reset.minute) == (0, 0)
    assert reset.date() == (clock.now() + timedelta(days=1)).astimezone(reset.tzinfo).date()


async def test_clause_4_4_end_users_beyond_the_cap_are_refused_at_the_gateway(
    database_url: str,
    echo_upstream: tuple[EchoUpstream, str],
    sessions: async_sessionmaker[AsyncSession],
    client: httpx.AsyncClient,
) -> None:
    (app,) = await limited_apps(sessions, max_end_users=2)
    other = await issue_test_token(sessions, app.application_id, debtors=("1002",))
    # The provider lowers the cap to one: the later consent is now beyond it.
    async with sessions.begin() as session:
        plan = await session.get_one(Plan, app.plan_id)
        await change_limits(session, plan, {"max_end_users": 1}, "tests")
    async with gateway_process(database_url, echo_upstream[1]) as gateway:
        url = f"{gateway.url}/api/echo"
        await wait_for_status(client, url, app.key, 200, token=app.token.token)
        refused = await client.get(url, headers=other.headers(app.key))
        served = await client.get(url, headers=app.headers)
    problem_of(refused, 403, 40310, "4.4")
    assert served.status_code == 200
