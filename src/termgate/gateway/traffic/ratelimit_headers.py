"""The IETF RateLimit header fields (draft-ietf-httpapi-ratelimit-headers) on every response
that passed identify: `RateLimit-Policy` names the plan's limits (its text is formatted once per
plan), `RateLimit` their state after this request."""

from __future__ import annotations

from math import ceil
from typing import TYPE_CHECKING

from termgate.gateway.traffic.gcra import SECOND_US, Verdict

if TYPE_CHECKING:
    from termgate.gateway.traffic.plan_limits import PlanLimits

POLICY_HEADER = "ratelimit-policy"
STATE_HEADER = "ratelimit"
Headers = list[tuple[str, str]]


def policy_texts(
    rate: int | None,
    developer_rate: int | None,
    quota: int | None,
    quota_seconds: int | None,
    bandwidth: int | None,
) -> tuple[str, str]:
    """`RateLimit-Policy` items `"name";q=..;w=..` and the matching `RateLimit` items
    `"name";r=..;t=..` (as a %-template filled in per response)."""
    items = (
        ("app", rate, "", 60),
        ("developer", developer_rate, "", 60),
        ("quota", quota, "", quota_seconds),
        ("bandwidth", bandwidth, ';qu="content-bytes"', 86_400),
    )
    policies: list[str] = []
    states: list[str] = []
    for name, limit, unit, window in items:
        if limit is not None:
            policies.append(f'"{name}";q={limit}{unit};w={window}')
            states.append(f'"{name}";r=%d;t=%d')
    return ", ".join(policies), ", ".join(states)


def seconds(value: float) -> int:
    """Whole seconds, rounded up, of a span in seconds."""
    return max(0, ceil(value - 1e-6))


def seconds_of_us(value: int) -> int:
    """Whole seconds, rounded up, of a span in µs."""
    return max(0, -(-value // SECOND_US))


def rate_headers(limits: PlanLimits, verdict: Verdict, now: float) -> Headers:
    """On every response past identify: the reset arithmetic is written out here rather than
    through `seconds`/`seconds_of_us` (a function call each, on the request path)."""
    values: list[int] = []
    if limits.rate is not None:
        reset = -(-verdict.app_reset // SECOND_US)
        values += (verdict.app_left, reset if reset > 0 else 0)
    if limits.developer_rate is not None:
        reset = -(-verdict.developer_reset // SECOND_US)
        values += (verdict.developer_left, reset if reset > 0 else 0)
    if limits.quota is not None or limits.bandwidth is not None:
        periods = limits.periods.at(now)
        if limits.quota is not None:
            left = limits.quota - verdict.quota_used
            reset = ceil(periods.quota.ends - now - 1e-6)
            values += (left if left > 0 else 0, reset if reset > 0 else 0)
        if limits.bandwidth is not None:
            left = limits.bandwidth - verdict.bandwidth_used
            reset = ceil(periods.day.ends - now - 1e-6)
            values += (left if left > 0 else 0, reset if reset > 0 else 0)
    return [limits.policy_item, (STATE_HEADER, limits.state_template % tuple(values))]
