"""A plan's limits as the gateway enforces them (clauses 3.3 e-h and 4.4), built once per plan
when the access snapshot loads, with the `RateLimit-Policy` header text already formatted."""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

from termgate.db.models import Plan
from termgate.gateway.traffic.periods import Window, ZoneCalendar, calendar
from termgate.strict import whole_number

MINUTE = 60.0
POLICY_HEADER = "ratelimit-policy"
STATE_HEADER = "ratelimit"


def rolling_days(period: str) -> int | None:
    """None for "month", N for "rolling:N"; a malformed period counts as the calendar month."""
    kind, _, days = period.partition(":")
    count = whole_number(days) if kind == "rolling" else None
    return min(count, 366) if count else None


@dataclass(frozen=True, slots=True)
class PlanLimits:
    """None means unlimited. Rates are per minute; the quota per period; bandwidth per day."""

    plan_id: str = ""
    rate: int | None = None
    developer_rate: int | None = None
    quota: int | None = None
    rolling_days: int | None = None
    zone: str = "UTC"
    bandwidth: int | None = None
    max_response_bytes: int | None = None
    max_end_users: int | None = None
    max_debtors: int | None = None
    # Requests of one application under way at once on this node (clause 3.3 f).
    max_in_flight: int | None = None
    # Whether any counter applies (rate, quota or bandwidth): then the limiter is asked.
    counted: bool = False
    # The `RateLimit-Policy` value, and a %-template of the `RateLimit` value (see headers.py).
    policy_header: str = ""
    state_template: str = ""

    @property
    def calendar(self) -> ZoneCalendar:
        return calendar(self.zone)

    def quota_window(self, now: float) -> Window:
        clock = calendar(self.zone)
        days = self.rolling_days
        return clock.month(now) if days is None else clock.rolling(days, now)


UNLIMITED = PlanLimits()


def _policy_texts(limits: PlanLimits, now: float) -> tuple[str, str]:
    """draft-ietf-httpapi-ratelimit-headers: `RateLimit-Policy` items `"name";q=..;w=..` and the
    matching `RateLimit` items `"name";r=..;t=..` (as a template filled in per response)."""
    policies: list[str] = []
    states: list[str] = []
    if limits.rate is not None:
        policies.append(f'"app";q={limits.rate};w=60')
        states.append('"app";r=%d;t=%d')
    if limits.developer_rate is not None:
        policies.append(f'"developer";q={limits.developer_rate};w=60')
        states.append('"developer";r=%d;t=%d')
    if limits.quota is not None:
        seconds = limits.quota_window(now).seconds
        policies.append(f'"quota";q={limits.quota};w={seconds}')
        states.append('"quota";r=%d;t=%d')
    if limits.bandwidth is not None:
        policies.append(f'"bandwidth";q={limits.bandwidth};qu="content-bytes";w=86400')
        states.append('"bandwidth";r=%d;t=%d')
    return ", ".join(policies), ", ".join(states)


def plan_limits(plan: Plan, now: float | None = None) -> PlanLimits:
    rate = plan.rate_limit_per_minute
    developer_rate = plan.developer_rate_limit_per_minute
    if developer_rate is None:
        developer_rate = rate  # extra applications or keys do not multiply the limit (3.3 g)
    limits = PlanLimits(
        plan_id=plan.id,
        rate=rate,
        developer_rate=developer_rate,
        quota=plan.quota_per_period,
        rolling_days=rolling_days(plan.quota_period or "month"),
        zone=plan.time_zone or "UTC",
        bandwidth=plan.bandwidth_bytes_per_day,
        max_response_bytes=plan.max_response_bytes,
        max_end_users=plan.max_end_users,
        max_debtors=plan.max_debtors,
        max_in_flight=plan.max_in_flight,
    )
    counted = any(
        value is not None for value in (rate, developer_rate, limits.quota, limits.bandwidth)
    )
    if not counted:
        return limits
    policy, template = _policy_texts(limits, time.time() if now is None else now)
    return replace(limits, counted=True, policy_header=policy, state_template=template)
