"""A plan's limits as the gateway enforces them (clauses 3.3 e-h and 4.4), built once per plan
when the access snapshot loads, with the GCRA intervals and the `RateLimit-Policy` header text
already worked out."""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Protocol

from termgate.db.models import Plan
from termgate.gateway.traffic.gcra import interval_us
from termgate.gateway.traffic.periods import Period, PlanPeriods, ZoneCalendar, calendar
from termgate.gateway.traffic.ratelimit_headers import POLICY_HEADER, policy_texts
from termgate.strict import whole_number


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
    # The `RateLimit-Policy` value, and a %-template of the `RateLimit` value
    # (`ratelimit_headers`).
    policy_header: str = ""
    state_template: str = ""
    # The `RateLimit-Policy` header as the response carries it, made once.
    policy_item: tuple[str, str] = field(init=False, default=(POLICY_HEADER, ""))
    # The rates' GCRA emission intervals and tolerances in µs (`gcra`; 0: no rate).
    app_interval: int = field(init=False, default=0)
    app_tolerance: int = field(init=False, default=0)
    developer_interval: int = field(init=False, default=0)
    developer_tolerance: int = field(init=False, default=0)
    # The current quota period and day, kept while they hold (`periods.PlanPeriods`).
    periods: PlanPeriods = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "policy_item", (POLICY_HEADER, self.policy_header))
        object.__setattr__(self, "periods", PlanPeriods(self.zone, self.rolling_days))
        for name, rate in (("app", self.rate), ("developer", self.developer_rate)):
            interval = interval_us(rate)
            object.__setattr__(self, f"{name}_interval", interval)
            object.__setattr__(self, f"{name}_tolerance", interval * (rate or 0))

    @property
    def calendar(self) -> ZoneCalendar:
        return calendar(self.zone)

    def quota_period(self, now: float) -> Period:
        return self.periods.at(now).quota


UNLIMITED = PlanLimits()


class Counted(Protocol):
    """What a limiter needs of a key's grant (`snapshot.KeyGrant`)."""

    @property
    def key_id(self) -> str: ...
    @property
    def limits(self) -> PlanLimits: ...
    @property
    def app_counter(self) -> str: ...
    @property
    def developer_counter(self) -> str: ...


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
    quota_seconds = None
    if limits.quota is not None:
        quota_seconds = limits.quota_period(time.time() if now is None else now).seconds
    policy, template = policy_texts(
        rate, developer_rate, limits.quota, quota_seconds, limits.bandwidth
    )
    return replace(limits, counted=True, policy_header=policy, state_template=template)
