"""The problems the counters answer with (clauses 3.3 f-g and 4.4): which limit refused, when
it renews, and when to retry."""

from __future__ import annotations

from datetime import datetime

from termgate.gateway.exchange import Exchange, refuse
from termgate.gateway.traffic.gcra import (
    APP_RATE,
    BANDWIDTH,
    DEVELOPER_RATE,
    QUOTA,
    UNAVAILABLE,
    Verdict,
)
from termgate.gateway.traffic.plan_limits import PlanLimits
from termgate.gateway.traffic.ratelimit_headers import seconds, seconds_of_us
from termgate.problems import (
    BANDWIDTH_EXHAUSTED,
    DEVELOPER_RATE_LIMITED,
    LIMITER_UNAVAILABLE,
    QUOTA_EXHAUSTED,
    RATE_LIMITED,
    ProblemResponse,
)


def _reset_at(limits: PlanLimits, ends: float) -> str:
    return datetime.fromtimestamp(ends, limits.calendar.tz).isoformat()


def refusal(
    exchange: Exchange, limits: PlanLimits, verdict: Verdict, now: float
) -> ProblemResponse:
    refused = verdict.refused
    if refused == QUOTA:
        ends = limits.quota_period(now).ends
        days = limits.rolling_days
        period = "this calendar month" if days is None else f"the last {days} days"
        reset_at = _reset_at(limits, ends)
        return refuse(
            exchange,
            QUOTA_EXHAUSTED,
            f"Your plan's quota of {limits.quota} requests for {period} is used up; "
            f"it renews at {reset_at}. Upgrade your plan for more.",
            resetAt=reset_at,
        )
    if refused == BANDWIDTH:
        ends = limits.calendar.day(now).ends
        problem = refuse(
            exchange,
            BANDWIDTH_EXHAUSTED,
            f"Your application has used its {limits.bandwidth} bytes of responses for today; "
            f"the budget renews at {_reset_at(limits, ends)}.",
            resetAt=_reset_at(limits, ends),
        )
        problem.headers.append(("retry-after", str(seconds(ends - now))))
        return problem
    if refused == UNAVAILABLE:
        problem = refuse(
            exchange,
            LIMITER_UNAVAILABLE,
            "The gateway cannot check your plan's limits right now; retry shortly.",
        )
    elif refused == DEVELOPER_RATE:
        problem = refuse(
            exchange,
            DEVELOPER_RATE_LIMITED,
            f"Your developer account may send {limits.developer_rate} requests per minute on "
            "this plan across all its applications and keys; retry later.",
        )
    else:
        assert refused == APP_RATE
        problem = refuse(
            exchange,
            RATE_LIMITED,
            f"Your application may send {limits.rate} requests per minute on this plan; "
            "retry later.",
        )
    problem.headers.append(("retry-after", str(max(1, seconds_of_us(verdict.wait)))))
    return problem
