"""Clause 4.4 on one node with two worker processes (Redis limiter): the plan's rate holds for
the node, not per worker. (Two workers with the in-process limiter are refused at start:
tests/test_startup_checks.py.)

GCRA admits N at once, then one more every 60/N seconds; with N = 20 that is one every 3 s, so a
burst answered within 3 s admits exactly N, and a slower one at most one more per 3 s.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.gateway.conftest import gateway_process
from tests.gateway.limits_support import limited_apps, private_redis, problem_of
from tests.support.echo_upstream import EchoUpstream

N = 20  # requests per minute on the plan
LOAD = 120
CONCURRENCY = 60  # connections at once: the kernel hands them to both workers


def worker_of(response: httpx.Response) -> str:
    """The worker process that answered: the gateway's request ids start with a random prefix
    of the process."""
    return response.headers["x-request-id"].rpartition("-")[0]


async def workers_answering(client: httpx.AsyncClient, url: str, headers: dict[str, str]) -> int:
    """Open fresh connections until two workers have answered (both are up), or give up."""
    seen: set[str] = set()
    deadline = time.monotonic() + 30
    while len(seen) < 2 and time.monotonic() < deadline:
        answers = await asyncio.gather(
            *(client.get(url, headers={**headers, "Connection": "close"}) for _ in range(8))
        )
        seen.update(worker_of(answer) for answer in answers)
    return len(seen)


async def test_clause_4_4_rate_limit_holds_on_a_two_worker_node(
    database_url: str,
    echo_upstream: tuple[EchoUpstream, str],
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    (limited,) = await limited_apps(sessions, rate_limit_per_minute=N)
    (spare,) = await limited_apps(sessions, rate_limit_per_minute=100_000)
    limits = httpx.Limits(max_connections=CONCURRENCY, max_keepalive_connections=CONCURRENCY)
    with private_redis() as redis:
        async with (
            gateway_process(
                database_url,
                echo_upstream[1],
                workers="2",
                limiter_backend="redis",
                redis_url=redis.url,
            ) as gateway,
            httpx.AsyncClient(timeout=10, limits=limits) as client,
        ):
            url = f"{gateway.url}/api/echo"
            assert await workers_answering(client, url, spare.headers) == 2
            gate = asyncio.Semaphore(CONCURRENCY)

            async def call() -> httpx.Response:
                # A connection each: the kernel hands every one to whichever worker accepts.
                async with gate:
                    return await client.get(url, headers={**limited.headers, "Connection": "close"})

            started = time.monotonic()
            answers = await asyncio.gather(*(call() for _ in range(LOAD)))
            elapsed = time.monotonic() - started
    statuses = Counter(answer.status_code for answer in answers)
    assert set(statuses) == {200, 429}, statuses
    admitted = [answer for answer in answers if answer.status_code == 200]
    # Both workers decided on some of the burst, against one count: each counting on its own
    # would have let up to 2 N through. (Which of them admitted the first N depends on which
    # accepted the first connections, so only what both answered is asserted.)
    assert len({worker_of(answer) for answer in answers}) == 2, Counter(map(worker_of, answers))
    refill = int(elapsed * N / 60)  # 0 when the burst took less than 3 s
    assert N <= len(admitted) <= N + refill, (statuses, elapsed)
    refused = next(answer for answer in answers if answer.status_code == 429)
    problem_of(refused, 429, 42908, "4.4")
