"""Clause 4.4 with counters in Redis (cluster mode), and what happens when Redis goes away:
`open` keeps serving on each node's own limits, `closed` answers 503 (code 50302); never a 500,
and the limiter finds Redis again by itself."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.gateway.conftest import gateway_process
from tests.gateway.limits_support import limited_apps, private_redis, problem_of, rate_items
from tests.support.echo_upstream import EchoUpstream


async def test_clause_4_4_redis_limiter_counts_and_refuses_without_spending(
    database_url: str,
    echo_upstream: tuple[EchoUpstream, str],
    sessions: async_sessionmaker[AsyncSession],
    client: httpx.AsyncClient,
) -> None:
    (app,) = await limited_apps(
        sessions, rate_limit_per_minute=3, quota_per_period=10, bandwidth_bytes_per_day=10**9
    )
    with private_redis() as redis:
        async with gateway_process(
            database_url, echo_upstream[1], limiter_backend="redis", redis_url=redis.url
        ) as gateway:
            url = f"{gateway.url}/api/echo"
            answers = [await client.get(url, headers=app.headers) for _ in range(6)]
    assert [answer.status_code for answer in answers] == [200] * 3 + [429] * 3
    assert [rate_items(answer)["app"]["r"] for answer in answers[:3]] == [2, 1, 0]
    problem_of(answers[3], 429, 42908, "4.4")
    assert rate_items(answers[-1])["quota"]["r"] == 7  # the refusals spent nothing
    # Bytes of each response reach Redis with the next request.
    assert rate_items(answers[2])["bandwidth"]["r"] < 10**9


async def test_clause_3_3_g_redis_developer_limit_holds_across_two_applications(
    database_url: str,
    echo_upstream: tuple[EchoUpstream, str],
    sessions: async_sessionmaker[AsyncSession],
    client: httpx.AsyncClient,
) -> None:
    # Each application may send 6 a minute; their developer 4 in all, counted in Redis.
    first, second = await limited_apps(
        sessions, 2, rate_limit_per_minute=6, developer_rate_limit_per_minute=4
    )
    with private_redis() as redis:
        async with gateway_process(
            database_url, echo_upstream[1], limiter_backend="redis", redis_url=redis.url
        ) as gateway:
            url = f"{gateway.url}/api/echo"
            answers = [await client.get(url, headers=first.headers) for _ in range(2)]
            answers += [await client.get(url, headers=second.headers) for _ in range(2)]
            refused = await client.get(url, headers=second.headers)
    assert [answer.status_code for answer in answers] == [200] * 4
    assert [rate_items(answer)["developer"]["r"] for answer in answers] == [3, 2, 1, 0]
    assert rate_items(answers[-1])["app"]["r"] == 4  # the second application's own count
    problem_of(refused, 429, 42908, "3.3 g")
    assert "retry-after" in refused.headers


async def through_an_outage(
    database_url: str,
    upstream_url: str,
    sessions: async_sessionmaker[AsyncSession],
    client: httpx.AsyncClient,
    failure: str,
    *,
    rate: int = 1000,
    sent: int = 5,
) -> tuple[list[httpx.Response], httpx.Response]:
    """`sent` answers while the gateway's private Redis is down (after one with Redis up), and
    one after it is back."""
    (app,) = await limited_apps(sessions, rate_limit_per_minute=rate)
    with private_redis() as redis:
        async with gateway_process(
            database_url,
            upstream_url,
            limiter_backend="redis",
            redis_url=redis.url,
            redis_failure=failure,
        ) as gateway:
            url = f"{gateway.url}/api/echo"
            assert (await client.get(url, headers=app.headers)).status_code == 200
            redis.stop()
            down = [await client.get(url, headers=app.headers) for _ in range(sent)]
            redis.start()
            await asyncio.sleep(1.2)  # the limiter tries Redis again after a second
            back = await client.get(url, headers=app.headers)
    return down, back


async def test_clause_4_4_redis_down_open_falls_back_to_local_limits(
    database_url: str,
    echo_upstream: tuple[EchoUpstream, str],
    sessions: async_sessionmaker[AsyncSession],
    client: httpx.AsyncClient,
) -> None:
    # 5 a minute, 8 sent while Redis is down: the node's own limiter (which saw none of the
    # request counted in Redis before the outage) admits 5 and refuses the rest.
    down, back = await through_an_outage(
        database_url, echo_upstream[1], sessions, client, "open", rate=5, sent=8
    )
    assert [answer.status_code for answer in down] == [200] * 5 + [429] * 3
    assert all("ratelimit" in answer.headers for answer in down)
    assert [rate_items(answer)["app"]["r"] for answer in down[:5]] == [4, 3, 2, 1, 0]
    problem_of(down[5], 429, 42908, "4.4")
    assert int(down[5].headers["retry-after"]) >= 1
    # Back on Redis (restarted empty: the test's server keeps nothing on disk).
    assert back.status_code == 200
    assert rate_items(back)["app"]["r"] == 4


async def test_clause_4_4_redis_down_closed_answers_503_with_retry_after(
    database_url: str,
    echo_upstream: tuple[EchoUpstream, str],
    sessions: async_sessionmaker[AsyncSession],
    client: httpx.AsyncClient,
) -> None:
    down, back = await through_an_outage(database_url, echo_upstream[1], sessions, client, "closed")
    for answer in down:
        problem_of(answer, 503, 50302, "4.4")
        assert int(answer.headers["retry-after"]) >= 1
    assert back.status_code == 200


async def test_clause_4_4_a_concurrent_burst_of_two_applications_admits_exactly_the_limits(
    database_url: str,
    echo_upstream: tuple[EchoUpstream, str],
    sessions: async_sessionmaker[AsyncSession],
    client: httpx.AsyncClient,
) -> None:
    # Requests that arrive together are decided in one script call per event-loop turn: the
    # applications' own limits and their developer's shared one still hold exactly, each unit
    # admitted once.
    first, second = await limited_apps(
        sessions, 2, rate_limit_per_minute=15, developer_rate_limit_per_minute=25
    )
    senders = (first, second) * 20
    with private_redis() as redis:
        async with gateway_process(
            database_url, echo_upstream[1], limiter_backend="redis", redis_url=redis.url
        ) as gateway:
            url = f"{gateway.url}/api/echo"
            answers = await asyncio.gather(*(client.get(url, headers=a.headers) for a in senders))
    admitted = [answer for answer in answers if answer.status_code == 200]
    assert len(admitted) == 25
    assert sorted(rate_items(answer)["developer"]["r"] for answer in admitted) == list(range(25))
    for app in (first, second):
        own = [answer for answer, sender in zip(answers, senders, strict=True) if sender is app]
        left = sorted(rate_items(answer)["app"]["r"] for answer in own if answer.status_code == 200)
        assert left == list(range(15 - len(left), 15))
    for refused in (answer for answer in answers if answer.status_code != 200):
        clause = "3.3 g" if rate_items(refused)["developer"]["r"] == 0 else "4.4"
        problem_of(refused, 429, 42908, clause)  # the developer's, or the application's own
