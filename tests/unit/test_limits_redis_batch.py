"""Clause 4.4 with the decisions of one event-loop turn in one script call: they are decided in
the order asked, each sees what the ones before it stored, the counters Redis ends with are
those of one call per decision, and a call that fails fails every decision it carried as the
configured `redis_failure` says.

Each test runs its own redis-server (`private_redis`), so its `INFO commandstats` counts only
the test's own calls."""

from __future__ import annotations

import asyncio
import time

import pytest
import redis
import redis.asyncio

from termgate.gateway.traffic import periods as calendar_module
from termgate.gateway.traffic import redis_limiter as limiter_module
from termgate.gateway.traffic.gcra import ADMITTED, APP_RATE, UNAVAILABLE, Verdict
from termgate.gateway.traffic.memory_limiter import MemoryLimiter
from termgate.gateway.traffic.plan_limits import PlanLimits
from termgate.gateway.traffic.redis_limiter import RedisLimiter
from termgate.gateway.traffic.redis_wire import bulk
from tests.gateway.limits_support import PrivateRedis
from tests.support.limiter_grant import Grant
from tests.unit.test_limits_redis import DAY, NOON, answer, silent_redis


@pytest.fixture(autouse=True)
def fresh_calendars() -> None:
    calendar_module._calendars.clear()


async def script_calls(inspect: redis.asyncio.Redis) -> dict[str, int]:
    """`EVALSHA` and `EVAL` calls Redis has run so far."""
    stats = await inspect.info("commandstats")
    return {
        name: int(stats.get(f"cmdstat_{name}", {}).get("calls", 0)) for name in ("evalsha", "eval")
    }


def node(url: str, prefix: str = "tg:", **options: object) -> RedisLimiter:
    limiter = RedisLimiter(url, prefix=prefix, timeout=2.0, **options)  # type: ignore[arg-type]
    limiter.own_clock = False  # the test's instant drives the rates, on every node alike
    return limiter


async def test_clause_4_4_a_burst_over_two_nodes_in_one_call_each_admits_exactly_the_limit(
    own_redis: PrivateRedis, inspect: redis.asyncio.Redis
) -> None:
    limit, extra = 40, 24
    first, second = node(own_redis.url), node(own_redis.url)
    grant = Grant(PlanLimits(rate=limit))
    warm = Grant(PlanLimits(rate=limit), app_counter="warm-up", developer_counter="warm-up")
    for limiter in (first, second):
        await limiter.acquire(warm, NOON)  # connected: the burst's decisions go out at once
    before = await script_calls(inspect)
    burst = [first.acquire(grant, NOON) for _ in range((limit + extra) // 2)]
    burst += [second.acquire(grant, NOON) for _ in range((limit + extra) // 2)]
    verdicts = await asyncio.gather(*burst)
    after = await script_calls(inspect)
    assert after["evalsha"] - before["evalsha"] == 2  # one call per node for its 32 decisions
    assert sum(verdict.refused == ADMITTED for verdict in verdicts) == limit
    assert {verdict.refused for verdict in verdicts} == {ADMITTED, APP_RATE}
    # Within a node's call in the order asked: each admitted one leaves one unit fewer, and
    # none is admitted after one was refused.
    for of_node in (verdicts[:32], verdicts[32:]):
        refused = [verdict.refused for verdict in of_node]
        admitted = refused.count(ADMITTED)
        assert admitted >= limit - 32  # whichever call came first took 32, the other the rest
        assert refused == [ADMITTED] * admitted + [APP_RATE] * (32 - admitted)
        lefts = [verdict.app_left for verdict in of_node[:admitted]]
        assert lefts == list(range(lefts[0], lefts[0] - admitted, -1))
    left = sorted(verdict.app_left for verdict in verdicts if verdict.refused == ADMITTED)
    assert left == list(range(limit))
    for limiter in (first, second):
        await limiter.close()


async def counters(client: redis.asyncio.Redis, prefix: str) -> dict[str, tuple[bytes, int]]:
    """Every key under `prefix`: its value and its expiry in ms."""
    found = {}
    async for key in client.scan_iter(match=f"{prefix}*"):
        value = await client.get(key)
        assert value is not None
        found[key.decode()[len(prefix) :]] = (value, await client.pttl(key))
    return found


async def test_clause_4_4_one_call_of_many_decides_and_stores_as_one_call_each(
    own_redis: PrivateRedis, inspect: redis.asyncio.Redis
) -> None:
    """Applications of one developer, with quota (rolling), bandwidth and rates, several
    decisions each in one call, bytes sent before most of them: the verdicts are the in-process
    limiter's, and Redis ends with the counters (values and expiries) of one call a decision."""
    limits = PlanLimits(rate=4, developer_rate=7, quota=5, rolling_days=2, bandwidth=900)
    one, two = Grant(limits), Grant(limits, app_counter="app-2")
    lone = Grant(PlanLimits(rate=2), app_counter="app-3", developer_counter="dev-3")
    steps = [(one, 300), (two, 0), (one, 250), (lone, 0), (one, 400), (two, 120), (lone, 0)]
    steps += [(one, 10), (two, 0), (one, 0), (lone, 0), (two, 5), (one, 1)]
    memory = MemoryLimiter()
    batched, single = node(own_redis.url, "batch:"), node(own_redis.url, "single:")
    # Yesterday's requests count in the rolling quota.
    for limiter in (batched, single):
        await limiter.acquire(one, NOON - DAY)
    memory.acquire(one, NOON - DAY)

    async def step(limiter: RedisLimiter, grant: Grant, sent: int) -> Verdict:
        if sent:
            limiter.spend_bytes(grant, sent, NOON)
        return await limiter.acquire(grant, NOON)

    before = await script_calls(inspect)
    together = await asyncio.gather(*(step(batched, grant, sent) for grant, sent in steps))
    assert (await script_calls(inspect))["evalsha"] - before["evalsha"] == 1
    alone = [await step(single, grant, sent) for grant, sent in steps]
    expected = []
    for grant, sent in steps:
        if sent:
            memory.spend_bytes(grant, sent, NOON)
        expected.append(answer(memory.acquire(grant, NOON)))
    assert [answer(verdict) for verdict in together] == expected
    assert [answer(verdict) for verdict in alone] == expected
    assert {verdict.refused for verdict in together} >= {ADMITTED, APP_RATE}
    stored, one_by_one = await counters(inspect, "batch:"), await counters(inspect, "single:")
    assert sorted(stored) == sorted(one_by_one)
    for key, (value, expiry) in stored.items():
        # The same value and expiry (the two were set a few ms apart, and read so).
        assert value == one_by_one[key][0], key
        assert abs(expiry - one_by_one[key][1]) < 1000, key
    assert stored["b:app-1:20270315"][0] == b"961"  # 300 + 250 + 400 + 10 + 1
    assert 2 * DAY * 1000 - 5000 < stored["b:app-1:20270315"][1] <= 2 * DAY * 1000
    for limiter in (batched, single):
        await limiter.close()


async def test_clause_4_4_a_call_that_hangs_fails_every_decision_per_redis_failure() -> None:
    grant = Grant(PlanLimits(rate=2, bandwidth=1000))
    with silent_redis() as (url, _):
        open_node, closed_node = RedisLimiter(url), RedisLimiter(url, failure="closed")
        for limiter in (open_node, closed_node):
            limiter.own_clock = False
            limiter.spend_bytes(grant, 30, NOON)
        started = time.monotonic()
        opened = asyncio.gather(*(open_node.acquire(grant, NOON) for _ in range(4)))
        closed = asyncio.gather(*(closed_node.acquire(grant, NOON) for _ in range(4)))
        verdicts = await asyncio.wait_for(asyncio.gather(opened, closed), 5)
        elapsed = time.monotonic() - started
        for limiter in (open_node, closed_node):
            await limiter.client.aclose()
    assert elapsed < 1.0  # one timeout (0.25 s) for the call, not one per decision
    # Open: this node's own limits decide each, in the order asked; closed: every one refused.
    assert [verdict.refused for verdict in verdicts[0]] == [ADMITTED] * 2 + [APP_RATE] * 2
    assert [verdict.refused for verdict in verdicts[1]] == [UNAVAILABLE] * 4
    for limiter in (open_node, closed_node):
        assert (limiter.errors, limiter.down) == (4, True)
        assert list(limiter.pending.values()) == [30]  # the bytes kept for later


async def test_clause_4_4_an_error_answer_fails_every_decision_of_the_call(
    own_redis: PrivateRedis, inspect: redis.asyncio.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    failing = await inspect.script_load("return redis.error_reply('ERR the script failed')")
    monkeypatch.setattr(limiter_module, "EVALSHA", bulk(b"EVALSHA") + bulk(failing.encode()))
    limiter = RedisLimiter(own_redis.url, failure="closed", timeout=2.0)
    await limiter.client.connect()
    verdicts = await asyncio.gather(
        *(limiter.acquire(Grant(PlanLimits(rate=5)), NOON) for _ in range(3))
    )
    assert [verdict.refused for verdict in verdicts] == [UNAVAILABLE] * 3
    assert (limiter.errors, (await script_calls(inspect))["evalsha"]) == (3, 1)
    await limiter.close()


async def test_clause_4_4_a_call_redis_has_no_script_for_is_loaded_once_for_all_its_decisions(
    own_redis: PrivateRedis, inspect: redis.asyncio.Redis
) -> None:
    limiter = node(own_redis.url)
    grant = Grant(PlanLimits(rate=3))
    await limiter.client.connect()
    verdicts = await asyncio.gather(*(limiter.acquire(grant, NOON) for _ in range(5)))
    assert [verdict.refused for verdict in verdicts] == [ADMITTED] * 3 + [APP_RATE] * 2
    assert await script_calls(inspect) == {"evalsha": 1, "eval": 1}  # NOSCRIPT, then EVAL
    assert not limiter.down
    await limiter.close()
