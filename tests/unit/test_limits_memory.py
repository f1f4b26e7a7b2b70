"""The in-process limiter and the GCRA arithmetic (clauses 3.3 g, 3.3 h, 4.4), in memory."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from termgate.gateway.traffic import periods as calendar_module
from termgate.gateway.traffic.gcra import (
    ADMITTED,
    APP_RATE,
    BANDWIDTH,
    DEVELOPER_RATE,
    QUOTA,
    Verdict,
    gcra,
    interval_us,
    rate_state,
)
from termgate.gateway.traffic.memory_limiter import MemoryLimiter
from termgate.gateway.traffic.plan_limits import PlanLimits
from tests.support.limiter_grant import Grant

NOON = datetime(2027, 3, 15, 12, tzinfo=UTC).timestamp()
DAY = 86_400.0


@pytest.fixture(autouse=True)
def fresh_calendars() -> None:
    """The zone calendars cache the current day and month, assuming time moves forward only;
    these tests step back and forth."""
    calendar_module._calendars.clear()


S = 1_000_000  # the limiter counts in whole microseconds


def test_clause_4_4_gcra_admits_n_at_once_then_one_per_interval() -> None:
    def one(tat: int, now: int) -> tuple[int, tuple[int, int, int]]:
        verdict = Verdict()
        result = gcra(verdict, APP_RATE, tat * S, now * S, 20 * S, 60 * S)
        return verdict.refused, result

    assert one(0, 100)[1] == (120 * S, 2, 20 * S)
    assert one(0, 100)[0] == ADMITTED
    assert one(120, 100) == (ADMITTED, (140 * S, 1, 40 * S))
    assert one(140, 100) == (ADMITTED, (160 * S, 0, 60 * S))
    assert one(160, 100) == (APP_RATE, (160 * S, 0, 20 * S))
    assert one(160, 130) == (ADMITTED, (180 * S, 0, 50 * S))


def test_clause_4_4_gcra_admits_exactly_the_burst_of_an_uneven_rate() -> None:
    interval = interval_us(7)
    tolerance = interval * 7
    now, tat = 1000 * S, 0
    for _ in range(7):
        verdict = Verdict()
        tat, _left, _wait = gcra(verdict, APP_RATE, tat, now, interval, tolerance)
        assert verdict.refused == ADMITTED
    verdict = Verdict()
    gcra(verdict, APP_RATE, tat, now, interval, tolerance)
    assert verdict.refused == APP_RATE
    verdict = Verdict()
    gcra(verdict, APP_RATE, tat, now + interval, interval, tolerance)
    assert verdict.refused == ADMITTED


def test_clause_4_4_interval_is_whole_microseconds_rounded_down() -> None:
    """⌊60 s / N⌋ in whole µs, so the Redis script and this process compute the same TATs."""
    assert interval_us(None) == 0
    assert interval_us(60) == S
    seven = interval_us(7)
    assert (seven, type(seven)) == (8_571_428, int)
    assert interval_us(60_000_000) == 1


def test_clause_4_4_a_rate_beyond_one_per_microsecond_still_limits() -> None:
    """An interval of 0 means "no rate": a huge rate is floored at 1 µs, never switched off."""
    assert interval_us(120_000_000) == 1
    limits = PlanLimits(rate=120_000_000, developer_rate=90_000_000)
    assert (limits.app_interval, limits.developer_interval) == (1, 1)


def test_clause_4_4_rate_state_without_spending() -> None:
    assert rate_state(0, 100 * S, 20 * S, 60 * S) == (3, 0)
    assert rate_state(140 * S, 100 * S, 20 * S, 60 * S) == (1, 40 * S)
    assert rate_state(100 * S, 100 * S, 20 * S, 60 * S) == (3, 0)
    assert rate_state(120 * S - 1, 100 * S, 20 * S, 60 * S) == (2, 20 * S - 1)


def test_clause_4_4_application_rate_refuses_the_next_request_and_names_the_wait() -> None:
    limiter = MemoryLimiter()
    grant = Grant(PlanLimits(rate=2))
    first = limiter.acquire(grant, NOON)
    assert (first.refused, first.app_left, first.app_reset) == (ADMITTED, 1, 30 * S)
    second = limiter.acquire(grant, NOON)
    assert (second.refused, second.app_left, second.app_reset) == (ADMITTED, 0, 60 * S)
    third = limiter.acquire(grant, NOON + 10)
    assert (third.refused, third.wait, third.app_left) == (APP_RATE, 20 * S, 0)
    assert limiter.apps["app-1"].tat == int(NOON * S) + 60 * S
    assert limiter.acquire(grant, NOON + 30).refused == ADMITTED


def test_clause_3_3_g_developer_rate_is_shared_by_the_developers_applications() -> None:
    limiter = MemoryLimiter()
    limits = PlanLimits(rate=10, developer_rate=2)
    one, two = Grant(limits, app_counter="app-1"), Grant(limits, app_counter="app-2")
    assert limiter.acquire(one, NOON).refused == ADMITTED
    verdict = limiter.acquire(two, NOON)
    assert (verdict.refused, verdict.developer_left, verdict.developer_reset) == (
        ADMITTED,
        0,
        60 * S,
    )
    refused = limiter.acquire(two, NOON)
    assert (refused.refused, refused.wait) == (DEVELOPER_RATE, 30 * S)
    other = Grant(limits, app_counter="app-3", developer_counter="dev-2")
    assert limiter.acquire(other, NOON).refused == ADMITTED


def test_clause_4_4_application_limit_is_named_before_the_developer_limit() -> None:
    limiter = MemoryLimiter()
    grant = Grant(PlanLimits(rate=1, developer_rate=1))
    assert limiter.acquire(grant, NOON).refused == ADMITTED
    refused = limiter.acquire(grant, NOON)
    assert (refused.refused, refused.wait) == (APP_RATE, 60 * S)
    assert (refused.developer_left, refused.developer_reset) == (0, 60 * S)


def test_clause_4_4_a_refused_request_spends_nothing() -> None:
    limiter = MemoryLimiter()
    limits = PlanLimits(rate=5, developer_rate=1, quota=10)
    grant = Grant(limits)
    assert limiter.acquire(grant, NOON).refused == ADMITTED
    app = limiter.apps["app-1"]
    tats = (app.tat, dict(limiter.developer_tat), {"202703": 1})
    assert limiter.acquire(grant, NOON).refused == DEVELOPER_RATE
    assert (app.tat, limiter.developer_tat, app.buckets) == tats
    app.buckets["202703"] = 10
    refused = limiter.acquire(grant, NOON + 60)
    assert refused.refused == QUOTA
    assert (app.tat, limiter.developer_tat) == tats[:2]


def test_clause_4_4_quota_counts_the_month_and_refuses_at_the_quota() -> None:
    limiter = MemoryLimiter()
    grant = Grant(PlanLimits(quota=2))
    assert limiter.acquire(grant, NOON).quota_used == 1
    assert limiter.acquire(grant, NOON).quota_used == 2
    refused = limiter.acquire(grant, NOON)
    assert (refused.refused, refused.quota_used) == (QUOTA, 2)
    assert limiter.apps["app-1"].buckets == {"202703": 2}
    next_month = datetime(2027, 4, 1, tzinfo=UTC).timestamp()
    verdict = limiter.acquire(grant, next_month)
    assert (verdict.refused, verdict.quota_used) == (ADMITTED, 1)
    assert limiter.apps["app-1"].buckets == {"202704": 1}


def test_clause_4_4_rolling_quota_frees_budget_when_the_oldest_day_leaves() -> None:
    limiter = MemoryLimiter()
    grant = Grant(PlanLimits(quota=3, rolling_days=2))
    limiter.seed_quota("app-1", "20270314", 2)
    limiter.seed_quota("app-1", "20270301", 5)
    assert limiter.acquire(grant, NOON).quota_used == 3
    assert limiter.apps["app-1"].buckets == {"20270314": 2, "20270315": 1}
    assert limiter.acquire(grant, NOON).refused == QUOTA
    assert limiter.peek(grant, NOON).quota_used == 3
    tomorrow = limiter.acquire(grant, NOON + DAY)
    assert (tomorrow.refused, tomorrow.quota_used) == (ADMITTED, 2)
    assert limiter.apps["app-1"].buckets == {"20270315": 1, "20270316": 1}


def test_clause_4_4_bandwidth_refuses_once_the_days_bytes_are_spent() -> None:
    limiter = MemoryLimiter()
    grant = Grant(PlanLimits(bandwidth=1000))
    assert limiter.acquire(grant, NOON).bandwidth_used == 0
    limiter.spend_bytes(grant, 600, NOON)
    limiter.spend_bytes(grant, 399, NOON)
    assert (limiter.apps["app-1"].day, limiter.apps["app-1"].sent) == ("20270315", 999)
    verdict = limiter.acquire(grant, NOON)
    assert (verdict.refused, verdict.bandwidth_used) == (ADMITTED, 999)
    limiter.spend_bytes(grant, 1, NOON)
    refused = limiter.acquire(grant, NOON)
    assert (refused.refused, refused.bandwidth_used) == (BANDWIDTH, 1000)
    assert limiter.peek(grant, NOON).bandwidth_used == 1000
    tomorrow = limiter.acquire(grant, NOON + DAY)
    assert (tomorrow.refused, tomorrow.bandwidth_used) == (ADMITTED, 0)
    limiter.spend_bytes(grant, 5, NOON + DAY)
    assert (limiter.apps["app-1"].day, limiter.apps["app-1"].sent) == ("20270316", 5)


def test_clause_4_4_quota_is_named_before_bandwidth_and_rates() -> None:
    limiter = MemoryLimiter()
    grant = Grant(PlanLimits(rate=1, developer_rate=1, quota=1, bandwidth=1))
    limiter.seed_quota("app-1", "202703", 1)
    limiter.spend_bytes(grant, 1, NOON)
    limiter.apps["app-1"].tat = limiter.developer_tat["dev-1"] = int(NOON * S) + 60 * S
    refused = limiter.acquire(grant, NOON)
    assert (refused.refused, refused.wait) == (QUOTA, 0)
    limiter.seed_quota("app-1", "202703", 0)
    refused = limiter.acquire(grant, NOON)
    assert (refused.refused, refused.wait) == (BANDWIDTH, 0)
    limiter.apps["app-1"].sent = 0
    assert limiter.acquire(grant, NOON).refused == APP_RATE


def test_clause_4_4_peek_reports_the_counters_without_spending() -> None:
    limiter = MemoryLimiter()
    grant = Grant(PlanLimits(rate=3, developer_rate=6, quota=5, bandwidth=100))
    fresh = limiter.peek(grant, NOON)
    assert (fresh.app_left, fresh.developer_left, fresh.quota_used) == (3, 6, 0)
    limiter.acquire(grant, NOON)
    limiter.spend_bytes(grant, 40, NOON)
    peeked = limiter.peek(grant, NOON)
    assert (peeked.app_left, peeked.app_reset) == (2, 20 * S)
    assert (peeked.developer_left, peeked.developer_reset) == (5, 10 * S)
    assert (peeked.quota_used, peeked.bandwidth_used, peeked.refused) == (1, 40, ADMITTED)
    assert limiter.peek(grant, NOON).app_left == 2
    assert limiter.apps["app-1"].buckets == {"202703": 1}


def test_clause_4_4_unlimited_plan_counts_nothing() -> None:
    limiter = MemoryLimiter()
    verdict = limiter.acquire(Grant(PlanLimits()), NOON)
    assert (verdict.refused, verdict.wait, verdict.quota_used, verdict.bandwidth_used) == (
        ADMITTED,
        0.0,
        0,
        0,
    )
    assert (verdict.app_left, verdict.app_reset) == (0, 0)
    assert (verdict.developer_left, verdict.developer_reset) == (0, 0)
    app = limiter.apps["app-1"]
    assert (app.tat, app.buckets, app.sent, limiter.developer_tat) == (0, {}, 0, {})
    peeked = limiter.peek(Grant(PlanLimits()), NOON)
    assert (peeked.quota_used, peeked.bandwidth_used, peeked.app_left) == (0, 0, 0)
