"""The limiter's decision, written once: GCRA for the rates and the precedence of the limits.

GCRA (the generic cell rate algorithm): a limit of N per minute is one stored instant per
counter, the theoretical arrival time (TAT). Each request pushes the TAT on by the emission
interval T = ⌊60 s / N⌋; it is admitted while that leaves the TAT at most N·T ahead of now. So N
requests pass at once, then one per T; exact for every N, one key per limit, no window edges to
burst across. Everything is in whole microseconds, so both backends compute the same numbers.

`decide` is a pure function of the stored counters. The in-process backend calls it; the Redis
backend runs the same decision in Lua (`redis_limiter.lua`: the same order, arithmetic and names,
with locals where this file has the verdict's fields) inside one atomic script.
`tests/gateway/test_limits_conformance.py` runs one table of cases through both and checks they
agree with it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from termgate.gateway.traffic.plan_limits import PlanLimits

MINUTE_US = 60_000_000
SECOND_US = 1_000_000

# Which limit refused the request (0: none).
ADMITTED = 0
APP_RATE = 1
DEVELOPER_RATE = 2
QUOTA = 3
BANDWIDTH = 4
UNAVAILABLE = 5


def interval_us(per_minute: int | None) -> int:
    """The emission interval of a rate (0: no rate)."""
    return 0 if per_minute is None else max(1, MINUTE_US // per_minute)


class Verdict:
    """The outcome, the wait before a retry (µs), each counter's state for the headers, and on
    admission the TATs to store.

    For a rate: what is left and the µs until it is whole again; for the quota and the
    bandwidth: what is used so far (the limits and resets are the plan's and the calendar's).
    """

    __slots__ = (
        "app_left",
        "app_reset",
        "app_tat",
        "bandwidth_used",
        "developer_left",
        "developer_reset",
        "developer_tat",
        "quota_used",
        "refused",
        "wait",
    )

    def __init__(self) -> None:
        self.refused = ADMITTED
        self.wait = 0
        self.app_left = 0
        self.app_reset = 0
        self.app_tat = 0
        self.developer_left = 0
        self.developer_reset = 0
        self.developer_tat = 0
        self.quota_used = 0
        self.bandwidth_used = 0


def gcra(
    verdict: Verdict, limit: int, tat: int, now: int, interval: int, tolerance: int
) -> tuple[int, int, int]:
    """One rate: (the new TAT (the old one if refused), units left, µs to whole again or to
    wait when refused); a refusal is the verdict's unless an earlier limit refused."""
    base = tat if tat > now else now
    ahead = base + interval - now
    if ahead <= tolerance:
        return base + interval, (tolerance - ahead) // interval, ahead
    if not verdict.refused:
        verdict.refused, verdict.wait = limit, ahead - tolerance
    return base, 0, ahead - tolerance


def rate_state(tat: int, now: int, interval: int, tolerance: int) -> tuple[int, int]:
    """Units left and µs to whole again, without spending (for headers of refusals)."""
    ahead = tat - now if tat > now else 0
    return (tolerance - ahead) // interval, ahead


def decide(
    limits: PlanLimits, verdict: Verdict, now: int, app_tat: int, developer_tat: int
) -> None:
    """Decide one request on the stored counters: `verdict.quota_used` and
    `verdict.bandwidth_used` come in as stored. The quota is named before the bandwidth, both
    before the rates, and the application's own rate before the developer-wide one (4.4, then
    3.3 g). A refused request spends nothing; an admitted one counts one unit of quota here, and
    the backend stores the new TATs and that unit."""
    quota = limits.quota
    if quota is not None and verdict.quota_used >= quota:
        verdict.refused = QUOTA
    bandwidth = limits.bandwidth
    if bandwidth is not None and verdict.bandwidth_used >= bandwidth and not verdict.refused:
        verdict.refused = BANDWIDTH
    interval = limits.app_interval
    if interval:
        verdict.app_tat, verdict.app_left, verdict.app_reset = gcra(
            verdict, APP_RATE, app_tat, now, interval, limits.app_tolerance
        )
    interval = limits.developer_interval
    if interval:
        verdict.developer_tat, verdict.developer_left, verdict.developer_reset = gcra(
            verdict, DEVELOPER_RATE, developer_tat, now, interval, limits.developer_tolerance
        )
    if not verdict.refused and quota is not None:
        verdict.quota_used += 1
