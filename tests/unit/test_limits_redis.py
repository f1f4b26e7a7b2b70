"""The cluster limiter against the real local Redis (clauses 3.3 g and 4.4): it decides as the
in-process limiter does, shares the developer's counter across applications and nodes, and
when Redis is away `open` still limits on this node while `closed` refuses.

Every run takes its own key prefix; the tests skip, saying why, when no Redis answers."""

from __future__ import annotations

import asyncio
import logging
import math
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
import redis
import redis.asyncio

from termgate.gateway.traffic import periods as calendar_module
from termgate.gateway.traffic.gcra import (
    ADMITTED,
    APP_RATE,
    BANDWIDTH,
    DEVELOPER_RATE,
    QUOTA,
    UNAVAILABLE,
    Verdict,
)
from termgate.gateway.traffic.memory_limiter import MemoryLimiter
from termgate.gateway.traffic.plan_limits import PlanLimits
from termgate.gateway.traffic.redis_limiter import RedisLimiter
from termgate.gateway.traffic.redis_wire import RedisWire
from tests.support.limiter_grant import Grant

REDIS_URL = "redis://127.0.0.1:6379/0"
NOON = datetime(2027, 3, 15, 12, tzinfo=UTC).timestamp()
S = 1_000_000  # µs
DAY = 86_400
ANSWER = "refused wait app_left app_reset developer_left developer_reset quota_used bandwidth_used"


def answer(verdict: Verdict) -> tuple[int, ...]:
    return tuple(getattr(verdict, name) for name in ANSWER.split())


@pytest.fixture(autouse=True)
def fresh_calendars() -> None:
    calendar_module._calendars.clear()


@pytest.fixture(scope="module")
def redis_reachable() -> None:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping()
    except redis.RedisError as error:
        pytest.skip(f"these tests need the local Redis at {REDIS_URL}, which is away: {error}")


@pytest.fixture
def prefix(redis_reachable: None) -> Iterator[str]:
    name = f"tgtest:{uuid.uuid4().hex[:12]}:"
    yield name
    client = redis.Redis.from_url(REDIS_URL)
    for key in client.scan_iter(match=f"{name}*"):
        client.delete(key)


Make = Callable[..., RedisLimiter]


@pytest.fixture
async def make(prefix: str) -> AsyncIterator[Make]:
    """Limiters on the live Redis sharing this test's prefix (nodes of one cluster)."""
    made: list[RedisLimiter] = []

    def one(url: str = REDIS_URL, *, own_clock: bool = False, **options: object) -> RedisLimiter:
        limiter = RedisLimiter(url, prefix=prefix, timeout=2.0, **options)  # type: ignore[arg-type]
        limiter.own_clock = own_clock
        made.append(limiter)
        return limiter

    yield one
    for limiter in made:
        await limiter.client.aclose()


def dead_url() -> str:
    """A loopback port nobody listens on: connecting is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"


def reconnect(limiter: RedisLimiter, url: str) -> None:
    """Redis comes back: the limiter's client now reaches `url`."""
    limiter.client = RedisWire(url, timeout=2.0)


async def test_clause_4_4_redis_decides_every_limit_as_the_memory_limiter(make: Make) -> None:
    limiter, memory = make(), MemoryLimiter()
    limits = PlanLimits(rate=3, developer_rate=5, quota=6, bandwidth=1000)
    one, two = Grant(limits), Grant(limits, app_counter="app-2")
    unlimited = Grant(PlanLimits(rate=600), app_counter="app-3", developer_counter="dev-3")
    steps: list[tuple[Grant, float, int]] = [
        (one, NOON, 0),
        (one, NOON, 400),
        (one, NOON + 1, 0),
        (one, NOON + 2, 0),  # the application's burst of 3 is spent
        (two, NOON + 2, 0),
        (two, NOON + 3, 0),  # the developer's 5 are spent
        (two, NOON + 4, 0),
        (one, NOON + 25, 700),  # the bytes of the day pass 1000
        (one, NOON + DAY, 0),  # a new day: the bytes start again
        (one, NOON + DAY + 20, 0),
        (one, NOON + DAY + 40, 0),
        (one, NOON + DAY + 60, 0),  # the month's 6 are spent
        (unlimited, NOON, 0),
        (unlimited, NOON, 0),
        (unlimited, NOON, 0),
    ]
    seen = []
    for grant, now, sent in steps:
        if sent:
            limiter.spend_bytes(grant, sent, now)
            memory.spend_bytes(grant, sent, now)
        in_redis = answer(await limiter.acquire(grant, now))
        assert in_redis == answer(memory.acquire(grant, now)), (grant.app_counter, now)
        seen.append(in_redis[0])
    assert seen == [
        ADMITTED,
        ADMITTED,
        ADMITTED,
        APP_RATE,
        ADMITTED,
        ADMITTED,
        DEVELOPER_RATE,
        BANDWIDTH,
        ADMITTED,
        ADMITTED,
        ADMITTED,
        QUOTA,
        ADMITTED,
        ADMITTED,
        ADMITTED,
    ]


async def test_clause_4_4_without_a_quota_or_bandwidth_nothing_of_them_refuses(make: Make) -> None:
    limiter = make()
    grant = Grant(PlanLimits(rate=600))
    limiter.spend_bytes(grant, 10, NOON)
    assert [(await limiter.acquire(grant, NOON)).refused for _ in range(3)] == [ADMITTED] * 3


async def test_clause_4_4_rolling_quota_in_redis_sums_its_days(make: Make) -> None:
    limiter, memory = make(), MemoryLimiter()
    grant = Grant(PlanLimits(quota=3, rolling_days=2))
    for now in (NOON - DAY, NOON - DAY, NOON, NOON, NOON + DAY, NOON + DAY, NOON + DAY):
        assert answer(await limiter.acquire(grant, now)) == answer(memory.acquire(grant, now))
    assert (await limiter.acquire(grant, NOON + DAY)).refused == QUOTA


async def test_clause_4_4_redis_counters_expire_after_their_period(make: Make, prefix: str) -> None:
    limiter = make()
    grant = Grant(PlanLimits(quota=10, bandwidth=10**6))
    limiter.spend_bytes(grant, 5, NOON)
    before = time.time()
    assert (await limiter.acquire(grant, NOON)).bandwidth_used == 5
    quota_key = f"{prefix}q:app-1:202703"
    bandwidth_key = f"{prefix}b:app-1:20270315"
    assert limiter.keys(grant, NOON)[2:] == [bandwidth_key, quota_key]
    month_end = datetime(2027, 4, 1, tzinfo=UTC).timestamp()
    quota_ttl = math.ceil(month_end - NOON) + 31 * DAY + DAY
    slack = math.ceil(time.time() - before) + 1
    client = redis.asyncio.Redis.from_url(REDIS_URL)
    assert quota_ttl - slack <= await client.ttl(quota_key) <= quota_ttl
    assert 2 * DAY - slack <= await client.ttl(bandwidth_key) <= 2 * DAY
    limiter.spend_bytes(grant, 7, NOON)
    await limiter.flush_bytes()
    assert limiter.pending == {}
    assert int(await client.get(bandwidth_key) or 0) == 12
    assert 2 * DAY - slack <= await client.ttl(bandwidth_key) <= 2 * DAY
    await client.aclose()


async def test_clause_3_3_g_redis_developer_counter_is_shared_by_the_developers_applications(
    make: Make,
) -> None:
    limiter = make()
    limits = PlanLimits(rate=10, developer_rate=2)
    first, second = Grant(limits), Grant(limits, app_counter="app-2")
    assert (await limiter.acquire(first, NOON)).refused == ADMITTED
    admitted = await limiter.acquire(second, NOON)
    assert (admitted.refused, admitted.app_left, admitted.developer_left) == (ADMITTED, 9, 0)
    refused = await limiter.acquire(second, NOON)
    assert (refused.refused, refused.wait) == (DEVELOPER_RATE, 30 * S)
    other = Grant(limits, app_counter="app-3", developer_counter="dev-2")
    assert (await limiter.acquire(other, NOON)).refused == ADMITTED


async def test_clause_4_4_two_nodes_share_the_counters_in_redis(make: Make) -> None:
    node_a, node_b = make(), make()
    grant = Grant(PlanLimits(rate=2, quota=3))
    assert (await node_a.acquire(grant, NOON)).refused == ADMITTED
    assert (await node_b.acquire(grant, NOON)).refused == ADMITTED
    refused = await node_a.acquire(grant, NOON)
    assert (refused.refused, refused.wait, refused.quota_used) == (APP_RATE, 30 * S, 2)
    assert (await node_b.acquire(grant, NOON + 30)).quota_used == 3
    assert (await node_a.acquire(grant, NOON + 60)).refused == QUOTA
    # What a node last saw of the application, for the headers of requests it refuses early.
    assert answer(node_a.peek(grant, NOON)) == answer(node_a.last["app-1"])
    assert node_a.peek(grant, NOON).refused == QUOTA
    assert node_b.peek(grant, NOON).quota_used == 3
    fresh = make().peek(grant, NOON)
    assert (fresh.app_left, fresh.quota_used) == (2, 0)


async def test_clause_4_4_redis_clock_drives_the_rates_by_default(make: Make) -> None:
    limiter = make(own_clock=True)
    assert make(own_clock=True).own_clock is True
    grant = Grant(PlanLimits(rate=1))
    assert RedisLimiter(REDIS_URL).own_clock is True
    assert (await limiter.acquire(grant, NOON)).refused == ADMITTED
    # The caller's clock says an hour has passed; Redis' says it has not.
    assert (await limiter.acquire(grant, NOON + 3600)).refused == APP_RATE


async def test_clause_4_4_a_changed_plan_or_developer_counts_at_once_in_redis(make: Make) -> None:
    """The call is encoded once per grant and period: a plan change (a new snapshot), another
    developer counter or a new day must still reach the script on the very next request."""
    limiter = make()
    one = Grant(PlanLimits(rate=1))
    assert (await limiter.acquire(one, NOON)).refused == ADMITTED
    assert (await limiter.acquire(one, NOON)).refused == APP_RATE
    upgraded = Grant(PlanLimits(rate=3))  # same application, the plan upgraded
    # The TAT of 1 per minute stands 60 s ahead; at 3 per minute one more fits 20 s later (at
    # 1 per minute it would take 60 s).
    assert (await limiter.acquire(upgraded, NOON)).wait == 20 * S
    assert (await limiter.acquire(upgraded, NOON + 20)).refused == ADMITTED
    limits = PlanLimits(rate=100, developer_rate=1, bandwidth=50)
    moved = Grant(limits, app_counter="app-2", developer_counter="dev-2")
    assert (await limiter.acquire(moved, NOON)).refused == ADMITTED
    other_developer = Grant(limits, app_counter="app-2", developer_counter="dev-3")
    assert (await limiter.acquire(other_developer, NOON)).refused == ADMITTED  # dev-3's own
    limiter.spend_bytes(other_developer, 60, NOON)
    assert (await limiter.acquire(other_developer, NOON + 60)).refused == BANDWIDTH
    limiter.spend_bytes(other_developer, 10, NOON + DAY)
    next_day = await limiter.acquire(other_developer, NOON + DAY)
    assert (next_day.refused, next_day.bandwidth_used) == (ADMITTED, 10)


def test_clause_4_4_redis_keys_carry_the_default_prefix() -> None:
    grant = Grant(PlanLimits(quota=1))
    assert RedisLimiter(REDIS_URL).keys(grant, NOON) == [
        "tg:r:app-1",
        "tg:d:dev-1",
        "tg:b:app-1:20270315",
        "tg:q:app-1:202703",
    ]


async def test_clause_4_4_redis_away_in_open_mode_falls_back_to_limits_that_still_limit(
    make: Make, caplog: pytest.LogCaptureFixture
) -> None:
    limiter = make(dead_url())
    assert limiter.failure == "open"  # the default
    limits = PlanLimits(rate=2, developer_rate=3, bandwidth=100)
    grant, sibling = Grant(limits), Grant(limits, app_counter="app-2")
    with caplog.at_level(logging.WARNING):
        verdicts = [await limiter.acquire(grant, NOON) for _ in range(3)]
        assert [verdict.refused for verdict in verdicts] == [ADMITTED, ADMITTED, APP_RATE]
        assert (await limiter.acquire(sibling, NOON + 0.5)).refused == ADMITTED
        assert (await limiter.acquire(sibling, NOON + 0.5)).refused == DEVELOPER_RATE
        limiter.spend_bytes(grant, 100, NOON + 0.5)
        assert (await limiter.acquire(grant, NOON + 30)).refused == BANDWIDTH
        assert (await limiter.acquire(grant, NOON + 31)).refused == BANDWIDTH
    errors = [record.getMessage() for record in caplog.records]
    assert len(errors) == 1  # once per outage, though Redis was tried again after a second
    assert errors[0].startswith("Redis unreachable (Error 111 connecting to 127.0.0.1:")
    assert errors[0].endswith("; in-process limits on this node until it answers again")
    assert limiter.down


async def test_clause_4_4_redis_away_in_closed_mode_refuses(
    make: Make, caplog: pytest.LogCaptureFixture
) -> None:
    limiter = make(dead_url(), failure="closed")
    grant = Grant(PlanLimits(rate=1000))
    with caplog.at_level(logging.WARNING):
        refused = await limiter.acquire(grant, NOON)
        assert (refused.refused, refused.wait) == (UNAVAILABLE, S)
        later = await limiter.acquire(grant, NOON + 0.5)
        assert (later.refused, later.wait) == (UNAVAILABLE, S)
        limiter.down_until = NOON + 3
        assert (await limiter.acquire(grant, NOON + 0.5)).wait == 2.5 * S
    (message,) = [record.getMessage() for record in caplog.records]
    assert message.startswith("Redis unreachable")
    assert message.endswith("; refusing (503) until it answers again")
    assert limiter.local.apps == {}  # closed never counts on this node


async def test_clause_4_4_redis_is_tried_again_a_second_after_it_failed(
    make: Make, prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    limiter = make(dead_url())
    grant = Grant(PlanLimits(rate=60, bandwidth=1000))
    limiter.spend_bytes(grant, 30, NOON)
    with caplog.at_level(logging.WARNING):
        assert (await limiter.acquire(grant, NOON)).refused == ADMITTED
        assert limiter.pending == {f"{prefix}b:app-1:20270315": 30}  # kept for later
        assert (limiter.down, limiter.down_until) == (True, NOON + 1)
        reconnect(limiter, REDIS_URL)
        limiter.spend_bytes(grant, 20, NOON + 0.5)
        assert (limiter.local.apps["app-1"].day, limiter.local.apps["app-1"].sent) == (
            "20270315",
            20,
        )
        assert (await limiter.acquire(grant, NOON + 0.5)).app_left == 58  # still this node's
        await limiter.flush_bytes()  # not while Redis is thought away
        assert limiter.pending == {f"{prefix}b:app-1:20270315": 50}
        back = await limiter.acquire(grant, NOON + 1)
    assert (back.refused, back.app_left, back.bandwidth_used) == (ADMITTED, 59, 50)
    assert not limiter.down
    messages = [record.getMessage() for record in caplog.records]
    assert messages[-1] == "Redis is reachable again; limits are shared across nodes again"
    assert len(messages) == 2
    limiter.spend_bytes(grant, 5, NOON + 2)
    local = limiter.local.apps["app-1"]
    assert (local.day, local.sent) == ("20270315", 20)  # Redis counts them again
    assert (await limiter.acquire(grant, NOON + 2)).bandwidth_used == 55


async def test_clause_4_4_bytes_not_flushed_are_kept_until_redis_answers(
    make: Make, prefix: str
) -> None:
    limiter = make(dead_url())
    grant = Grant(PlanLimits(bandwidth=1000))
    limiter.spend_bytes(grant, 40, NOON)
    limiter.spend_bytes(grant, 2, NOON)
    await limiter.flush_bytes()
    key = f"{prefix}b:app-1:20270315"
    assert limiter.pending == {key: 42}
    assert limiter.local.apps == {}  # Redis is not known to be away yet
    reconnect(limiter, REDIS_URL)
    await limiter.close()
    client = redis.Redis.from_url(REDIS_URL)
    assert client.get(key) == b"42"
    assert limiter.pending == {}


@contextmanager
def silent_redis(backlog: int = 64) -> Iterator[tuple[str, socket.socket]]:
    """A loopback listener that lets clients connect and never answers them."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(backlog)
        host, port = silent.getsockname()
        yield f"redis://{host}:{port}/0", silent


def connections_made(silent: socket.socket) -> int:
    """How many connections reached the listener (each waits in its queue until accepted)."""
    silent.setblocking(False)
    accepted = []
    try:
        while True:
            accepted.append(silent.accept()[0])
    except BlockingIOError:
        pass
    for connection in accepted:
        connection.close()
    return len(accepted)


async def test_clause_4_4_a_redis_that_hangs_costs_one_timeout_and_keeps_the_bytes() -> None:
    grant = Grant(PlanLimits(rate=5, bandwidth=1000))
    with silent_redis() as (url, silent):
        limiter = RedisLimiter(url)
        limiter.spend_bytes(grant, 30, NOON)
        started = time.monotonic()
        asking = asyncio.create_task(limiter.acquire(grant, NOON))
        await asyncio.sleep(0.05)
        limiter.spend_bytes(grant, 7, NOON)  # a response finishes while Redis is asked
        verdict = await asyncio.wait_for(asking, 5)
        elapsed = time.monotonic() - started
        assert connections_made(silent) == 1  # no second try within the request
        await limiter.client.aclose()
    assert (verdict.refused, limiter.down) == (ADMITTED, True)
    assert elapsed < 1.0  # the default timeout is a quarter of a second
    assert list(limiter.pending.values()) == [37]


async def test_clause_4_4_a_flush_that_fails_keeps_the_bytes_sent_meanwhile() -> None:
    grant = Grant(PlanLimits(bandwidth=1000))
    with silent_redis() as (url, _):
        limiter = RedisLimiter(url)
        limiter.spend_bytes(grant, 5, NOON)
        flushing = asyncio.create_task(limiter.flush_bytes())
        await asyncio.sleep(0.05)
        limiter.spend_bytes(grant, 3, NOON)
        await asyncio.wait_for(flushing, 5)
        await limiter.client.aclose()
    assert list(limiter.pending.values()) == [8]


async def test_clause_4_4_a_redis_that_takes_no_connections_costs_one_timeout() -> None:
    with silent_redis(backlog=0) as (url, silent):
        fillers = []
        for _ in range(3):  # fill the listener's queue: further connection attempts hang
            filler = socket.socket()
            filler.setblocking(False)
            filler.connect_ex(silent.getsockname())
            fillers.append(filler)
        limiter = RedisLimiter(url)
        verdict = await asyncio.wait_for(limiter.acquire(Grant(PlanLimits(rate=5)), NOON), 5)
        await limiter.client.aclose()
        for filler in fillers:
            filler.close()
    assert (verdict.refused, limiter.down) == (ADMITTED, True)


async def test_clause_4_4_a_node_holds_one_connection_to_a_redis_that_hangs() -> None:
    grant = Grant(PlanLimits(rate=100))
    with silent_redis() as (url, silent):
        limiter = RedisLimiter(url)
        started = time.monotonic()
        verdicts = await asyncio.wait_for(
            asyncio.gather(*(limiter.acquire(grant, NOON) for _ in range(6))), 5
        )
        elapsed = time.monotonic() - started
        assert connections_made(silent) == 1
        await limiter.client.aclose()
    assert [verdict.refused for verdict in verdicts] == [ADMITTED] * 6
    assert elapsed < 1.0  # the waiting requests give up on a connection after the timeout too
