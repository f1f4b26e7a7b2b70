"""Clause 4.4 in cluster mode (docs/architecture.md): two gateway processes on one PostgreSQL
database and
one Redis. A plan's rate limit holds across both nodes under concurrent load; a suspension made
through one node's admin API refuses the next request on the other within a second; and with
Redis stopped each node does what it is configured to (open: its own limits; closed: 503),
never a 500.

GCRA admits N at once and then refills one every 60/N seconds, so during a load lasting
`elapsed` seconds the admitted count is N plus at most elapsed × N / 60: the test allows that
refill on top of N ± 1 %.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from termgate.registry.admins import create_administrator, issue_admin_token
from tests.gateway.conftest import gateway_process
from tests.gateway.limits_support import limited_apps, private_redis, problem_of
from tests.support.echo_upstream import EchoUpstream
from tests.support.timing import within

N = 600  # requests per minute on the plan
LOAD = 1500
CONCURRENCY = 64


async def _admin_token(sessions: async_sessionmaker[AsyncSession]) -> str:
    async with sessions.begin() as session:
        admin = await create_administrator(
            session, email="ops-cluster@example.nl", name="Ops", password="correct horse 42"
        )
        return await issue_admin_token(session, admin, "cluster test")


async def test_clause_4_4_rate_limit_holds_across_nodes(
    cluster_database_url: str, cluster_sessions: async_sessionmaker[AsyncSession]
) -> None:
    (limited,) = await limited_apps(cluster_sessions, rate_limit_per_minute=N)
    (spare,) = await limited_apps(cluster_sessions, rate_limit_per_minute=100_000)
    admin_token = await _admin_token(cluster_sessions)
    upstream = EchoUpstream()
    upstream_url = f"http://127.0.0.1:{await upstream.start()}"
    try:
        with private_redis() as redis:
            common = {"limiter_backend": "redis", "redis_url": redis.url}
            async with (
                gateway_process(
                    cluster_database_url, upstream_url, redis_failure="open", **common
                ) as first,
                gateway_process(
                    cluster_database_url, upstream_url, redis_failure="closed", **common
                ) as second,
                httpx.AsyncClient(timeout=10, limits=httpx.Limits(max_connections=128)) as client,
            ):
                nodes = (first.url, second.url)
                # 1. The plan's rate holds across both nodes under concurrent load.
                gate = asyncio.Semaphore(CONCURRENCY)

                async def call(index: int) -> int:
                    async with gate:
                        url = f"{nodes[index % 2]}/api/echo"
                        return (await client.get(url, headers=limited.headers)).status_code

                started = time.monotonic()
                statuses = Counter(await asyncio.gather(*(call(i) for i in range(LOAD))))
                elapsed = time.monotonic() - started
                assert set(statuses) <= {200, 429}, statuses
                refill = elapsed * N / 60
                assert N * 0.99 <= statuses[200] <= N * 1.01 + refill, (statuses, elapsed)

                # 2. A suspension through the first node's admin API reaches the second node.
                answer = await client.post(
                    f"{first.url}/admin/api/applications/{spare.application_id}/suspend",
                    json={"reason": "cluster test"},
                    headers={"Authorization": f"Bearer {admin_token}"},
                )
                assert answer.status_code == 200, answer.text
                suspended_at = time.monotonic()
                while True:
                    refused = await client.get(f"{second.url}/api/echo", headers=spare.headers)
                    if refused.status_code == 403:
                        break
                    assert time.monotonic() - suspended_at < within(1.0), "suspension took over 1 s"
                    await asyncio.sleep(0.02)
                assert time.monotonic() - suspended_at < within(1.0)
                problem_of(refused, 403, 40301, "3.1")

                # 3. Redis stops: the open node keeps limiting alone, the closed one answers 503.
                (other,) = await limited_apps(cluster_sessions, rate_limit_per_minute=100_000)
                await asyncio.sleep(0.6)  # both snapshots know the new key
                redis.stop()
                opened = [
                    await client.get(f"{first.url}/api/echo", headers=other.headers)
                    for _ in range(5)
                ]
                closed = [
                    await client.get(f"{second.url}/api/echo", headers=other.headers)
                    for _ in range(5)
                ]
                assert [answer.status_code for answer in opened] == [200] * 5
                for answer in closed:
                    problem_of(answer, 503, 50302, "4.4")
                    assert "retry-after" in answer.headers
    finally:
        await upstream.close()
