"""The limiter's decision is written once (`traffic.gcra.decide`) and mirrored in the Redis
script (`traffic/redis_limiter.lua`): one table of (stored counters, request) → verdict runs
through the in-process backend and a real Redis, and both must give the table's answer."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest
from redis.asyncio import Redis

from termgate.gateway.traffic.gcra import (
    ADMITTED,
    APP_RATE,
    BANDWIDTH,
    DEVELOPER_RATE,
    QUOTA,
    Verdict,
)
from termgate.gateway.traffic.memory_limiter import MemoryLimiter
from termgate.gateway.traffic.plan_limits import PlanLimits
from termgate.gateway.traffic.redis_limiter import RedisLimiter
from tests.gateway.limits_support import PrivateRedis, private_redis

NOW = 1_800_000_000.25  # seconds; a whole number of µs, so both backends see the same instant
NOW_US = 1_800_000_000_250_000
S = 1_000_000  # µs


@dataclass(frozen=True)
class Case:
    name: str
    limits: dict[str, int]
    # Stored before the request: TATs as µs after NOW (None: no key), quota per bucket (newest
    # first), bytes of the day, bytes sent since the last request.
    app_tat: int | None = None
    developer_tat: int | None = None
    quota: tuple[int, ...] = ()
    bandwidth: int = 0
    sent: int = 0
    # refused, wait, app left, app reset, developer left, developer reset, quota used, bytes
    verdict: tuple[int, ...] = ()
    # Stored after: app TAT, developer TAT (µs after NOW, None: no key), newest quota bucket.
    after: tuple[int | None, int | None, int] = (None, None, 0)
    rolling_days: int | None = field(default=None)


CASES = [
    Case(
        "the first of 60 per minute leaves 59",
        {"rate": 60},
        verdict=(ADMITTED, 0, 59, S, 0, 0, 0, 0),
        after=(S, None, 0),
    ),
    Case(
        "a full rate refuses with the wait and spends nothing",
        {"rate": 60},
        app_tat=60 * S,
        verdict=(APP_RATE, S, 0, S, 0, 0, 0, 0),
        after=(60 * S, None, 0),
    ),
    Case(
        "9 per minute admits the ninth of a burst",
        {"rate": 9},
        app_tat=8 * 6_666_666,
        verdict=(ADMITTED, 0, 0, 9 * 6_666_666, 0, 0, 0, 0),
        after=(9 * 6_666_666, None, 0),
    ),
    Case(
        "9 per minute refuses the tenth",
        {"rate": 9},
        app_tat=9 * 6_666_666,
        verdict=(APP_RATE, 6_666_666, 0, 6_666_666, 0, 0, 0, 0),
        after=(9 * 6_666_666, None, 0),
    ),
    Case(
        "the application's rate is named before the developer's",
        {"rate": 60, "developer_rate": 120},
        app_tat=60 * S,
        developer_tat=60 * S,
        verdict=(APP_RATE, S, 0, S, 0, S // 2, 0, 0),
        after=(60 * S, 60 * S, 0),
    ),
    Case(
        "a full developer rate refuses though the application has room",
        {"rate": 60, "developer_rate": 60},
        developer_tat=60 * S,
        verdict=(DEVELOPER_RATE, S, 59, S, 0, S, 0, 0),
        after=(None, 60 * S, 0),
    ),
    Case(
        "the quota is named before a full rate, and nothing is spent",
        {"rate": 60, "quota": 5},
        app_tat=60 * S,
        quota=(5,),
        verdict=(QUOTA, 0, 0, S, 0, 0, 5, 0),
        after=(60 * S, None, 5),
    ),
    Case(
        "the last unit of the quota is admitted and counted",
        {"rate": 60, "quota": 5},
        quota=(4,),
        verdict=(ADMITTED, 0, 59, S, 0, 0, 5, 0),
        after=(S, None, 5),
    ),
    Case(
        "a rolling quota sums its days",
        {"quota": 10},
        rolling_days=3,
        quota=(0, 4, 6),
        verdict=(QUOTA, 0, 0, 0, 0, 0, 10, 0),
        after=(None, None, 0),
    ),
    Case(
        "the quota is named before the bandwidth",
        {"quota": 1, "bandwidth": 10},
        quota=(1,),
        bandwidth=10,
        verdict=(QUOTA, 0, 0, 0, 0, 0, 1, 10),
        after=(None, None, 1),
    ),
    Case(
        "bytes sent count before the bandwidth is judged, which is named before the rates",
        {"developer_rate": 60, "bandwidth": 1000},
        developer_tat=60 * S,
        bandwidth=600,
        sent=400,
        verdict=(BANDWIDTH, 0, 0, 0, 0, S, 0, 1000),
        after=(None, 60 * S, 0),
    ),
    Case(
        "within the bandwidth the request is admitted",
        {"rate": 6, "bandwidth": 1000},
        app_tat=-5 * S,
        bandwidth=100,
        sent=50,
        verdict=(ADMITTED, 0, 5, 10 * S, 0, 0, 0, 150),
        after=(10 * S, None, 0),
    ),
]


def _grant(case: Case, counter: str) -> Any:
    limits = PlanLimits(
        rate=case.limits.get("rate"),
        developer_rate=case.limits.get("developer_rate"),
        quota=case.limits.get("quota"),
        bandwidth=case.limits.get("bandwidth"),
        rolling_days=case.rolling_days,
        counted=True,
    )
    return SimpleNamespace(
        limits=limits, app_counter=f"a{counter}", developer_counter=f"d{counter}", key_id="k"
    )


# The order of a case's `verdict` (and of the Redis script's answer).
ANSWER = "refused wait app_left app_reset developer_left developer_reset quota_used bandwidth_used"


def _answer(verdict: Verdict) -> tuple[int, ...]:
    return tuple(getattr(verdict, name) for name in ANSWER.split())


def _offset(value: int | str | bytes | None) -> int | None:
    return None if value is None else int(value) - NOW_US


def _on_memory(case: Case) -> tuple[tuple[int, ...], tuple[int | None, int | None, int]]:
    limiter = MemoryLimiter()
    grant = _grant(case, "")
    if case.app_tat is not None:
        limiter.app(grant.app_counter).tat = NOW_US + case.app_tat
    if case.developer_tat is not None:
        limiter.developer_tat[grant.developer_counter] = NOW_US + case.developer_tat
    buckets = grant.limits.quota_period(NOW).buckets if grant.limits.quota is not None else ()
    for bucket, used in zip(buckets, case.quota, strict=False):
        limiter.seed_quota(grant.app_counter, bucket, used)
    if case.bandwidth:
        limiter.spend_bytes(grant, case.bandwidth, NOW)
    if case.sent:
        limiter.spend_bytes(grant, case.sent, NOW)
    verdict = limiter.acquire(grant, NOW)
    app = limiter.app(grant.app_counter)
    stored = (
        _offset(app.tat or None),  # 0: never stored
        _offset(limiter.developer_tat.get(grant.developer_counter)),
        app.buckets.get(buckets[0], 0) if buckets else 0,
    )
    return _answer(verdict), stored


async def _on_redis(
    limiter: RedisLimiter, client: Redis, case: Case, counter: str
) -> tuple[tuple[int, ...], tuple[int | None, int | None, int]]:
    """The case through the limiter; `client` (on the same Redis) sets and reads the keys."""
    grant = _grant(case, counter)
    keys = limiter.keys(grant, NOW)
    if case.app_tat is not None:
        await client.set(keys[0], NOW_US + case.app_tat)
    if case.developer_tat is not None:
        await client.set(keys[1], NOW_US + case.developer_tat)
    if case.bandwidth:
        await client.set(keys[2], case.bandwidth)
    for key, used in zip(keys[3:], case.quota, strict=False):
        await client.set(key, used)
    if case.sent:
        limiter.spend_bytes(grant, case.sent, NOW)
    verdict = await limiter.acquire(grant, NOW)
    newest = await client.get(keys[3]) if len(keys) > 3 else None
    stored = (
        _offset(await client.get(keys[0])),
        _offset(await client.get(keys[1])),
        int(newest or 0),
    )
    return _answer(verdict), stored


@pytest.fixture(scope="module")
def redis_server() -> Iterator[PrivateRedis]:
    with private_redis() as server:
        yield server


@pytest.fixture
async def redis_client(redis_server: PrivateRedis) -> Any:
    client = Redis.from_url(redis_server.url)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
async def redis_limiter(redis_server: PrivateRedis) -> Any:
    limiter = RedisLimiter(redis_server.url, failure="closed", timeout=2.0)
    limiter.own_clock = False  # the case's instant, not Redis' clock
    try:
        yield limiter
    finally:
        await limiter.close()


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
async def test_clause_4_4_both_limiter_backends_decide_the_table_alike(
    case: Case, redis_limiter: RedisLimiter, redis_client: Redis
) -> None:
    assert _on_memory(case) == (case.verdict, case.after)
    assert await _on_redis(redis_limiter, redis_client, case, str(CASES.index(case))) == (
        case.verdict,
        case.after,
    )


@pytest.mark.parametrize("per_minute", [7, 9, 60, 1000, 7777])
async def test_clause_4_4_both_limiter_backends_admit_exactly_the_plans_burst(
    per_minute: int, redis_limiter: RedisLimiter
) -> None:
    case = Case("burst", {"rate": per_minute})
    memory = MemoryLimiter()
    grant = _grant(case, f"burst{per_minute}")
    in_memory = [memory.acquire(grant, NOW).refused for _ in range(per_minute + 1)]
    in_redis = [(await redis_limiter.acquire(grant, NOW)).refused for _ in range(per_minute + 1)]
    assert in_memory == in_redis == [ADMITTED] * per_minute + [APP_RATE]
