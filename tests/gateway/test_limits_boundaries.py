"""Clauses 4.4 and 3.3 f across the plan's period edges, on purpose: the in-process limiter is
given a moved clock a second before and at the Amsterdam midnight that ends a month or a day
(summer time included), so a quota or a day's bandwidth comes back exactly then, not at UTC
midnight and not a second early."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from termgate.gateway.traffic import periods
from termgate.gateway.traffic.gcra import ADMITTED, BANDWIDTH, QUOTA
from termgate.gateway.traffic.memory_limiter import MemoryLimiter
from termgate.gateway.traffic.plan_limits import PlanLimits
from tests.support.limiter_grant import Grant

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def at(*local: int) -> float:
    """The instant of an Amsterdam wall-clock time (year, month, day, hour, minute, second)."""
    return datetime(*local, tzinfo=AMSTERDAM).timestamp()  # type: ignore[misc]


@pytest.fixture(autouse=True)
def fresh_calendars() -> Iterator[None]:
    """The process caches one calendar per zone that only moves forward (as time does); these
    tests jump about in time, so they neither see nor leave a cached period."""
    saved = dict(periods._calendars)
    periods._calendars.clear()
    yield
    periods._calendars.clear()
    periods._calendars.update(saved)


def spend(limiter: MemoryLimiter, grant: Grant, now: float, count: int) -> list[int]:
    return [limiter.acquire(grant, now).refused for _ in range(count)]


@pytest.mark.parametrize(
    ("last_second", "first_second", "utc_hour"),
    [
        ((2031, 1, 31, 23, 59, 59), (2031, 2, 1, 0, 0, 0), 23),  # winter time: UTC+1
        ((2031, 3, 31, 23, 59, 59), (2031, 4, 1, 0, 0, 0), 22),  # summer time: UTC+2
    ],
)
def test_clause_4_4_monthly_quota_comes_back_at_amsterdam_midnight_not_before(
    last_second: tuple[int, ...], first_second: tuple[int, ...], utc_hour: int
) -> None:
    grant = Grant(PlanLimits(quota=2, zone="Europe/Amsterdam", counted=True))
    limiter = MemoryLimiter()
    assert spend(limiter, grant, at(*last_second) - 3600, 2) == [ADMITTED] * 2
    assert spend(limiter, grant, at(*last_second), 1) == [QUOTA]
    period = grant.limits.quota_period(at(*last_second))
    assert period.ends == at(*first_second)
    assert datetime.fromtimestamp(period.ends, ZoneInfo("UTC")).hour == utc_hour
    assert spend(limiter, grant, at(*first_second), 3) == [ADMITTED, ADMITTED, QUOTA]


def test_clause_4_4_quota_of_december_ends_with_the_year() -> None:
    grant = Grant(PlanLimits(quota=1, zone="Europe/Amsterdam", counted=True))
    limiter = MemoryLimiter()
    assert spend(limiter, grant, at(2031, 12, 31, 23, 59, 59), 2) == [ADMITTED, QUOTA]
    assert grant.limits.quota_period(at(2031, 12, 31, 23, 59, 59)).buckets == ("203112",)
    assert spend(limiter, grant, at(2032, 1, 1, 0, 0, 0), 2) == [ADMITTED, QUOTA]
    assert grant.limits.quota_period(at(2032, 1, 1, 0, 0, 0)).buckets == ("203201",)


def test_clause_4_4_rolling_quota_frees_a_day_when_it_leaves_the_window() -> None:
    grant = Grant(PlanLimits(quota=2, rolling_days=3, zone="Europe/Amsterdam", counted=True))
    limiter = MemoryLimiter()
    assert spend(limiter, grant, at(2031, 5, 10, 12, 0, 0), 3) == [ADMITTED, ADMITTED, QUOTA]
    assert spend(limiter, grant, at(2031, 5, 12, 23, 59, 59), 1) == [QUOTA]  # still 3 days
    assert spend(limiter, grant, at(2031, 5, 13, 0, 0, 0), 3) == [ADMITTED, ADMITTED, QUOTA]


def test_clause_3_3_f_bandwidth_comes_back_at_the_amsterdam_day_not_the_utc_day() -> None:
    grant = Grant(PlanLimits(bandwidth=5000, zone="Europe/Amsterdam", counted=True))
    limiter = MemoryLimiter()
    evening = at(2031, 6, 14, 23, 59, 58)
    assert spend(limiter, grant, evening, 1) == [ADMITTED]
    limiter.spend_bytes(grant, 6000, evening)
    assert spend(limiter, grant, evening + 1, 1) == [BANDWIDTH]
    # 00:00 in Amsterdam is 22:00 UTC of the same UTC day: the budget is whole again.
    midnight = at(2031, 6, 15, 0, 0, 0)
    assert datetime.fromtimestamp(midnight, ZoneInfo("UTC")).day == 14
    verdict = limiter.acquire(grant, midnight)
    assert verdict.refused == ADMITTED
    assert verdict.bandwidth_used == 0
